/**
 * GEMMs on ONNX Runtime's CPU kernels (MLAS), called synchronously through the native binding.
 *
 * - Constant weights are pre-packed once: each gets its own tiny Gemm session with the weight as an initializer,
 *   which MLAS packs into its panel layout at session creation (measured here: ~95 GFLOP/s on one thread and
 *   ~125-165 on two, against ~70 / ~80 when the same weight is fed as a run-time input and re-packed per call).
 *   A weight is packed when `prepareWeight` names it, or the second time the same array is used as `b`.
 * - Everything else (attention's per-head products) runs in two shared sessions with symbolic shapes, fed
 *   zero-copy views of our Float32Arrays; results are written straight into the caller's `out`.
 * - Tiny products stay in JavaScript, where they cost less than a native call.
 */
import { checkGemmArgs } from '../check';
import { portableKernels } from '../portable';
import type { Activation, NormKind } from '../../config';
import type { Kernels } from '../types';
import { OrtElementwise } from './elementwise';
import { encodeModel } from './proto';
import type { NativeSession, OrtRuntime, OrtTensor } from './runtime';

export interface OnnxKernelOptions {
  /** Intra-op threads per session (counting the caller). Default 1. */
  readonly threads?: number;
  /** Pre-pack weights (default true). Off: every product feeds `b` at run time (no second copy of the weights). */
  readonly prepack?: boolean;
}

/** Products below this many multiply-adds are cheaper in JavaScript than a native call (~10 µs). */
const SMALL_PRODUCT = 16_384;
/** Arrays smaller than this are not worth a session of their own. */
const MIN_PACKED_ELEMENTS = 16_384;
const EMPTY_OK = new Float32Array(0);
/** Values sampled from a packed weight to detect (forbidden) later modification. */
const PROBES = 16;

interface PackedWeight {
  readonly session: NativeSession;
  readonly k: number;
  readonly n: number;
  readonly transposed: boolean;
  readonly probe: Float32Array;
  /** Registered under a zero-length handle (packWeight): the packed copy is the only one. */
  readonly adopted: boolean;
}

function probeIndex(i: number, length: number): number {
  return Math.floor(((i + 0.5) * length) / PROBES);
}

function sampleOf(b: Float32Array): Float32Array {
  const p = new Float32Array(PROBES);
  for (let i = 0; i < PROBES; i++) p[i] = b[probeIndex(i, b.length)];
  return p;
}

function unchanged(b: Float32Array, probe: Float32Array): boolean {
  for (let i = 0; i < PROBES; i++) if (!Object.is(b[probeIndex(i, b.length)], probe[i])) return false;
  return true;
}

export class OnnxKernels implements Kernels {
  readonly name = 'onnx';
  private readonly threads: number;
  private readonly prepack: boolean;
  private readonly packed = new WeakMap<Float32Array, PackedWeight>();
  private readonly seen = new WeakSet<Float32Array>();
  private readonly dynamic = new Map<boolean, NativeSession>();
  private batched?: NativeSession;
  private readonly zeros = new Map<number, Float32Array>();
  private readonly live = new Set<NativeSession>();

  private readonly elementwise: OrtElementwise;

  constructor(private readonly rt: OrtRuntime, options: OnnxKernelOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? 1));
    this.prepack = options.prepack ?? true;
    this.elementwise = new OrtElementwise(rt, this.threads);
  }

  activation(kind: Activation, x: Float32Array): Float32Array {
    return this.elementwise.activation(kind, x);
  }

  gatedActivation(kind: Activation, gate: Float32Array, up: Float32Array): Float32Array {
    return this.elementwise.gatedActivation(kind, gate, up);
  }

  softmaxRows(x: Float32Array, rows: number, cols: number): Float32Array {
    return this.elementwise.softmaxRows(x, rows, cols);
  }

  normRows(kind: NormKind, x: Float32Array, rows: number, d: number, w: Float32Array, b: Float32Array | undefined, eps: number, out?: Float32Array): Float32Array {
    return this.elementwise.normRows(kind, x, rows, d, w, b, eps, out);
  }

  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out = new Float32Array(m * n)): Float32Array {
    return this.gemm(a, b, m, k, n, false, bias, out);
  }

  matmulT(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out = new Float32Array(m * n)): Float32Array {
    return this.gemm(a, b, m, k, n, true, bias, out);
  }

  matmulBatched(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, out = new Float32Array(batch * m * n)): Float32Array {
    if (a.length < batch * m * k || b.length < batch * k * n || out.length < batch * m * n) {
      throw new RangeError(`matmulBatched: a ${a.length}, b ${b.length}, out ${out.length} for ${batch}×(${m}×${k} · ${k}×${n})`);
    }
    if (batch * m * n * k < SMALL_PRODUCT || k === 0) {
      for (let i = 0; i < batch; i++) portableKernels.matmul(a.subarray(i * m * k), b.subarray(i * k * n), m, k, n, undefined, out.subarray(i * m * n, (i + 1) * m * n));
      return out;
    }
    const T = this.rt.Tensor;
    this.batchedSession().run(
      { A: new T('float32', a.subarray(0, batch * m * k), [batch, m, k]), B: new T('float32', b.subarray(0, batch * k * n), [batch, k, n]) },
      { Y: new T('float32', out.subarray(0, batch * m * n), [batch, m, n]) }, {});
    return out;
  }

  prepareWeight(b: Float32Array, k: number, n: number, transposed: boolean): void {
    if (this.prepack && b.length === k * n && b.length >= MIN_PACKED_ELEMENTS) this.pack(b, k, n, transposed);
  }

  packWeight(b: Float32Array, k: number, n: number, transposed: boolean): Float32Array | undefined {
    if (!this.prepack || b.length !== k * n || b.length < MIN_PACKED_ELEMENTS) return undefined;
    // ORT copies the weight while the session is created (and packs it), so b's memory is free again on return.
    const handle = new Float32Array(0);
    this.pack(b, k, n, transposed, handle);
    return handle;
  }

  dispose(): void {
    this.elementwise.dispose();
    for (const s of this.live) s.dispose();
    this.live.clear();
    this.dynamic.clear();
    this.batched = undefined;
  }

  private gemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transposed: boolean, bias: Float32Array | undefined, out: Float32Array): Float32Array {
    const adopted = b.length === 0 ? this.packed.get(b) : undefined;
    if (adopted?.adopted) {
      if (adopted.k !== k || adopted.n !== n || adopted.transposed !== transposed) {
        throw new RangeError(`${transposed ? 'matmulT' : 'matmul'}: packed weight handle is k=${adopted.k} n=${adopted.n}${adopted.transposed ? ' (transposed)' : ''}, used as k=${k} n=${n}${transposed ? ' (transposed)' : ''}`);
      }
      checkGemmArgs(transposed ? 'matmulT' : 'matmul', a, EMPTY_OK, m, 0, n, bias, out);
      if (a.length < m * k) throw new RangeError(`${transposed ? 'matmulT' : 'matmul'}: a has ${a.length} values, needs ${m * k}`);
      if (m === 0 || n === 0) return out;
      return this.runPacked(adopted, a, m, k, n, bias, out);
    }
    checkGemmArgs(transposed ? 'matmulT' : 'matmul', a, b, m, k, n, bias, out);
    if (m === 0 || n === 0) return out;
    if (k === 0 || m * n * k < SMALL_PRODUCT) {
      return transposed ? portableKernels.matmulT(a, b, m, k, n, bias, out) : portableKernels.matmul(a, b, m, k, n, bias, out);
    }
    const packed = this.packedFor(b, k, n, transposed);
    if (packed) return this.runPacked(packed, a, m, k, n, bias, out);
    const T = this.rt.Tensor;
    const feeds = this.feeds(a, m, k, n, bias);
    feeds.B = new T('float32', b.length === k * n ? b : b.subarray(0, k * n), transposed ? [n, k] : [k, n]);
    this.dynamicSession(transposed).run(feeds, this.fetches(out, m, n), {});
    return out;
  }

  private runPacked(entry: PackedWeight, a: Float32Array, m: number, k: number, n: number, bias: Float32Array | undefined, out: Float32Array): Float32Array {
    entry.session.run(this.feeds(a, m, k, n, bias), this.fetches(out, m, n), {});
    return out;
  }

  private feeds(a: Float32Array, m: number, k: number, n: number, bias: Float32Array | undefined): Record<string, OrtTensor> {
    const T = this.rt.Tensor;
    return {
      A: new T('float32', a.length === m * k ? a : a.subarray(0, m * k), [m, k]),
      C: new T('float32', bias ? bias.subarray(0, n) : this.zerosOf(n), [n]),
    };
  }

  private fetches(out: Float32Array, m: number, n: number): Record<string, OrtTensor> {
    return { Y: new this.rt.Tensor('float32', out.length === m * n ? out : out.subarray(0, m * n), [m, n]) };
  }

  /** The packed session for `b` if it is (or should now become) a pre-packed weight. */
  private packedFor(b: Float32Array, k: number, n: number, transposed: boolean): PackedWeight | undefined {
    const entry = this.packed.get(b);
    if (entry && !entry.adopted) {
      if (entry.k === k && entry.n === n && entry.transposed === transposed && unchanged(b, entry.probe)) return entry;
      this.forget(b, entry); // used with another shape or modified: not a constant weight after all
      return undefined;
    }
    if (!this.prepack || b.length !== k * n || b.length < MIN_PACKED_ELEMENTS || b.byteLength !== b.buffer.byteLength) return undefined;
    if (!this.seen.has(b)) {
      this.seen.add(b); // first use: could be a one-off activation
      return undefined;
    }
    return this.pack(b, k, n, transposed);
  }

  /** Packs b into a session, registered under `handle` (packWeight) or under b itself (prepareWeight). */
  private pack(b: Float32Array, k: number, n: number, transposed: boolean, handle?: Float32Array): PackedWeight {
    const key = handle ?? b;
    const existing = this.packed.get(key);
    if (existing) this.forget(key, existing);
    const model = encodeModel({
      name: 'packed_gemm',
      nodes: [{ op: 'Gemm', inputs: ['A', 'W', 'C'], outputs: ['Y'], attrs: { transB: { int: transposed ? 1 : 0 } } }],
      // The weight stays out of the model bytes: ORT copies it from our array while the session is created
      // (then packs it and drops the copy), so b's memory may be reused as soon as this returns.
      initializers: [{ name: 'W', dims: transposed ? [n, k] : [k, n], data: b, externalFile: 'weight.bin' }],
      inputs: [{ name: 'A', dims: ['M', k] }, { name: 'C', dims: [n] }],
      outputs: [{ name: 'Y', dims: ['M', n] }],
    });
    const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    const session = this.rt.createSession(model, { threads: this.threads, optimize: false }, [{ path: 'weight.bin', data: bytes }]);
    this.live.add(session);
    const entry: PackedWeight = { session, k, n, transposed, probe: sampleOf(b), adopted: handle !== undefined };
    this.packed.set(key, entry);
    return entry;
  }

  private forget(b: Float32Array, entry: PackedWeight): void {
    this.packed.delete(b);
    this.live.delete(entry.session);
    entry.session.dispose();
  }

  private batchedSession(): NativeSession {
    if (!this.batched) {
      this.batched = this.rt.createSession(encodeModel({
        name: 'matmul_batched',
        nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }],
        inputs: [{ name: 'A', dims: ['S', 'M', 'K'] }, { name: 'B', dims: ['S', 'K', 'N'] }],
        outputs: [{ name: 'Y', dims: ['S', 'M', 'N'] }],
      }), { threads: this.threads, optimize: false });
      this.live.add(this.batched);
    }
    return this.batched;
  }

  private dynamicSession(transposed: boolean): NativeSession {
    let s = this.dynamic.get(transposed);
    if (!s) {
      s = this.rt.createSession(encodeModel({
        name: transposed ? 'gemm_bt' : 'gemm',
        nodes: [{ op: 'Gemm', inputs: ['A', 'B', 'C'], outputs: ['Y'], attrs: { transB: { int: transposed ? 1 : 0 } } }],
        inputs: [{ name: 'A', dims: ['M', 'K'] }, { name: 'B', dims: transposed ? ['N', 'K'] : ['K', 'N'] }, { name: 'C', dims: ['N'] }],
        outputs: [{ name: 'Y', dims: ['M', 'N'] }],
      }), { threads: this.threads, optimize: false });
      this.live.add(s);
      this.dynamic.set(transposed, s);
    }
    return s;
  }

  private zerosOf(n: number): Float32Array {
    let z = this.zeros.get(n);
    if (!z) this.zeros.set(n, (z = new Float32Array(n)));
    return z;
  }
}
