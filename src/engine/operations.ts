/**
 * The engine's operation table: what a worker can be asked to do, by name. Each handler validates its own
 * arguments (they crossed a thread boundary) and returns structured-cloneable results with typed arrays.
 */
import { threadId } from 'node:worker_threads';
import { EngineError } from './errors';

export interface OperationContext {
  /** True once the host has cancelled this request (polled between layers). */
  isCancelled(): boolean;
  throwIfCancelled(): void;
  /** Streams a progress event; `partial` may carry an early result such as the first layer's attention. */
  progress(stage: string, done: number, total: number, partial?: unknown): void;
}

export type Operation = (args: unknown, ctx: OperationContext) => unknown | Promise<unknown>;
export type OperationTable = Record<string, Operation>;

export function createOperations(options: { debugOps?: boolean } = {}): OperationTable {
  const ops: OperationTable = {
    ping: () => ({ threadId, pid: process.pid }),
  };
  if (options.debugOps) Object.assign(ops, debugOperations());
  return ops;
}

/** Operations used only by tests of the pool itself: a cancellable busy loop and a crash. */
function debugOperations(): OperationTable {
  return {
    'debug.spin': (args, ctx) => {
      const ms = typeof args === 'object' && args !== null && typeof (args as { ms?: unknown }).ms === 'number' ? (args as { ms: number }).ms : 1000;
      const start = Date.now();
      let steps = 0;
      while (Date.now() - start < ms) {
        ctx.throwIfCancelled();
        if (++steps % 1000 === 0) ctx.progress('spin', Date.now() - start, ms);
      }
      return { spunMs: Date.now() - start };
    },
    /** Busy for `ms` without ever checking the cancel flag, like a kernel stuck in a long loop. */
    'debug.block': (args) => {
      const ms = typeof args === 'object' && args !== null && typeof (args as { ms?: unknown }).ms === 'number' ? (args as { ms: number }).ms : 1000;
      const start = Date.now();
      while (Date.now() - start < ms) { /* deliberately deaf to cancellation */ }
      return { blockedMs: Date.now() - start };
    },
    'debug.crash': () => {
      process.exit(3); // ends this worker thread only
    },
    'debug.throw': () => {
      throw new EngineError('BAD_INPUT', 'debug.throw was called');
    },
  };
}
