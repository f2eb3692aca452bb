/**
 * The extension-host ↔ engine-worker channel. Both sides import this file; every receive runs a guard first.
 *
 * Envelope: a request carries `id`; the worker answers with exactly one `result` or `error` whose `inReplyTo` is
 * that id, and may send any number of `progress` events in between. Big arrays travel as transferred
 * ArrayBuffers inside `result` payloads, never as JSON number lists.
 *
 * Cancellation cannot be a message: while a forward pass runs the worker's event loop is busy. Instead each
 * request gets a slot in a SharedArrayBuffer (`cancelSlot`) that the engine polls between layers.
 */

export const WORKER_PROTOCOL_VERSION = 1;

/** What an engine operation is asked to do. `op` names a handler in the worker's operation table. */
export interface WorkerRequest {
  readonly v: typeof WORKER_PROTOCOL_VERSION;
  readonly kind: 'request';
  readonly id: number;
  readonly op: string;
  /** Structured-cloneable arguments of the operation (validated by the handler). */
  readonly args: unknown;
  /** Index into the shared cancel flags; -1 when the request cannot be cancelled. */
  readonly cancelSlot: number;
}

/** Sent once, right after the worker starts, with the shared cancel-flag buffer it should watch. */
export interface WorkerInit {
  readonly v: typeof WORKER_PROTOCOL_VERSION;
  readonly kind: 'init';
  readonly cancelFlags: SharedArrayBuffer;
}

/** Engine settings that may change while the worker runs (applied to models loaded afterwards). */
export interface WorkerConfigure {
  readonly v: typeof WORKER_PROTOCOL_VERSION;
  readonly kind: 'configure';
  /** Folder for weights kept between loads (LoadOptions.packCache), or null for none. */
  readonly packCache: string | null;
}

/**
 * Asks the worker to release its model and exit on its own, between native calls: terminating a worker while
 * a native call runs (an ONNX Runtime session being created, say) can abort the whole process.
 */
export interface WorkerStop {
  readonly v: typeof WORKER_PROTOCOL_VERSION;
  readonly kind: 'stop';
}

export type HostToWorker = WorkerRequest | WorkerInit | WorkerConfigure | WorkerStop;

export interface WorkerResult {
  readonly v: typeof WORKER_PROTOCOL_VERSION;
  readonly kind: 'result';
  readonly inReplyTo: number;
  readonly result: unknown;
}

export interface WorkerErrorPayload {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export interface WorkerFailure {
  readonly v: typeof WORKER_PROTOCOL_VERSION;
  readonly kind: 'error';
  readonly inReplyTo: number;
  readonly error: WorkerErrorPayload;
}

export interface WorkerProgress {
  readonly v: typeof WORKER_PROTOCOL_VERSION;
  readonly kind: 'progress';
  readonly inReplyTo: number;
  /** Short stage name, e.g. "load", "tokenize", "layer". */
  readonly stage: string;
  readonly done: number;
  readonly total: number;
  /** Optional structured-cloneable partial result (e.g. tokens + layer 0 attention for a first view). */
  readonly partial?: unknown;
}

/** Sent once when the worker's module has loaded and it can take requests. */
export interface WorkerReady {
  readonly v: typeof WORKER_PROTOCOL_VERSION;
  readonly kind: 'ready';
  readonly threadId: number;
}

export type WorkerToHost = WorkerResult | WorkerFailure | WorkerProgress | WorkerReady;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isId(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

export function isHostToWorker(x: unknown): x is HostToWorker {
  if (!isObject(x) || x.v !== WORKER_PROTOCOL_VERSION) return false;
  switch (x.kind) {
    case 'request':
      return isId(x.id) && typeof x.op === 'string' && x.op.length > 0 && x.op.length <= 64 && 'args' in x &&
        typeof x.cancelSlot === 'number' && Number.isInteger(x.cancelSlot) && x.cancelSlot >= -1;
    case 'init':
      return x.cancelFlags instanceof SharedArrayBuffer;
    case 'stop':
      return true;
    case 'configure':
      return x.packCache === null || (typeof x.packCache === 'string' && x.packCache.length > 0 && x.packCache.length <= 4096 && !x.packCache.includes('\0'));
    default:
      return false;
  }
}

export function isWorkerToHost(x: unknown): x is WorkerToHost {
  if (!isObject(x) || x.v !== WORKER_PROTOCOL_VERSION) return false;
  switch (x.kind) {
    case 'result':
      return isId(x.inReplyTo) && 'result' in x;
    case 'error':
      return isId(x.inReplyTo) && isObject(x.error) && typeof x.error.code === 'string' && typeof x.error.message === 'string' &&
        (x.error.hint === undefined || typeof x.error.hint === 'string');
    case 'progress':
      return isId(x.inReplyTo) && typeof x.stage === 'string' && typeof x.done === 'number' && typeof x.total === 'number';
    case 'ready':
      return typeof x.threadId === 'number';
    default:
      return false;
  }
}

/**
 * Collects the ArrayBuffers under a result so postMessage can transfer (not copy) them. A typed array that is a
 * view on part of a larger buffer is not transferred (that would detach memory the sender still uses).
 */
export function collectTransferables(value: unknown, out: ArrayBuffer[] = [], seen = new Set<unknown>()): ArrayBuffer[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof ArrayBuffer) {
    if (!out.includes(value)) out.push(value);
    return out;
  }
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    if (buf instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buf.byteLength && !out.includes(buf)) out.push(buf);
    return out;
  }
  if (value instanceof Map) {
    for (const v of value.values()) collectTransferables(v, out, seen);
    return out;
  }
  for (const v of Object.values(value as Record<string, unknown>)) collectTransferables(v, out, seen);
  return out;
}
