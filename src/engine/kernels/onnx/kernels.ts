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
import type { AttentionArgs, BlockSpec, BlockTensors, FusedBlock, Kernels, LogitSummary, LogitSummaryRequest, PackedWeightSlot } from '../types';
import { OrtAttention } from './attention';
import { blockSupported, OrtBlocks } from './blocks';
import { cpuSignature } from './cpu';
import { OrtElementwise } from './elementwise';
import { SMALL_PRODUCT } from './nativeCallSize';
import { encodeModel, type GraphSpec } from './proto';
import type { NativeSession, OrtRuntime, OrtSessionOptions, OrtTensor } from './runtime';
import { type FileRegion, openSaved, packedTwinStep, probeRow, saveAndOpen, saveCopyAndOpen } from './savedWeights';

export interface OnnxKernelOptions {
  /** Intra-op threads per session (counting the caller). Default 1. */
  readonly threads?: number;
  /** Pre-pack weights (default true). Off: every product feeds `b` at run time (no second copy of the weights). */
  readonly prepack?: boolean;
}

/** Arrays smaller than this are not worth a session of their own. */
const MIN_PACKED_ELEMENTS = 16_384;
const EMPTY_OK = new Float32Array(0);
/** Values sampled from a packed weight to detect (forbidden) later modification. */
const PROBES = 16;

interface PackedWeight {
  /** Replaced once by its pre-packed twin when it was opened unpacked (packDeferred). */
  session: NativeSession;
  readonly k: number;
  readonly n: number;
  readonly transposed: boolean;
  readonly probe: Float32Array;
  /** Registered under a zero-length handle (packWeight): the packed copy is the only one. */
  readonly viaHandle: boolean;
  /** Rows per run when the session also computes log-sum-exp (unembeddings): bounds its intermediates. */
  readonly lseRows?: number;
  /** Packed for products that never add a bias: the graph has no C input (Gemm's bias broadcast is a full pass over Y). */
  readonly noBias: boolean;
}

/** A transposed weight with at least this many rows is an unembedding: its session also computes log-sum-exp. */
const VOCAB_ROWS = 8192;
const isUnembedding = (n: number, transposed: boolean): boolean => transposed && n >= VOCAB_ROWS;
/**
 * Bytes of logits per run of such a session (its [rows, n] intermediates are kept between runs). Each run streams
 * the whole packed unembedding (154 MB for GPT-2) from memory, so fewer, larger runs are faster: 128 GPT-2 rows
 * go in one run (47-48 ms for a 128-token trace's predictions against 53-55 ms in two runs of 64 at 16 MB); a
 * float64 copy of the exponentials is the largest intermediate.
 */
const LSE_CHUNK_BYTES = 26 << 20;

/** Row blocks of at most `max` rows, as even as possible: [start, rows][]. */
function rowBlocks(m: number, max: number): [number, number][] {
  const count = Math.ceil(m / max);
  const blocks: [number, number][] = [];
  for (let i = 0, r0 = 0; i < count; i++) {
    const rows = Math.ceil((m - r0) / (count - i));
    blocks.push([r0, rows]);
    r0 += rows;
  }
  return blocks;
}

/**
 * y = A·Wᵀ (+ C: weights packed for products without a bias have no C, which saves Gemm's broadcast of C into
 * y, a full pass over it: ~4 ms of a 128-row unembedding); for unembeddings the graph also summarises each row of
 * y next to the product, so the [M, n] logits never have to cross into JavaScript (the binding copies every output
 * it returns into a fresh buffer): LSE = log Σ exp(y / T) as its parts MX = max(y) / T (TopK's first value) and
 * SUM = Σ exp((y − max y) / T), summed in float64 (a float32 sum of 50,257 terms drifted by up to 1e-5 relative,
 * ReduceLogSumExp by 5e-5), the top K of y, y[target] and its rank (how many entries exceed it). A run fetches Y or
 * the summaries.
 */
function packedGraph(k: number, n: number, transposed: boolean, lse: boolean, bias: boolean, externalFile = 'weight.bin'): GraphSpec {
  const gemm = { op: 'Gemm', inputs: bias ? ['A', 'W', 'C'] : ['A', 'W'], outputs: ['Y'], attrs: { transB: { int: transposed ? 1 : 0 } } };
  // The weight stays out of the model bytes, in an "external data file": our array handed to the session as it is
  // created (ORT copies it, packs it and drops the copy, so w's memory may be reused at once), or a file beside a
  // saved model (savedWeights.ts), which ORT maps.
  const initializers = [{ name: 'W', dims: transposed ? [n, k] : [k, n], externalFile }];
  const inputs = bias ? [{ name: 'A', dims: ['M', k] }, { name: 'C', dims: [n] }] : [{ name: 'A', dims: ['M', k] }];
  if (!lse) return { name: 'packed_gemm', nodes: [gemm], initializers, inputs, outputs: [{ name: 'Y', dims: ['M', n] }] };
  const axis1 = { axes: { ints: [1] }, keepdims: { int: 1 } };
  return {
    name: 'packed_unembed',
    opset: 12, // Reduce* take axes as an attribute
    // Y's other readers first, so it is dead (and its memory reused) before the log-sum-exp chain's intermediates
    // exist: ORT runs the nodes in this order and frees each intermediate after its last reader.
    nodes: [
      gemm,
      { op: 'TopK', inputs: ['Y', 'K'], outputs: ['TOPV', 'TOPI'], attrs: { axis: { int: 1 }, largest: { int: 1 }, sorted: { int: 1 } } },
      { op: 'GatherElements', inputs: ['Y', 'TARGET'], outputs: ['TL'], attrs: { axis: { int: 1 } } },
      { op: 'Greater', inputs: ['Y', 'TL'], outputs: ['GT'] },
      { op: 'Cast', inputs: ['GT'], outputs: ['GTF'], attrs: { to: { int: 1 } } },
      { op: 'ReduceSum', inputs: ['GTF'], outputs: ['RANK'], attrs: axis1 },
      // the row maximum is TopK's first value (T > 0): no separate pass over Y for it
      { op: 'Gather', inputs: ['TOPV', 'FIRST'], outputs: ['TOP1'], attrs: { axis: { int: 1 } } },
      { op: 'Div', inputs: ['TOP1', 'T'], outputs: ['MX'] },
      { op: 'Sub', inputs: ['Y', 'TOP1'], outputs: ['YS'] },
      { op: 'Div', inputs: ['YS', 'T'], outputs: ['D'] },
      { op: 'Exp', inputs: ['D'], outputs: ['E'] },
      { op: 'Cast', inputs: ['E'], outputs: ['E64'], attrs: { to: { int: 11 } } },
      { op: 'ReduceSum', inputs: ['E64'], outputs: ['SUM'], attrs: axis1 },
    ],
    initializers,
    inputs: [...inputs, { name: 'T', dims: [1] }, { name: 'K', dims: [1], type: 'int64' }, { name: 'TARGET', dims: ['M', 1], type: 'int32' }, { name: 'FIRST', dims: [1], type: 'int64' }],
    outputs: [{ name: 'Y', dims: ['M', n] }, { name: 'MX', dims: ['M', 1] }, { name: 'SUM', dims: ['M', 1], type: 'double' }, { name: 'TOPV', dims: ['M', 'KT'] }, { name: 'TOPI', dims: ['M', 'KT'], type: 'int64' },
      { name: 'TL', dims: ['M', 1] }, { name: 'RANK', dims: ['M', 1] }],
  };
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
  readonly packedLayoutId: string;
  private readonly threads: number;
  private readonly prepack: boolean;
  private readonly packed = new WeakMap<Float32Array, PackedWeight>();
  private readonly seen = new WeakSet<Float32Array>();
  private readonly dynamic = new Map<boolean, NativeSession>();
  private readonly zeros = new Map<number, Float32Array>();
  private readonly live = new Set<NativeSession>();
  /** Sessions opened from kept files without pre-packing, each with the step that opens its pre-packed twin. */
  private readonly deferred: (() => void)[] = [];
  private saveFailed = false;

  private readonly elementwise: OrtElementwise;
  private readonly attentionGraphs: OrtAttention;
  private readonly blocks: OrtBlocks;

  constructor(private readonly rt: OrtRuntime, options: OnnxKernelOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? 1));
    this.prepack = options.prepack ?? true;
    this.packedLayoutId = `onnxruntime-node ${rt.version} ${process.platform}-${process.arch} ${cpuSignature()}`;
    this.elementwise = new OrtElementwise(rt, this.threads);
    this.attentionGraphs = new OrtAttention(rt, this.threads);
    this.blocks = new OrtBlocks(rt, { threads: this.threads, optimize: false }, (step) => this.deferred.push(step));
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

  attention(x: AttentionArgs): void {
    this.attentionGraphs.run(x);
  }

  prepareWeight(b: Float32Array, k: number, n: number, transposed: boolean): void {
    if (this.packable(b.length, k, n)) this.pack(b, k, n, transposed);
  }

  packWeight(b: Float32Array, k: number, n: number, transposed: boolean, slot?: PackedWeightSlot, hasBias = true): Float32Array | undefined {
    if (!this.packable(b.length, k, n)) return undefined;
    // ORT copies the weight while the session is created (and packs it), so b's memory is free again on return.
    const handle = new Float32Array(0);
    this.pack(b, k, n, transposed, handle, slot, hasBias);
    return handle;
  }

  packWeightFile(source: FileRegion, k: number, n: number, transposed: boolean, slot: PackedWeightSlot, hasBias = true): Float32Array | undefined {
    if (!this.packable(k * n, k, n) || this.saveFailed || source.byteLength !== 4 * k * n) return undefined;
    const lse = isUnembedding(n, transposed);
    try {
      const session = saveCopyAndOpen(this.rt, slot, (file) => packedGraph(k, n, transposed, lse, hasBias, file), source, this.packedOptions(lse, false), (s) => this.probeProduct(s, k, n, lse, !hasBias));
      return this.openedFromFile(session, k, n, transposed, hasBias, lse, slot);
    } catch (e) {
      this.stopSaving(e);
      return undefined;
    }
  }

  restoreWeight(k: number, n: number, transposed: boolean, slot: PackedWeightSlot, hasBias = true): Float32Array | undefined {
    if (!this.packable(k * n, k, n)) return undefined;
    const lse = isUnembedding(n, transposed);
    const session = openSaved(this.rt, slot, this.packedOptions(lse, false), (s) => this.probeProduct(s, k, n, lse, !hasBias));
    return session && this.openedFromFile(session, k, n, transposed, hasBias, lse, slot);
  }

  blockFusable(spec: BlockSpec): boolean {
    return this.prepack && blockSupported(spec);
  }

  packBlock(spec: BlockSpec, w: BlockTensors, slot?: PackedWeightSlot): FusedBlock {
    return this.blocks.pack(spec, w, this.saveFailed ? undefined : slot, (e) => this.stopSaving(e));
  }

  /** A kept weight could not be written (e.g. a full or read-only disk): warn once and stop trying for this model. */
  private stopSaving(e: unknown): void {
    console.warn(`[kernels] weights are not kept for the next load (${(e as Error).message}).`);
    this.saveFailed = true;
  }

  restoreBlock(spec: BlockSpec, slot: PackedWeightSlot): FusedBlock | undefined {
    return this.blocks.restore(spec, slot);
  }

  /**
   * Weights opened from kept files are opened unpacked, which takes a fraction of the time: ORT maps the file and
   * uses it as it is, where packing writes a second, packed copy into fresh memory (GPT-2 small from its kept
   * files: 0.5 s instead of 2.0-2.9 s here, at ~10 µs per fresh 4 KB page). Their products are ~10-20% slower
   * until this has opened each one's pre-packed twin, one session per call, the unpacked one closing as its twin
   * takes over (the worker calls it while idle). Unembeddings stay unpacked: one product streams the whole
   * matrix either way, and their traces' predictions measured the same unpacked (±5%, within run-to-run noise).
   */
  packDeferred(): boolean {
    const step = this.deferred.shift();
    step?.();
    return step !== undefined;
  }

  dispose(): void {
    this.deferred.length = 0;
    this.elementwise.dispose();
    this.attentionGraphs.dispose();
    this.blocks.dispose();
    for (const s of this.live) s.dispose();
    this.live.clear();
    this.dynamic.clear();
  }

  private gemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transposed: boolean, bias: Float32Array | undefined, out: Float32Array): Float32Array {
    const held = b.length === 0 ? this.packed.get(b) : undefined;
    if (held?.viaHandle) {
      if (held.k !== k || held.n !== n || held.transposed !== transposed) {
        throw new RangeError(`${transposed ? 'matmulT' : 'matmul'}: packed weight handle is k=${held.k} n=${held.n}${held.transposed ? ' (transposed)' : ''}, used as k=${k} n=${n}${transposed ? ' (transposed)' : ''}`);
      }
      checkGemmArgs(transposed ? 'matmulT' : 'matmul', a, EMPTY_OK, m, 0, n, bias, out);
      if (a.length < m * k) throw new RangeError(`${transposed ? 'matmulT' : 'matmul'}: a has ${a.length} values, needs ${m * k}`);
      if (m === 0 || n === 0) return out;
      return this.runPacked(held, a, m, k, n, bias, out);
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
    if (!entry.lseRows) {
      entry.session.run(this.feeds(a, m, k, n, bias, entry.noBias), this.fetches(out, m, n), {});
    } else {
      // Row blocks of A give row blocks of Y, so each run writes its own contiguous slice of `out`.
      for (const [r0, rows] of rowBlocks(m, entry.lseRows)) {
        entry.session.run({ ...this.feeds(a.subarray(r0 * k), rows, k, n, bias, entry.noBias), ...this.summaryFeeds(rows, 1, 1, undefined) }, this.fetches(out.subarray(r0 * n), rows, n), {});
      }
    }
    // Packed as bias-free but given a bias anyway: added here (callers that said so never pass one).
    if (entry.noBias && bias) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] += bias[j];
    return out;
  }

  logitSummary(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias: Float32Array | undefined, want: LogitSummaryRequest): LogitSummary | undefined {
    const entry = this.packed.get(b);
    if (!entry?.lseRows || entry.k !== k || entry.n !== n || !entry.transposed || (!entry.viaHandle && !unchanged(b, entry.probe))) return undefined;
    if (entry.noBias && bias) return undefined; // its graph has no bias term: the caller summarises matmulT's logits
    if (!(want.temperature > 0)) throw new RangeError(`logitSummary: temperature must be > 0, got ${want.temperature}`);
    if (a.length < m * k) throw new RangeError(`logitSummary: a has ${a.length} values, needs ${m * k}`);
    if (want.targets.length < m) throw new RangeError(`logitSummary: ${want.targets.length} targets for ${m} rows`);
    for (let i = 0; i < m; i++) if (!(want.targets[i] >= 0 && want.targets[i] < n)) throw new RangeError(`logitSummary: target ${want.targets[i]} outside 0…${n - 1}`);
    const top = Math.min(n, Math.max(1, Math.floor(want.top)));
    const T = this.rt.Tensor;
    const s = { max: new Float32Array(m), sum: new Float64Array(m), topLogits: new Float32Array(m * top), targetLogit: new Float32Array(m), rank: new Float32Array(m) };
    const topIds = new BigInt64Array(m * top);
    for (const [r0, rows] of rowBlocks(m, entry.lseRows)) {
      entry.session.run({ ...this.feeds(a.subarray(r0 * k), rows, k, n, bias, entry.noBias), ...this.summaryFeeds(rows, top, want.temperature, want.targets.subarray(r0, r0 + rows)) }, {
        MX: new T('float32', s.max.subarray(r0, r0 + rows), [rows, 1]),
        SUM: new T('float64', s.sum.subarray(r0, r0 + rows), [rows, 1]),
        TOPV: new T('float32', s.topLogits.subarray(r0 * top, (r0 + rows) * top), [rows, top]),
        TOPI: new T('int64', topIds.subarray(r0 * top, (r0 + rows) * top), [rows, top]),
        TL: new T('float32', s.targetLogit.subarray(r0, r0 + rows), [rows, 1]),
        RANK: new T('float32', s.rank.subarray(r0, r0 + rows), [rows, 1]),
      }, {});
    }
    const logSumExp = Float64Array.from(s.max, (mx, i) => mx + Math.log(s.sum[i]));
    return { logSumExp, topIds: Int32Array.from(topIds, Number), topLogits: s.topLogits, targetLogit: s.targetLogit, targetRank: Int32Array.from(s.rank) };
  }

  private summaryFeeds(rows: number, top: number, temperature: number, targets: Int32Array | undefined): Record<string, OrtTensor> {
    const T = this.rt.Tensor;
    return {
      T: new T('float32', Float32Array.of(temperature), [1]),
      K: new T('int64', BigInt64Array.of(BigInt(top)), [1]),
      TARGET: new T('int32', targets ?? new Int32Array(rows), [rows, 1]),
      FIRST: new T('int64', BigInt64Array.of(0n), [1]),
    };
  }

  /** A, and C (the bias, or zeros) unless the graph has none. */
  private feeds(a: Float32Array, m: number, k: number, n: number, bias: Float32Array | undefined, noBias = false): Record<string, OrtTensor> {
    const T = this.rt.Tensor;
    const A = new T('float32', a.length === m * k ? a : a.subarray(0, m * k), [m, k]);
    return noBias ? { A } : { A, C: new T('float32', bias ? bias.subarray(0, n) : this.zerosOf(n), [n]) };
  }

  private fetches(out: Float32Array, m: number, n: number): Record<string, OrtTensor> {
    return { Y: new this.rt.Tensor('float32', out.length === m * n ? out : out.subarray(0, m * n), [m, n]) };
  }

  /** The packed session for `b` if it is (or should now become) a pre-packed weight. */
  private packedFor(b: Float32Array, k: number, n: number, transposed: boolean): PackedWeight | undefined {
    const entry = this.packed.get(b);
    if (entry && !entry.viaHandle) {
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

  /**
   * Packs b into a session, registered under `handle` (packWeight) or under b itself (prepareWeight). With a
   * slot, b is first written there and the session opened from the file (see savedWeights.ts), so later loads
   * can open it again without reading the checkpoint.
   */
  private pack(b: Float32Array, k: number, n: number, transposed: boolean, handle?: Float32Array, slot?: PackedWeightSlot, hasBias = true): PackedWeight {
    const lse = isUnembedding(n, transposed);
    const weight = { k, n, transposed, probe: sampleOf(b), viaHandle: handle !== undefined, noBias: !hasBias };
    if (slot && !this.saveFailed) {
      try {
        // Opened from the file just written, unpacked, like a later load (packDeferred).
        const session = saveAndOpen(this.rt, slot, (file) => packedGraph(k, n, transposed, lse, hasBias, file), b, this.packedOptions(lse, false), (s) => this.probeProduct(s, k, n, lse, !hasBias));
        return this.packLater(this.register(handle ?? b, { ...weight, session }, lse), slot);
      } catch (e) {
        this.stopSaving(e);
      }
    }
    const session = this.rt.createSession(encodeModel(packedGraph(k, n, transposed, lse, hasBias)), this.packedOptions(lse), [{ path: 'weight.bin', data: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) }]);
    return this.register(handle ?? b, { ...weight, session }, lse);
  }

  /** Queues the pre-packed reopening of a weight opened unpacked from `slot` (not for unembeddings; see packDeferred). */
  private packLater(entry: PackedWeight, slot: PackedWeightSlot): PackedWeight {
    if (entry.lseRows !== undefined) return entry;
    this.deferred.push(packedTwinStep(this.rt, slot, this.packedOptions(false), (s) => this.probeProduct(s, entry.k, entry.n, false, entry.noBias), entry, this.live));
    return entry;
  }

  /** A weight opened unpacked from `slot`: registered under a new handle, its pre-packed twin queued. */
  private openedFromFile(session: NativeSession, k: number, n: number, transposed: boolean, hasBias: boolean, lse: boolean, slot: PackedWeightSlot): Float32Array {
    const handle = new Float32Array(0);
    this.packLater(this.register(handle, { session, k, n, transposed, probe: EMPTY_OK, viaHandle: true, noBias: !hasBias }, lse), slot);
    return handle;
  }

  /** Keys `key` to the session (replacing an earlier one); unembeddings run in row blocks (lseRows). */
  private register(key: Float32Array, weight: Omit<PackedWeight, 'lseRows'>, lse: boolean): PackedWeight {
    const existing = this.packed.get(key);
    if (existing) this.forget(key, existing);
    this.live.add(weight.session);
    const entry: PackedWeight = { ...weight, lseRows: lse ? Math.max(1, Math.floor(LSE_CHUNK_BYTES / (4 * weight.n))) : undefined };
    this.packed.set(key, entry);
    return entry;
  }

  private packable(length: number, k: number, n: number): boolean {
    return this.prepack && length === k * n && length >= MIN_PACKED_ELEMENTS;
  }

  private packedOptions(lse: boolean, prepack = true): OrtSessionOptions {
    return { threads: this.threads, optimize: false, keepIntermediates: lse, prepack };
  }

  /** y = probeRow(k)·W through a packed session (the check that a saved weight still computes what it did). */
  private probeProduct(session: NativeSession, k: number, n: number, lse: boolean, noBias: boolean): Float32Array {
    const y = new Float32Array(n);
    session.run({ ...this.feeds(probeRow(k), 1, k, n, undefined, noBias), ...(lse ? this.summaryFeeds(1, 1, 1, undefined) : {}) }, this.fetches(y, 1, n), {});
    return y;
  }

  private forget(b: Float32Array, entry: PackedWeight): void {
    this.packed.delete(b);
    this.live.delete(entry.session);
    entry.session.dispose();
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
