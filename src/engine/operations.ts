/**
 * The engine's operation table: what a worker can be asked to do, by name. Each handler validates its own
 * arguments (they crossed a thread boundary) and returns structured-cloneable results with typed arrays.
 */
import { threadId } from 'node:worker_threads';
import { EngineError } from './errors';
import { EngineService } from './service';

export interface OperationContext {
  /** True once the host has cancelled this request (polled between layers). */
  isCancelled(): boolean;
  throwIfCancelled(): void;
  /** Streams a progress event; `partial` may carry an early result such as the first layer's attention. */
  progress(stage: string, done: number, total: number, partial?: unknown): void;
}

export type Operation = (args: unknown, ctx: OperationContext) => unknown | Promise<unknown>;
export type OperationTable = Record<string, Operation>;

export function createOperations(options: { debugOps?: boolean; service?: EngineService } = {}): OperationTable {
  const engine = options.service ?? new EngineService();
  const ops: OperationTable = {
    ping: () => ({ threadId, pid: process.pid }),
    'model.load': (args) => engine.load(str(args, 'dir')),
    'model.finishPacking': () => engine.finishPacking(),
    tokenize: (args) => engine.tokenize(str(args, 'dir'), str(args, 'text', true), optBool(args, 'addSpecialTokens') ?? true),
    analyze: (args, ctx) => engine.analyze({
      dir: str(args, 'dir'), text: str(args, 'text', true), target: optStr(args, 'target'), maxTokens: optNat(args, 'maxTokens'),
    }, ctx),
    slice: (args) => engine.slice(field(args, 'traceId'), field(args, 'request')),
    hover: (args) => engine.hover({
      traceId: str(args, 'traceId'), position: nat(args, 'position'), layer: optNat(args, 'layer'), head: optNat(args, 'head'), k: optNat(args, 'k'),
    }),
    maskToken: (args) => engine.maskToken(field(args, 'traceId'), field(args, 'position'), optNat(args, 'k')),
    generate: (args, ctx) => engine.generate({
      dir: str(args, 'dir'), text: str(args, 'text', true), target: optStr(args, 'target'), maxNewTokens: Math.min(nat(args, 'maxNewTokens'), 2048),
      temperature: optNum(args, 'temperature'), seed: optNat(args, 'seed'),
    }, ctx),
    export: (args) => {
      const positions = field(args, 'positions');
      if (positions !== undefined && !(Array.isArray(positions) && positions.every((p) => Number.isSafeInteger(p)))) throw new EngineError('BAD_INPUT', '"positions" must be a list of positions.');
      return engine.exportTrace(field(args, 'traceId'), positions as number[] | undefined);
    },
    release: (args) => engine.release(field(args, 'traceId')),
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

// ---- argument checks: requests cross a thread boundary, so nothing is trusted ----

function field(args: unknown, key: string): unknown {
  if (typeof args !== 'object' || args === null) throw new EngineError('BAD_INPUT', 'Missing request arguments.');
  return (args as Record<string, unknown>)[key];
}
function str(args: unknown, key: string, allowEmpty = false): string {
  const v = field(args, key);
  if (typeof v !== 'string' || (!allowEmpty && v.length === 0)) throw new EngineError('BAD_INPUT', `"${key}" must be a ${allowEmpty ? '' : 'non-empty '}string.`);
  return v;
}
function optStr(args: unknown, key: string): string | undefined {
  return field(args, key) === undefined ? undefined : str(args, key, true);
}
function nat(args: unknown, key: string): number {
  const v = field(args, key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new EngineError('BAD_INPUT', `"${key}" must be a whole number ≥ 0.`);
  return v;
}
function optNat(args: unknown, key: string): number | undefined {
  return field(args, key) === undefined ? undefined : nat(args, key);
}
function optNum(args: unknown, key: string): number | undefined {
  const v = field(args, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EngineError('BAD_INPUT', `"${key}" must be a finite number.`);
  return v;
}
function optBool(args: unknown, key: string): boolean | undefined {
  const v = field(args, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new EngineError('BAD_INPUT', `"${key}" must be true or false.`);
  return v;
}
