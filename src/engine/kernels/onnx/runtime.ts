/**
 * Loads onnxruntime-node's native binding, which is optional: the package ships CPU binaries for
 * linux-x64/arm64, win32-x64/arm64 and darwin-arm64 only, and a packaged extension may leave it out.
 * We call the binding's synchronous `run` directly (the public `InferenceSession.run` only wraps it in a
 * promise), because the forward pass is synchronous code running inside a worker thread.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';

/** The subset of onnxruntime-common's Tensor we construct (zero-copy views on our Float32Arrays). */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
export interface OrtTensorConstructor {
  new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensor;
  new (type: 'int32', data: Int32Array, dims: readonly number[]): OrtTensor;
  new (type: 'uint16', data: Uint16Array, dims: readonly number[]): OrtTensor;
  new (type: 'float64', data: Float64Array, dims: readonly number[]): OrtTensor;
  new (type: 'int64', data: BigInt64Array, dims: readonly number[]): OrtTensor;
}

export interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  loadModel(modelPath: string, options: object): void;
  /** Feeds and pre-allocated fetches by name; writes results into the fetched tensors' buffers. */
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor>, options: object): Record<string, OrtTensor>;
  dispose(): void;
}

export interface OrtRuntime {
  readonly version: string;
  readonly Tensor: OrtTensorConstructor;
  /** Creates a session from ONNX bytes; `externalData` supplies the files that initializers point at by name. */
  createSession(model: Uint8Array, options: OrtSessionOptions, externalData?: readonly { path: string; data: Uint8Array }[]): NativeSession;
  /** Opens a model file; ORT maps the external data files it names (beside it) instead of copying them. */
  openSession(modelPath: string, options: OrtSessionOptions): NativeSession;
}

export interface OrtSessionOptions {
  /** Threads of the session's intra-op pool, counting the calling thread. */
  readonly threads: number;
  /** Graph optimisations (default on). Single-node graphs gain nothing from them and load faster without. */
  readonly optimize?: boolean;
  /**
   * Keep the memory of the graph's intermediates between runs (ORT's arena) instead of freeing it after each.
   * For graphs with large intermediates: fresh pages can cost more than the arithmetic (~10 µs per 4 KB page
   * on some VMs). Default off: the arena keeps its high-water mark for the session's life.
   */
  readonly keepIntermediates?: boolean;
  /**
   * Let MLAS pack constant weights into its panel layout when the session is created (default on). Off, a session
   * opened from a file uses ORT's mapping of the weight as it is and packs panels per call instead: it opens in a
   * fraction of the time (no fresh pages for a packed copy) and multiplies ~10-20% slower (kernels.ts).
   */
  readonly prepack?: boolean;
}

interface BindingModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

let cached: OrtRuntime | Error | undefined;

/** Resolves packages next to this file (dist/ in a bundle, src/ under the tests) rather than the process cwd. */
function requireHere(): NodeJS.Require {
  const anchor = typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'index.js');
  return createRequire(anchor);
}

/** The runtime, or the Error that explains why it cannot load here (cached either way). */
export function loadOrtRuntime(): OrtRuntime | Error {
  if (cached) return cached;
  try {
    const req = requireHere();
    const common = req('onnxruntime-common') as { Tensor: OrtTensorConstructor };
    const bindingModule = req('onnxruntime-node/dist/binding') as BindingModule;
    const pkg = req('onnxruntime-node/package.json') as { version: string };
    bindingModule.initOrt();
    const sessionOptions = (options: OrtSessionOptions) => ({
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: options.optimize === false ? 'disabled' : 'all',
      enableCpuMemArena: options.keepIntermediates === true,
      enableMemPattern: false,
      // Without this, idle pool threads spin between our many short runs and steal the other core
      // (measured: two threads became 2.7× slower than one).
      extra: { session: { intra_op: { allow_spinning: '0' }, ...(options.prepack === false ? { disable_prepacking: '1' } : {}) } },
    });
    cached = {
      version: pkg.version,
      Tensor: common.Tensor,
      createSession(model, options, externalData) {
        const s = new bindingModule.binding.InferenceSession();
        s.loadModel(model.buffer, model.byteOffset, model.byteLength, { ...sessionOptions(options), ...(externalData ? { externalData } : {}) });
        return s;
      },
      openSession(modelPath, options) {
        const s = new bindingModule.binding.InferenceSession();
        s.loadModel(modelPath, sessionOptions(options));
        return s;
      },
    };
  } catch (e) {
    cached = e instanceof Error ? e : new Error(String(e));
  }
  return cached;
}
