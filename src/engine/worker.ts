/**
 * Worker-thread entry: a thin forwarder from the typed channel (src/protocol/worker.ts) to the operation table.
 * Everything heavy runs here, never on the extension host thread.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { collectTransferables, isHostToWorker, WORKER_PROTOCOL_VERSION, type WorkerToHost } from '../protocol/worker';
import { createOperations, type OperationContext } from './operations';
import { EngineError } from './errors';
import { EngineService } from './service';

if (!parentPort) throw new Error('engine-worker must run inside a worker thread');
const port = parentPort;
const init = (workerData ?? {}) as { debugOps?: unknown; packCache?: unknown };
const service = new EngineService(undefined, typeof init.packCache === 'string' && init.packCache !== '' ? init.packCache : undefined);
const operations = createOperations({ debugOps: Boolean(init.debugOps), service });
let cancelFlags: Int32Array | undefined;

function send(msg: WorkerToHost, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

port.on('message', async (raw: unknown) => {
  if (!isHostToWorker(raw)) {
    console.error('[engine-worker] dropped malformed message');
    return;
  }
  if (raw.kind === 'init') {
    cancelFlags = new Int32Array(raw.cancelFlags);
    return;
  }
  if (raw.kind === 'configure') {
    service.packCache = raw.packCache ?? undefined;
    return;
  }
  const { id, op, args, cancelSlot } = raw;
  const flags = cancelFlags;
  const ctx: OperationContext = {
    isCancelled: () => cancelSlot >= 0 && flags !== undefined && Atomics.load(flags, cancelSlot) === id + 1,
    throwIfCancelled() {
      if (this.isCancelled()) throw new EngineError('CANCELLED', 'The run was cancelled.');
    },
    progress: (stage, done, total, partial) =>
      send({ v: WORKER_PROTOCOL_VERSION, kind: 'progress', inReplyTo: id, stage, done, total, partial }, collectTransferables(partial)),
  };
  try {
    const handler = operations[op];
    if (!handler) throw new EngineError('BAD_INPUT', `Unknown engine operation "${op}".`);
    const result = await handler(args, ctx);
    send({ v: WORKER_PROTOCOL_VERSION, kind: 'result', inReplyTo: id, result }, collectTransferables(result));
  } catch (e) {
    const err = e instanceof EngineError ? e : new EngineError('INTERNAL', e instanceof Error ? e.message : String(e));
    send({ v: WORKER_PROTOCOL_VERSION, kind: 'error', inReplyTo: id, error: { code: err.code, message: err.message, hint: err.hint } });
  }
});

send({ v: WORKER_PROTOCOL_VERSION, kind: 'ready', threadId });
