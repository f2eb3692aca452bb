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
let inFlight = 0;
let packing = false;
let stopping = false;

/**
 * Weights opened fast at load are brought to full speed between requests (EngineService.packStep), one step
 * (≤ ~0.1 s) per turn of the event loop, so a request that arrives meanwhile waits for one step at most.
 */
function packWhileIdle(): void {
  if (packing) return;
  packing = true;
  const step = () => {
    if (!stopping && inFlight === 0 && service.packStep()) setImmediate(step);
    else packing = false; // done, or resumed when the running request ends
  };
  setImmediate(step);
}

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
  if (raw.kind === 'stop') {
    // With the port closed and no step queued, the thread's event loop ends and the worker exits by itself.
    stopping = true;
    service.dispose();
    port.close();
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
  inFlight++;
  try {
    const handler = operations[op];
    if (!handler) throw new EngineError('BAD_INPUT', `Unknown engine operation "${op}".`);
    const result = await handler(args, ctx);
    send({ v: WORKER_PROTOCOL_VERSION, kind: 'result', inReplyTo: id, result }, collectTransferables(result));
  } catch (e) {
    const err = e instanceof EngineError ? e : new EngineError('INTERNAL', e instanceof Error ? e.message : String(e));
    send({ v: WORKER_PROTOCOL_VERSION, kind: 'error', inReplyTo: id, error: { code: err.code, message: err.message, hint: err.hint } });
  } finally {
    inFlight--;
    packWhileIdle();
  }
});

send({ v: WORKER_PROTOCOL_VERSION, kind: 'ready', threadId });
