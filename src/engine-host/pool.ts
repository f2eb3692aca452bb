/**
 * A small pool of engine worker threads, seen from the extension host (or the CLI/bench).
 *
 * - Lanes: each lane is one worker, created on first use (e.g. "model" runs traces, "tokenize" answers the status
 *   bar's cheap token counts without waiting behind a long trace). A worker holds the models it loaded.
 * - Cancellation: requests on the same `channel` supersede each other; the older one is rejected at once with
 *   CANCELLED and its cancel flag (shared memory) is raised so the worker stops at its next check. If it does not
 *   stop within `cancelGraceMs`, the worker is terminated and restarted.
 * - Crashes: when a worker exits or throws, every request it held is rejected with WORKER_CRASHED and the next
 *   request starts a fresh worker; `generation(lane)` lets callers notice and reload their model.
 * - The host thread never waits on engine work: everything here is message passing.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { EngineError } from '../engine/errors';
import {
  isWorkerToHost,
  WORKER_PROTOCOL_VERSION,
  type HostToWorker,
  type WorkerProgress,
  type WorkerToHost,
} from '../protocol/worker';

export interface EnginePoolOptions {
  /** Absolute path of the bundled worker script (dist/engine-worker.js). */
  workerScript: string;
  /** Exposes test-only operations (debug.spin, debug.crash) in the workers. */
  debugOps?: boolean;
  /** How long a cancelled request may keep its worker busy before the worker is replaced. */
  cancelGraceMs?: number;
  /** Retire a worker that has had no request for this long (its models are dropped with it). 0 = never. */
  idleTimeoutMs?: number;
  /** Folder where workers keep weights between loads (LoadOptions.packCache); none by default. See configure(). */
  packCache?: string;
  /** Memory limits for each worker (a runaway model fails its worker, not the host). */
  resourceLimits?: ResourceLimits;
  log?: (message: string) => void;
}

export interface ProgressEvent {
  stage: string;
  done: number;
  total: number;
  partial?: unknown;
}

export interface RequestOptions {
  /** Which worker runs it (default "model"). */
  lane?: string;
  /** A newer request on the same channel cancels this one. */
  channel?: string;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  /** ArrayBuffers inside `args` to transfer rather than copy. */
  transfer?: ArrayBuffer[];
}

interface Pending {
  id: number;
  op: string;
  lane: string;
  channel?: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  onProgress?: (event: ProgressEvent) => void;
  settled: boolean;
  graceTimer?: NodeJS.Timeout;
  abortCleanup?: () => void;
}

interface LaneWorker {
  worker: Worker;
  pending: Map<number, Pending>;
  generation: number;
  idleTimer?: NodeJS.Timeout;
  /** No longer serves requests (it exited, or is being stopped). */
  exited: boolean;
  /** The thread has ended. */
  gone: boolean;
}

const CANCEL_SLOTS = 1024;
/** How long a worker asked to stop may take before it is terminated. */
const STOP_GRACE_MS = 3000;

export class EnginePool {
  private readonly lanes = new Map<string, LaneWorker>();
  private packCache: string | undefined;
  private readonly generations = new Map<string, number>();
  private readonly byChannel = new Map<string, Pending>();
  private nextId = 1;
  private disposed = false;
  private readonly cancelFlags = new Int32Array(new SharedArrayBuffer(CANCEL_SLOTS * 4));
  private readonly log: (message: string) => void;

  constructor(private readonly options: EnginePoolOptions) {
    this.packCache = options.packCache;
    this.log = options.log ?? (() => undefined);
  }

  /** Runs `op` in the lane's worker and resolves with its result. */
  request<T = unknown>(op: string, args: unknown, options: RequestOptions = {}): Promise<T> {
    if (this.disposed) return Promise.reject(new EngineError('INTERNAL', 'The engine pool has been disposed.'));
    if (options.signal?.aborted) return Promise.reject(new EngineError('CANCELLED', 'The run was cancelled.'));
    const laneName = options.lane ?? 'model';
    const lane = this.lane(laneName);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        id, op, lane: laneName, channel: options.channel, onProgress: options.onProgress, settled: false,
        resolve: (v) => resolve(v as T), reject,
      };
      if (options.channel) {
        const older = this.byChannel.get(options.channel);
        if (older) this.cancelPending(older, 'superseded by a newer request');
        this.byChannel.set(options.channel, pending);
      }
      if (options.signal) {
        const onAbort = () => this.cancelPending(pending, 'aborted');
        options.signal.addEventListener('abort', onAbort, { once: true });
        pending.abortCleanup = () => options.signal?.removeEventListener('abort', onAbort);
      }
      lane.pending.set(id, pending);
      if (lane.idleTimer) clearTimeout(lane.idleTimer);
      Atomics.store(this.cancelFlags, id % CANCEL_SLOTS, 0);
      const msg: HostToWorker = { v: WORKER_PROTOCOL_VERSION, kind: 'request', id, op, args, cancelSlot: id % CANCEL_SLOTS };
      lane.worker.postMessage(msg, options.transfer ?? []);
    });
  }

  ping(lane = 'model'): Promise<{ threadId: number; pid: number }> {
    return this.request('ping', null, { lane });
  }

  /** Cancels the request running on `channel`, if any. */
  cancel(channel: string): void {
    const p = this.byChannel.get(channel);
    if (p) this.cancelPending(p, 'cancelled');
  }

  /** Increments every time the lane's worker is (re)started; callers reload models when it changes. */
  generation(lane = 'model'): number {
    return this.generations.get(lane) ?? 0;
  }

  /** Changes the pack-cache folder (undefined: none) for every worker, running or started later. */
  configure(settings: { packCache?: string }): void {
    this.packCache = settings.packCache;
    for (const lane of this.lanes.values()) {
      if (!lane.exited) lane.worker.postMessage({ v: WORKER_PROTOCOL_VERSION, kind: 'configure', packCache: this.packCache ?? null } satisfies HostToWorker);
    }
  }

  /** Number of requests not yet answered, across lanes. */
  get busy(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.pending.size;
    return n;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const all = [...this.lanes.values()];
    this.lanes.clear();
    for (const lane of all) {
      this.failAll(lane, new EngineError('CANCELLED', 'The engine was shut down.'));
      if (lane.idleTimer) clearTimeout(lane.idleTimer);
    }
    await Promise.all(all.map((l) => this.stop(l)));
  }

  /**
   * Asks a worker to exit by itself (it finishes the native call it is in first; see WorkerStop) and terminates
   * it only if it has not within `STOP_GRACE_MS`, e.g. stuck in a long run.
   */
  private async stop(lane: LaneWorker): Promise<void> {
    if (lane.gone) return;
    const exited = new Promise<boolean>((resolve) => {
      lane.worker.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), STOP_GRACE_MS).unref?.();
    });
    try {
      lane.worker.postMessage({ v: WORKER_PROTOCOL_VERSION, kind: 'stop' } satisfies HostToWorker);
    } catch {
      return; // already gone
    }
    if (!(await exited)) await lane.worker.terminate().catch(() => undefined);
  }

  private lane(name: string): LaneWorker {
    const existing = this.lanes.get(name);
    if (existing && !existing.exited) return existing;
    const generation = (this.generations.get(name) ?? 0) + 1;
    this.generations.set(name, generation);
    const worker = new Worker(this.options.workerScript, {
      workerData: { debugOps: this.options.debugOps ?? false, packCache: this.packCache ?? '' },
      resourceLimits: this.options.resourceLimits,
    });
    const lane: LaneWorker = { worker, pending: new Map(), generation, exited: false, gone: false };
    this.lanes.set(name, lane);
    worker.postMessage({ v: WORKER_PROTOCOL_VERSION, kind: 'init', cancelFlags: this.cancelFlags.buffer as SharedArrayBuffer } satisfies HostToWorker);
    worker.on('message', (raw: unknown) => {
      if (!isWorkerToHost(raw)) {
        this.log(`[engine-pool] dropped malformed message from worker "${name}"`);
        return;
      }
      if (raw.kind !== 'ready') this.onReply(lane, raw);
    });
    worker.on('error', (err) => {
      this.log(`[engine-pool] worker "${name}" failed: ${err.message}`);
      this.onExit(name, lane, `the engine worker failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      lane.gone = true;
      this.onExit(name, lane, `the engine worker stopped unexpectedly (exit code ${code})`);
    });
    worker.unref(); // never keep the host process alive just for an idle engine
    return lane;
  }

  private onReply(lane: LaneWorker, msg: Exclude<WorkerToHost, { kind: 'ready' }>): void {
    const p = lane.pending.get(msg.inReplyTo);
    if (!p) return;
    if (msg.kind === 'progress') {
      if (!p.settled) p.onProgress?.(progressOf(msg));
      return;
    }
    lane.pending.delete(p.id);
    if (p.graceTimer) clearTimeout(p.graceTimer);
    this.scheduleIdle(lane);
    if (p.settled) return; // cancelled earlier; the worker has now stopped
    if (msg.kind === 'result') this.settle(p, () => p.resolve(msg.result));
    else this.settle(p, () => p.reject(new EngineError(asCode(msg.error.code), msg.error.message, msg.error.hint)));
  }

  private onExit(name: string, lane: LaneWorker, why: string): void {
    if (lane.exited) return;
    lane.exited = true;
    if (lane.idleTimer) clearTimeout(lane.idleTimer);
    if (this.lanes.get(name) === lane) this.lanes.delete(name);
    if (this.disposed) return;
    this.failAll(lane, new EngineError('WORKER_CRASHED', `${why[0].toUpperCase()}${why.slice(1)}; it will be restarted on the next request.`,
      'Run the command again. If it keeps failing, the model may be too large for memory.'));
  }

  private failAll(lane: LaneWorker, error: EngineError): void {
    for (const p of lane.pending.values()) {
      if (p.graceTimer) clearTimeout(p.graceTimer);
      if (!p.settled) this.settle(p, () => p.reject(error));
    }
    lane.pending.clear();
  }

  private cancelPending(p: Pending, why: string): void {
    if (p.settled) return;
    Atomics.store(this.cancelFlags, p.id % CANCEL_SLOTS, p.id + 1);
    this.settle(p, () => p.reject(new EngineError('CANCELLED', `The run was ${why}.`)));
    const lane = this.lanes.get(p.lane);
    if (!lane || !lane.pending.has(p.id)) return;
    const grace = this.options.cancelGraceMs ?? 5000;
    p.graceTimer = setTimeout(() => {
      if (!lane.pending.has(p.id) || lane.exited) return;
      this.log(`[engine-pool] "${p.op}" ignored cancellation for ${grace} ms; restarting the "${p.lane}" worker`);
      void lane.worker.terminate();
    }, grace);
    p.graceTimer.unref?.();
  }

  private settle(p: Pending, action: () => void): void {
    p.settled = true;
    p.abortCleanup?.();
    if (p.channel && this.byChannel.get(p.channel) === p) this.byChannel.delete(p.channel);
    action();
  }

  private scheduleIdle(lane: LaneWorker): void {
    const ms = this.options.idleTimeoutMs ?? 0;
    if (ms <= 0 || lane.pending.size > 0) return;
    if (lane.idleTimer) clearTimeout(lane.idleTimer);
    lane.idleTimer = setTimeout(() => {
      if (lane.pending.size === 0 && !lane.exited) {
        lane.exited = true;
        for (const [k, v] of this.lanes) if (v === lane) this.lanes.delete(k);
        void this.stop(lane);
      }
    }, ms);
    lane.idleTimer.unref?.();
  }
}

function progressOf(msg: WorkerProgress): ProgressEvent {
  return { stage: msg.stage, done: msg.done, total: msg.total, partial: msg.partial };
}

const KNOWN_CODES = new Set(['MISSING_FILE', 'BAD_SAFETENSORS', 'BAD_CONFIG', 'BAD_TOKENIZER', 'BAD_CHECKPOINT', 'UNSUPPORTED_MODEL', 'BAD_INPUT', 'CANCELLED', 'WORKER_CRASHED', 'INTERNAL']);
function asCode(code: string): ConstructorParameters<typeof EngineError>[0] {
  return (KNOWN_CODES.has(code) ? code : 'INTERNAL') as ConstructorParameters<typeof EngineError>[0];
}
