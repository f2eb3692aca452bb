import type { Activation, NormKind } from '../config';

/**
 * The numeric kernels the forward pass is written against. Row-major Float32 everywhere.
 * A portable TypeScript implementation always exists; faster paths implement the same interface
 * and are tested against it and against the fixtures.
 */
export interface Kernels {
  /** Human-readable name of the path, shown in benchmarks and the model info ("portable", "wasm-simd", "onnx"). */
  readonly name: string;
  /** out[m,n] = a[m,k] · b[k,n] (+ bias[n]). `b` is stored [k, n] (GPT-2 Conv1D layout). */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out?: Float32Array): Float32Array;
  /** out[m,n] = a[m,k] · bᵀ where `b` is stored [n, k] (nn.Linear / embedding layout) (+ bias[n]). */
  matmulT(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out?: Float32Array): Float32Array;
  /**
   * Optional: `batch` independent products out[i] = a[i] · b[i], with a [batch, m, k], b [batch, k, n] and out
   * [batch, m, n] contiguous (attention's per-head products in one call). Callers loop over matmul without it.
   */
  matmulBatched?(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, out?: Float32Array): Float32Array;
  /** x = act(x) in place (same semantics as ops.applyActivation). */
  activation(kind: Activation, x: Float32Array): Float32Array;
  /** gate = act(gate) ⊙ up in place (SwiGLU / gated GELU; as ops.gatedActivation). */
  gatedActivation(kind: Activation, gate: Float32Array, up: Float32Array): Float32Array;
  /** Softmax of each row of x [rows, cols] in place; -Infinity entries (masked) become exactly 0 (as ops.softmaxRows). */
  softmaxRows(x: Float32Array, rows: number, cols: number): Float32Array;
  /** LayerNorm or RMSNorm of each row of x [rows, d] into `out` (default: a new array; never x itself) (as ops.normRows). */
  normRows(kind: NormKind, x: Float32Array, rows: number, d: number, w: Float32Array, b: Float32Array | undefined, eps: number, out?: Float32Array): Float32Array;
  /**
   * Optional hint, called once per weight matrix at load: `b` is a constant that will be the right-hand side
   * of many products (stored [n, k] for matmulT when `transposed`, else [k, n] for matmul). A path may pre-pack
   * it into its own layout now instead of on first use. Results never depend on whether this was called, and
   * `b` must not be modified afterwards.
   */
  prepareWeight?(b: Float32Array, k: number, n: number, transposed: boolean): void;
  /**
   * Optional, like prepareWeight, but the path keeps its own (packed) copy and returns a zero-length *handle*
   * that stands for the weight from then on: pass the handle as `b` to matmul/matmulT with the same k, n and
   * layout. `b` is neither kept nor modified, so the caller may reuse its memory at once: the loader reads every
   * weight into the same few buffers this way, and the model holds one copy of its weights instead of two.
   * Paths that keep no copy return undefined (keep using `b`).
   */
  packWeight?(b: Float32Array, k: number, n: number, transposed: boolean): Float32Array | undefined;
  /** Releases native resources (sessions, memory) the path holds; the kernels must not be used afterwards. */
  dispose?(): void;
}
