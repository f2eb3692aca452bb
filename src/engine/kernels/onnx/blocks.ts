/**
 * Kernels.packBlock on ONNX Runtime: a pre-norm block in two graphs around the attention core, so a block costs
 * three native calls instead of ~9 and no JavaScript passes over its activations (head splits, key transposes,
 * RoPE, residual adds: ~20 ms of a 128-token GPT-2-small trace). The block's linear weights live only in these
 * two sessions, pre-packed like the single-weight ones (kernels.ts).
 *
 *   block_in:  X → norm → Q, K, V (Gemm) [→ RoPE] → q·scale [H, n, dh], kᵀ [H, dh, n], v [H, n, dh] (GQA: kv heads repeated)
 *   block_out: Z → O (Gemm) → R1 = O + X → norm → MLP (Gemm, act [⊙ gate]) → M (Gemm) → Y = M + R1
 *
 * Every intermediate a hook may want is a graph output, fetched only when asked for. The same operations in the
 * same order as the per-op path (forward.ts, ops.ts), so results agree with it to float32 rounding.
 */
import type { Activation } from '../../config';
import type { BlockAttnInputs, BlockInternal, BlockLinear, BlockRest, BlockSpec, BlockTensors, FusedBlock, PackedWeightSlot } from '../types';
import { activationNodes } from './elementwise';
import { encodeModel, type GraphSpec, type Initializer, type NodeSpec, type ValueInfo } from './proto';
import type { NativeSession, OrtRuntime, OrtSessionOptions, OrtTensor } from './runtime';
import { openSaved, packedTwinStep, probeRow, saveGraphAndOpen } from './savedWeights';

/** Which blocks the graphs implement (others keep the per-op path). */
export function blockSupported(spec: BlockSpec): boolean {
  const acts: readonly Activation[] = ['gelu_new', 'gelu', 'relu', 'silu'];
  const dims = [spec.d, spec.heads, spec.kvHeads, spec.dHead, spec.dMlp].every((v) => Number.isInteger(v) && v > 0);
  const rope = !spec.rope || (spec.dHead % 2 === 0 && spec.rope.length === spec.dHead / 2);
  return dims && rope && spec.heads % spec.kvHeads === 0 && (spec.norm === 'layernorm' || spec.norm === 'rmsnorm') && acts.includes(spec.act);
}

type LinearName = 'q' | 'k' | 'v' | 'o' | 'in' | 'out' | 'gate';

interface Half {
  graph(fileOf: (name: string) => string): GraphSpec;
  /** The large weights, by external file name (in memory or beside a saved model); norms and biases stay inline. */
  weights: Record<string, Float32Array>;
}

/**
 * Constant int64 inputs (our initializers are float only), fed with every run: reshape targets, axes, the GQA
 * repeat. Named here once so the graphs and the feeds agree.
 */
function int64Constants(spec: BlockSpec): Record<string, bigint[]> {
  const { heads: H, kvHeads: Hkv, dHead: dh } = spec;
  return {
    SHAPE_Q: [-1n, BigInt(H), BigInt(dh)],
    SHAPE_KV: [-1n, BigInt(Hkv), BigInt(dh)],
    SHAPE_KT: [BigInt(H), BigInt(dh), -1n],
    SHAPE_VH: [BigInt(H), -1n, BigInt(dh)],
    AXIS1: [1n],
    AXIS_LAST: [-1n],
    REPEAT: [1n, BigInt(H / Hkv), 1n, 1n],
  };
}

function gemm(name: LinearName, x: string, y: string, l: { readonly b?: Float32Array; readonly inOut?: boolean } | undefined): NodeSpec {
  const inputs = [x, `W_${name}`];
  if (l?.b) inputs.push(`b_${name}`);
  return { op: 'Gemm', inputs, outputs: [y], attrs: { transB: { int: l?.inOut ? 0 : 1 } } };
}

/** LayerNorm, or RMSNorm as ops.normRows computes it: x / √(mean(x²) + eps) · w. */
function normNodes(spec: BlockSpec, x: string, y: string, p: string): NodeSpec[] {
  if (spec.norm === 'layernorm') {
    return [{ op: 'LayerNormalization', inputs: [x, `${p}_g`, `${p}_b`], outputs: [y], attrs: { axis: { int: -1 }, epsilon: { float: spec.eps } } }];
  }
  return [
    { op: 'Mul', inputs: [x, x], outputs: [`${p}_sq`] },
    { op: 'ReduceMean', inputs: [`${p}_sq`, 'AXIS_LAST'], outputs: [`${p}_ms`], attrs: { keepdims: { int: 1 } } },
    { op: 'Add', inputs: [`${p}_ms`, 'EPS'], outputs: [`${p}_var`] },
    { op: 'Sqrt', inputs: [`${p}_var`], outputs: [`${p}_rms`] },
    { op: 'Div', inputs: [x, `${p}_rms`], outputs: [`${p}_n`] },
    { op: 'Mul', inputs: [`${p}_n`, `${p}_g`], outputs: [y] },
  ];
}

/** ops.applyRope on [n, heads, dh]: x·cos + rotate_half(x)·sin, with cos/sin [n, 1, dh] (each half repeated). */
function ropeNodes(x: string, y: string): NodeSpec[] {
  return [
    { op: 'Split', inputs: [x], outputs: [`${x}_a`, `${x}_b`], attrs: { axis: { int: -1 }, num_outputs: { int: 2 } } },
    { op: 'Neg', inputs: [`${x}_b`], outputs: [`${x}_nb`] },
    { op: 'Concat', inputs: [`${x}_nb`, `${x}_a`], outputs: [`${x}_rot`], attrs: { axis: { int: -1 } } },
    { op: 'Mul', inputs: [x, 'COS'], outputs: [`${x}_c`] },
    { op: 'Mul', inputs: [`${x}_rot`, 'SIN'], outputs: [`${x}_s`] },
    { op: 'Add', inputs: [`${x}_c`, `${x}_s`], outputs: [y] },
  ];
}

/** Biases and weight layouts decide a Gemm's inputs and attributes; nothing else of the weights shapes the nodes. */
type Biases = { readonly [K in LinearName]?: { readonly b?: Float32Array; readonly inOut?: boolean } };

function firstNodes(spec: BlockSpec, w: Biases): NodeSpec[] {
  const gqa = spec.kvHeads < spec.heads;
  const nodes: NodeSpec[] = [
    ...normNodes(spec, 'X', 'H1', 'ln1'),
    gemm('q', 'H1', 'Q', w.q), gemm('k', 'H1', 'K', w.k), gemm('v', 'H1', 'V', w.v),
    { op: 'Reshape', inputs: ['Q', 'SHAPE_Q'], outputs: ['Q3'] },
    { op: 'Reshape', inputs: ['K', 'SHAPE_KV'], outputs: ['K3'] },
    { op: 'Reshape', inputs: ['V', 'SHAPE_KV'], outputs: ['V3'] },
  ];
  const [q, k] = spec.rope ? ['RQ', 'RK'] : ['Q3', 'K3'];
  if (spec.rope) nodes.push(...ropeNodes('Q3', 'RQ'), ...ropeNodes('K3', 'RK'));
  nodes.push(
    { op: 'Transpose', inputs: [q], outputs: ['QT'], attrs: { perm: { ints: [1, 0, 2] } } },
    { op: 'Mul', inputs: ['QT', 'SCALE'], outputs: ['QH'] },
    { op: 'Transpose', inputs: [k], outputs: [gqa ? 'KT0' : 'KT'], attrs: { perm: { ints: [1, 2, 0] } } },
    { op: 'Transpose', inputs: ['V3'], outputs: [gqa ? 'VH0' : 'VH'], attrs: { perm: { ints: [1, 0, 2] } } },
  );
  if (gqa) {
    // [kv heads, …] → [kv heads, group, …] → [heads, …]: query head h reads kv head ⌊h / group⌋.
    nodes.push(
      { op: 'Unsqueeze', inputs: ['KT0', 'AXIS1'], outputs: ['KT1'] }, { op: 'Expand', inputs: ['KT1', 'REPEAT'], outputs: ['KT2'] },
      { op: 'Reshape', inputs: ['KT2', 'SHAPE_KT'], outputs: ['KT'] },
      { op: 'Unsqueeze', inputs: ['VH0', 'AXIS1'], outputs: ['VH1'] }, { op: 'Expand', inputs: ['VH1', 'REPEAT'], outputs: ['VH2'] },
      { op: 'Reshape', inputs: ['VH2', 'SHAPE_VH'], outputs: ['VH'] },
    );
  }
  return nodes;
}

function secondNodes(spec: BlockSpec, w: Biases): NodeSpec[] {
  const mlp: NodeSpec[] = spec.gated
    ? [gemm('in', 'H2', 'PRE', w.in), gemm('gate', 'H2', 'GATE', w.gate), ...activationNodes(spec.act, 'GATE', 'ACT'), { op: 'Mul', inputs: ['ACT', 'PRE'], outputs: ['POST'] }]
    : [gemm('in', 'H2', 'PRE', w.in), ...activationNodes(spec.act, 'PRE', 'POST')];
  return [
    gemm('o', 'Z', 'O', w.o),
    { op: 'Add', inputs: ['O', 'X'], outputs: ['R1'] },
    ...normNodes(spec, 'R1', 'H2', 'ln2'),
    ...mlp,
    gemm('out', 'POST', 'M', w.out),
    { op: 'Add', inputs: ['M', 'R1'], outputs: ['Y'] },
  ];
}

/** The int64 constants a half's nodes read (each is a graph input, fed with every run). */
function usedConstants(spec: BlockSpec, nodes: readonly NodeSpec[]): string[] {
  return Object.keys(int64Constants(spec)).filter((c) => nodes.some((nd) => nd.inputs.includes(c)));
}

function int64Inputs(names: readonly string[]): ValueInfo[] {
  return names.map((name) => ({ name, dims: [name === 'REPEAT' ? 4 : name.startsWith('SHAPE') ? 3 : 1], type: 'int64' as const }));
}

function smallTensors(spec: BlockSpec, w: BlockTensors, names: readonly LinearName[], norm: 'ln1' | 'ln2'): Initializer[] {
  const out: Initializer[] = [{ name: `${norm}_g`, dims: [spec.d], data: w[norm].w }];
  if (spec.norm === 'layernorm') out.push({ name: `${norm}_b`, dims: [spec.d], data: w[norm].b ?? new Float32Array(spec.d) });
  else out.push({ name: 'EPS', dims: [1], data: Float32Array.of(spec.eps) });
  for (const n of names) {
    const b = w[n]?.b;
    if (b) out.push({ name: `b_${n}`, dims: [b.length], data: b });
  }
  return out;
}

function weightInit(name: LinearName, l: BlockLinear | undefined, nOut: number, nIn: number, fileOf: (name: string) => string): Initializer {
  if (!l) throw new RangeError(`packBlock: W_${name} is missing`);
  if (l.w.length !== nOut * nIn) throw new RangeError(`packBlock: W_${name} has ${l.w.length} values, expected ${nOut}×${nIn}`);
  return { name: `W_${name}`, dims: l.inOut ? [nIn, nOut] : [nOut, nIn], data: l.w, externalFile: fileOf(`w_${name}`) };
}

function firstHalf(spec: BlockSpec, w: BlockTensors): Half {
  const { d, heads: H, kvHeads: Hkv, dHead: dh } = spec;
  const [hq, hkv] = [H * dh, Hkv * dh];
  const nodes = firstNodes(spec, w);
  const inputs: ValueInfo[] = [{ name: 'X', dims: ['N', d] }, ...int64Inputs(usedConstants(spec, nodes))];
  if (spec.rope) inputs.push({ name: 'COS', dims: ['N', 1, dh] }, { name: 'SIN', dims: ['N', 1, dh] });
  const outputs: ValueInfo[] = [
    { name: 'Q', dims: ['N', hq] }, { name: 'K', dims: ['N', hkv] }, { name: 'V', dims: ['N', hkv] },
    { name: 'QH', dims: [H, 'N', dh] }, { name: 'KT', dims: [H, dh, 'N'] }, { name: 'VH', dims: [H, 'N', dh] },
  ];
  if (spec.rope) outputs.push({ name: 'RQ', dims: ['N', H, dh] }, { name: 'RK', dims: ['N', Hkv, dh] });
  return {
    weights: { w_q: w.q.w, w_k: w.k.w, w_v: w.v.w },
    graph: (fileOf) => ({
      name: 'block_in',
      opset: 20,
      nodes,
      initializers: [
        ...smallTensors(spec, w, ['q', 'k', 'v'], 'ln1'),
        { name: 'SCALE', dims: [1], data: Float32Array.of(spec.attnScale) },
        weightInit('q', w.q, hq, d, fileOf), weightInit('k', w.k, hkv, d, fileOf), weightInit('v', w.v, hkv, d, fileOf),
      ],
      inputs,
      outputs,
    }),
  };
}

/** block_out's outputs: the block result and the internals hooks may ask for. */
const REST_OUTPUTS: Record<BlockInternal, string> = { attnOut: 'O', residMid: 'R1', mlpPre: 'PRE', mlpPreGate: 'GATE', mlpPost: 'POST', mlpOut: 'M' };

function secondHalf(spec: BlockSpec, w: BlockTensors): Half {
  const { d, heads: H, dHead: dh, dMlp: f } = spec;
  const nodes = secondNodes(spec, w);
  const outputs: ValueInfo[] = [{ name: 'Y', dims: ['N', d] }, { name: 'O', dims: ['N', d] }, { name: 'R1', dims: ['N', d] },
    { name: 'PRE', dims: ['N', f] }, { name: 'POST', dims: ['N', f] }, { name: 'M', dims: ['N', d] }];
  if (spec.gated) outputs.push({ name: 'GATE', dims: ['N', f] });
  const weights: Record<string, Float32Array> = { w_o: w.o.w, w_in: w.in.w, w_out: w.out.w };
  if (spec.gated) {
    if (!w.gate) throw new RangeError('packBlock: W_gate is missing');
    weights.w_gate = w.gate.w;
  }
  return {
    weights,
    graph: (fileOf) => ({
      name: 'block_out',
      opset: 20,
      nodes,
      initializers: [
        ...smallTensors(spec, w, spec.gated ? ['o', 'in', 'gate', 'out'] : ['o', 'in', 'out'], 'ln2'),
        weightInit('o', w.o, d, H * dh, fileOf), weightInit('in', w.in, f, d, fileOf), weightInit('out', w.out, d, f, fileOf),
        ...(spec.gated ? [weightInit('gate', w.gate, f, d, fileOf)] : []),
      ],
      inputs: [{ name: 'Z', dims: ['N', H * dh] }, { name: 'X', dims: ['N', d] }, ...int64Inputs(usedConstants(spec, nodes))],
      outputs,
    }),
  };
}

/**
 * Shared by every block of a kernels object: the head-layout buffers the attention kernel reads right after, and
 * the RoPE tables of the last shape (every block of a run rotates by the same positions).
 */
export class OrtBlocks {
  private heads = new Float32Array(0);
  private ropeTables?: { freqs: Float64Array; n: number; startPos: number; feeds: Record<string, OrtTensor> };
  private readonly live = new Set<NativeSession>();

  /**
   * `defer` queues a step for the kernels' packDeferred: halves opened from kept files are opened unpacked (fast)
   * and get their pre-packed twin there.
   */
  constructor(private readonly rt: OrtRuntime, private readonly options: OrtSessionOptions, private readonly defer: (step: () => void) => void) {}

  pack(spec: BlockSpec, w: BlockTensors, slot?: PackedWeightSlot, onSaveError?: (e: Error) => void): FusedBlock {
    const halves = [firstHalf(spec, w), secondHalf(spec, w)] as const;
    const sessions = halves.map((half, i) => {
      if (slot) {
        try {
          return { fromFile: true, session: saveGraphAndOpen(this.rt, halfSlot(slot, i), half.graph, half.weights, this.unpacked, (s) => this.probe(spec, s, i)) };
        } catch (e) {
          onSaveError?.(e as Error);
        }
      }
      const files = Object.entries(half.weights).map(([name, data]) => ({ path: `${name}.bin`, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
      return { fromFile: false, session: this.rt.createSession(encodeModel(half.graph((name) => `${name}.bin`)), this.options, files) };
    });
    const block = this.block(spec, [sessions[0].session, sessions[1].session]);
    if (slot) sessions.forEach((s, i) => s.fromFile && this.packLater(spec, block.halves[i], i, halfSlot(slot, i)));
    return block.fused;
  }

  restore(spec: BlockSpec, slot: PackedWeightSlot): FusedBlock | undefined {
    const first = openSaved(this.rt, halfSlot(slot, 0), this.unpacked, (s) => this.probe(spec, s, 0));
    if (!first) return undefined;
    const second = openSaved(this.rt, halfSlot(slot, 1), this.unpacked, (s) => this.probe(spec, s, 1));
    if (!second) {
      first.dispose();
      return undefined;
    }
    const block = this.block(spec, [first, second]);
    block.halves.forEach((half, i) => this.packLater(spec, half, i, halfSlot(slot, i)));
    return block.fused;
  }

  private get unpacked(): OrtSessionOptions {
    return { ...this.options, prepack: false };
  }

  /** Queues the pre-packed reopening of half `i` (see the constructor). */
  private packLater(spec: BlockSpec, half: { session: NativeSession }, i: number, slot: PackedWeightSlot): void {
    this.defer(packedTwinStep(this.rt, slot, this.options, (s) => this.probe(spec, s, i), half, this.live));
  }

  dispose(): void {
    for (const s of this.live) s.dispose();
    this.live.clear();
  }

  /**
   * What a half computes from fixed probe inputs (two rows, so row order is checked too; the same at save and at
   * restore): its saved file is only used while this still matches.
   */
  private probe(spec: BlockSpec, s: NativeSession, half: number): Float32Array {
    const rows = 2;
    const [hq, hkv] = [spec.heads * spec.dHead, spec.kvHeads * spec.dHead];
    const T = this.rt.Tensor;
    const constants = this.constants(spec);
    if (half === 0) {
      const y = new Float32Array(rows * (hq + 2 * hkv));
      s.run({ ...constants.first, ...this.rope(spec, rows, 0), X: new T('float32', probeRow(rows * spec.d), [rows, spec.d]) }, {
        Q: new T('float32', y.subarray(0, rows * hq), [rows, hq]),
        K: new T('float32', y.subarray(rows * hq, rows * (hq + hkv)), [rows, hkv]),
        V: new T('float32', y.subarray(rows * (hq + hkv)), [rows, hkv]),
      }, {});
      return y;
    }
    const y = new Float32Array(rows * spec.d);
    s.run({ ...constants.second, Z: new T('float32', probeRow(rows * hq), [rows, hq]), X: new T('float32', probeRow(rows * spec.d), [rows, spec.d]) }, { Y: new T('float32', y, [rows, spec.d]) }, {});
    return y;
  }

  /** The int64 constant feeds of each half (only those its graph declares). */
  private constants(spec: BlockSpec): { first: Record<string, OrtTensor>; second: Record<string, OrtTensor> } {
    const all = int64Constants(spec);
    const pick = (nodes: NodeSpec[]) => Object.fromEntries(usedConstants(spec, nodes).map((name) => [name, new this.rt.Tensor('int64', BigInt64Array.from(all[name]), [all[name].length])]));
    return { first: pick(firstNodes(spec, {})), second: pick(secondNodes(spec, {})) };
  }

  /** cos / sin [n, 1, dh] for positions startPos…, each half of the head repeated (ops.applyRope's angles, float64 → float32). */
  private rope(spec: BlockSpec, n: number, startPos: number): Record<string, OrtTensor> {
    if (!spec.rope) return {};
    const last = this.ropeTables;
    if (last?.freqs === spec.rope && last.n === n && last.startPos === startPos) return last.feeds;
    const dh = spec.dHead;
    const half = dh / 2;
    const cos = new Float32Array(n * dh);
    const sin = new Float32Array(n * dh);
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < half; i++) {
        const a = (startPos + t) * spec.rope[i];
        cos[t * dh + i] = cos[t * dh + i + half] = Math.cos(a);
        sin[t * dh + i] = sin[t * dh + i + half] = Math.sin(a);
      }
    }
    const T = this.rt.Tensor;
    const feeds = { COS: new T('float32', cos, [n, 1, dh]), SIN: new T('float32', sin, [n, 1, dh]) };
    this.ropeTables = { freqs: spec.rope, n, startPos, feeds };
    return feeds;
  }

  private headBuffers(size: number): [Float32Array, Float32Array, Float32Array] {
    if (this.heads.length < 3 * size) this.heads = new Float32Array(3 * size);
    return [this.heads.subarray(0, size), this.heads.subarray(size, 2 * size), this.heads.subarray(2 * size, 3 * size)];
  }

  /** The block over its two halves' sessions (a half's session may be replaced later by its pre-packed twin). */
  private block(spec: BlockSpec, sessions: readonly NativeSession[]): { fused: FusedBlock; halves: { session: NativeSession }[] } {
    for (const s of sessions) this.live.add(s);
    const halves = sessions.map((session) => ({ session }));
    const T = this.rt.Tensor;
    const f32 = (a: Float32Array, dims: number[]) => new T('float32', a, dims);
    const constants = this.constants(spec);
    const { d, heads: H, kvHeads: Hkv, dHead: dh, dMlp: f } = spec;
    const [hq, hkv] = [H * dh, Hkv * dh];
    const check = (what: string, a: Float32Array, n: number) => {
      if (a.length < n) throw new RangeError(`fused block: ${what} has ${a.length} values, needs ${n}`);
    };
    const fused: FusedBlock = {
      attnInputs: (x, n, want, startPos = 0): BlockAttnInputs => {
        if (!Number.isInteger(n) || n < 1) throw new RangeError(`fused block: ${n} rows`);
        if (!Number.isInteger(startPos) || startPos < 0) throw new RangeError(`fused block: start position ${startPos}`);
        check('x', x, n * d);
        const fetches: Record<string, OrtTensor> = {};
        const out: { -readonly [K in keyof BlockAttnInputs]: Float32Array } = {};
        if (want.raw) {
          out.q = new Float32Array(n * hq); out.k = new Float32Array(n * hkv); out.v = new Float32Array(n * hkv);
          Object.assign(fetches, { Q: f32(out.q, [n, hq]), K: f32(out.k, [n, hkv]), V: f32(out.v, [n, hkv]) });
        }
        if (want.rotated && spec.rope) {
          out.rotQ = new Float32Array(n * hq); out.rotK = new Float32Array(n * hkv);
          Object.assign(fetches, { RQ: f32(out.rotQ, [n, H, dh]), RK: f32(out.rotK, [n, Hkv, dh]) });
        }
        if (want.heads) {
          [out.qHeads, out.kT, out.vHeads] = this.headBuffers(n * hq);
          Object.assign(fetches, { QH: f32(out.qHeads, [H, n, dh]), KT: f32(out.kT, [H, dh, n]), VH: f32(out.vHeads, [H, n, dh]) });
        }
        halves[0].session.run({ ...constants.first, ...this.rope(spec, n, startPos), X: f32(x.subarray(0, n * d), [n, d]) }, fetches, {});
        return out;
      },
      rest: (z, x, n, want): BlockRest => {
        check('z', z, n * hq); check('x', x, n * d);
        const y = new Float32Array(n * d);
        const fetches: Record<string, OrtTensor> = { Y: f32(y, [n, d]) };
        const out: { -readonly [K in keyof BlockRest]: Float32Array } = { y };
        for (const k of want) {
          if (k === 'mlpPreGate' && !spec.gated) continue;
          const a = new Float32Array(n * (k === 'mlpPre' || k === 'mlpPreGate' || k === 'mlpPost' ? f : d));
          out[k] = a;
          fetches[REST_OUTPUTS[k]] = f32(a, [n, a.length / n]);
        }
        halves[1].session.run({ ...constants.second, Z: f32(z.subarray(0, n * hq), [n, hq]), X: f32(x.subarray(0, n * d), [n, d]) }, fetches, {});
        return out;
      },
    };
    return { fused, halves };
  }
}

/** The two halves are two saved entries (each a model, its weights and a probe). */
function halfSlot(slot: PackedWeightSlot, half: number): PackedWeightSlot {
  return { dir: slot.dir, key: `${slot.key}.${half === 0 ? 'in' : 'out'}` };
}
