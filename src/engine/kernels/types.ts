/**
 * The numeric kernels the forward pass is written against. Row-major Float32 everywhere.
 * A portable TypeScript implementation always exists; faster paths implement the same interface
 * and are tested against it and against the fixtures.
 */
export interface Kernels {
  /** Human-readable name of the path, shown in benchmarks and the model info ("portable", "wasm-simd", …). */
  readonly name: string;
  /** out[m,n] = a[m,k] · b[k,n] (+ bias[n]). `b` is stored [k, n] (GPT-2 Conv1D layout). */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out?: Float32Array): Float32Array;
  /** out[m,n] = a[m,k] · bᵀ where `b` is stored [n, k] (nn.Linear / embedding layout) (+ bias[n]). */
  matmulT(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out?: Float32Array): Float32Array;
}
