/**
 * GEMMs in WebAssembly SIMD128 (gemm.c, built by scripts/build-wasm.mjs). Runs on every platform Node and
 * VS Code run on, with no native binary: the fast path where onnxruntime-node has no build. Single-threaded.
 * Operands are copied into the module's linear memory for each call (a, b, bias in; out back), which costs
 * ~5-10% of a weight-sized product and keeps the model's weights in ordinary Float32Arrays.
 */
import { checkGemmArgs } from '../check';
import { portableKernels } from '../portable';
import type { Kernels } from '../types';
import { GEMM_WASM_BASE64 } from './gemmBinary';

/** The slice of the WebAssembly JS API we use (the project's TS libs carry no DOM/WebAssembly typings). */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface GemmExports {
  readonly memory: WasmMemory;
  readonly __heap_base: { readonly value: number };
  te_matmul_t(a: number, b: number, bias: number, out: number, m: number, k: number, n: number): void;
  te_matmul(a: number, b: number, bias: number, out: number, m: number, k: number, n: number): void;
}

const PAGE = 65536;
/** Products below this many multiply-adds are cheaper in JavaScript than the copies in and out. */
const SMALL_PRODUCT = 4096;

/** True when this JavaScript engine validates SIMD128 (Node ≥ 16.4 does). */
export function wasmSimdSupported(): boolean {
  try {
    return wasmApi.validate(Buffer.from(GEMM_WASM_BASE64, 'base64'));
  } catch {
    return false;
  }
}

export class WasmKernels implements Kernels {
  readonly name = 'wasm-simd';
  private readonly x: GemmExports;
  private readonly heapBase: number;
  private f32: Float32Array;

  constructor() {
    const module = new wasmApi.Module(Buffer.from(GEMM_WASM_BASE64, 'base64'));
    this.x = new wasmApi.Instance(module, {}).exports as unknown as GemmExports;
    this.heapBase = Number(this.x.__heap_base.value);
    this.f32 = new Float32Array(this.x.memory.buffer);
  }

  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out = new Float32Array(m * n)): Float32Array {
    return this.gemm(a, b, m, k, n, false, bias, out);
  }

  matmulT(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out = new Float32Array(m * n)): Float32Array {
    return this.gemm(a, b, m, k, n, true, bias, out);
  }

  // Element-wise work stays in JavaScript on this path (the GEMMs dominate its time).
  readonly activation = portableKernels.activation;
  readonly gatedActivation = portableKernels.gatedActivation;
  readonly softmaxRows = portableKernels.softmaxRows;
  readonly normRows = portableKernels.normRows;

  prepareWeight(): void {
    // Weights are copied in per call; nothing to keep.
  }

  packWeight(): undefined {
    return undefined;
  }

  private gemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transposed: boolean, bias: Float32Array | undefined, out: Float32Array): Float32Array {
    checkGemmArgs(transposed ? 'matmulT' : 'matmul', a, b, m, k, n, bias, out);
    if (m === 0 || n === 0) return out;
    if (k === 0 || m * n * k < SMALL_PRODUCT) {
      return transposed ? portableKernels.matmulT(a, b, m, k, n, bias, out) : portableKernels.matmul(a, b, m, k, n, bias, out);
    }
    // Layout in floats from the heap base (16-byte aligned for the vector loads): a | b | bias | out.
    const align = (v: number) => (v + 3) & ~3;
    const pa = align(this.heapBase >> 2);
    const pb = align(pa + m * k);
    const pbias = align(pb + k * n);
    const pout = align(pbias + (bias ? n : 0));
    const f32 = this.reserve((pout + m * n) * 4);
    f32.set(a.length === m * k ? a : a.subarray(0, m * k), pa);
    f32.set(b.length === k * n ? b : b.subarray(0, k * n), pb);
    if (bias) f32.set(bias.subarray(0, n), pbias);
    (transposed ? this.x.te_matmul_t : this.x.te_matmul)(pa * 4, pb * 4, bias ? pbias * 4 : 0, pout * 4, m, k, n);
    out.set(f32.subarray(pout, pout + m * n));
    return out;
  }

  /** Grows linear memory to at least `bytes` and returns a current view (growing detaches the old one). */
  private reserve(bytes: number): Float32Array {
    const have = this.x.memory.buffer.byteLength;
    if (bytes > have) {
      this.x.memory.grow(Math.ceil((bytes - have) / PAGE));
      this.f32 = new Float32Array(this.x.memory.buffer);
    } else if (this.f32.buffer !== this.x.memory.buffer) {
      this.f32 = new Float32Array(this.x.memory.buffer);
    }
    return this.f32;
  }
}
