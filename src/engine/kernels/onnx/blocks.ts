/**
 * Kernels.packBlock on ONNX Runtime: a pre-norm block in two graphs around the attention core, so a block costs
 * three native calls instead of ~9 and no JavaScript passes over its activations (head splits, key transposes,
 * residual adds: ~20 ms of a 128-token GPT-2-small trace). The block's linear weights live only in these two
 * sessions, pre-packed like the single-weight ones (kernels.ts).
 *
 *   block_in:  X → LayerNorm → Q, K, V (Gemm) → q·scale [H, n, dh], kᵀ [H, dh, n], v [H, n, dh]
 *   block_out: Z → O (Gemm) → R1 = O + X → LayerNorm → PRE (Gemm) → POST = act(PRE) → M (Gemm) → Y = M + R1
 *
 * Every intermediate a hook may want is a graph output, fetched only when asked for. The same operations in the
 * same order as the per-op path (forward.ts), so results agree with it to float32 rounding of the runtime's kernels.
 */
import type { Activation } from '../../config';
import type { BlockAttnInputs, BlockInternal, BlockLinear, BlockRest, BlockSpec, BlockTensors, FusedBlock, PackedWeightSlot } from '../types';
import { activationNodes } from './elementwise';
import { encodeModel, type GraphSpec, type Initializer, type NodeSpec, type ValueInfo } from './proto';
import type { NativeSession, OrtRuntime, OrtSessionOptions, OrtTensor } from './runtime';
import { openSaved, probeRow, saveGraphAndOpen } from './savedWeights';

/** Which blocks the graphs implement (others keep the per-op path). */
export function blockSupported(spec: BlockSpec): boolean {
  const acts: readonly Activation[] = ['gelu_new', 'gelu', 'relu', 'silu'];
  return spec.norm === 'layernorm' && acts.includes(spec.act) && spec.d > 0 && spec.heads > 0 && spec.dHead > 0 && spec.dMlp > 0;
}

type LinearName = 'q' | 'k' | 'v' | 'o' | 'in' | 'out';

/** The large weights go to external data files (in memory or beside a saved model); norms and biases stay inline. */
function externalName(half: 'in' | 'out', name: LinearName): string {
  return `${half}_${name}`;
}

interface Half {
  graph(fileOf: (name: string) => string): GraphSpec;
  weights: Record<string, Float32Array>;
}

function linearNodes(name: LinearName, x: string, y: string, l: BlockLinear | undefined): NodeSpec {
  const inputs = [x, `W_${name}`];
  if (l?.b) inputs.push(`b_${name}`);
  return { op: 'Gemm', inputs, outputs: [y], attrs: { transB: { int: 1 } } };
}

function layerNorm(x: string, y: string, p: string, eps: number): NodeSpec {
  return { op: 'LayerNormalization', inputs: [x, `${p}_g`, `${p}_b`], outputs: [y], attrs: { axis: { int: -1 }, epsilon: { float: eps } } };
}

function smallTensors(spec: BlockSpec, w: BlockTensors, names: readonly LinearName[], norm: 'ln1' | 'ln2'): Initializer[] {
  const out: Initializer[] = [
    { name: `${norm}_g`, dims: [spec.d], data: w[norm].w },
    { name: `${norm}_b`, dims: [spec.d], data: w[norm].b ?? new Float32Array(spec.d) },
  ];
  for (const n of names) {
    const b = w[n].b;
    if (b) out.push({ name: `b_${n}`, dims: [b.length], data: b });
  }
  return out;
}

function weightInit(name: LinearName, l: BlockLinear, nOut: number, nIn: number, file: string): Initializer {
  if (l.w.length !== nOut * nIn) throw new RangeError(`packBlock: W_${name} has ${l.w.length} values, expected ${nOut}×${nIn}`);
  return { name: `W_${name}`, dims: [nOut, nIn], data: l.w, externalFile: file };
}

function firstHalf(spec: BlockSpec, w: BlockTensors): Half {
  const { d, heads: H, dHead: dh } = spec;
  const hd = H * dh;
  return {
    weights: { [externalName('in', 'q')]: w.q.w, [externalName('in', 'k')]: w.k.w, [externalName('in', 'v')]: w.v.w },
    graph: (fileOf) => ({
      name: 'block_in',
      opset: 20,
      nodes: [
        layerNorm('X', 'H1', 'ln1', spec.eps),
        linearNodes('q', 'H1', 'Q', w.q), linearNodes('k', 'H1', 'K', w.k), linearNodes('v', 'H1', 'V', w.v),
        { op: 'Reshape', inputs: ['Q', 'SHAPE'], outputs: ['Q3'] },
        { op: 'Transpose', inputs: ['Q3'], outputs: ['QT'], attrs: { perm: { ints: [1, 0, 2] } } },
        { op: 'Mul', inputs: ['QT', 'SCALE'], outputs: ['QH'] },
        { op: 'Reshape', inputs: ['K', 'SHAPE'], outputs: ['K3'] },
        { op: 'Transpose', inputs: ['K3'], outputs: ['KT'], attrs: { perm: { ints: [1, 2, 0] } } },
        { op: 'Reshape', inputs: ['V', 'SHAPE'], outputs: ['V3'] },
        { op: 'Transpose', inputs: ['V3'], outputs: ['VH'], attrs: { perm: { ints: [1, 0, 2] } } },
      ],
      initializers: [
        ...smallTensors(spec, w, ['q', 'k', 'v'], 'ln1'),
        { name: 'SCALE', dims: [1], data: Float32Array.of(spec.attnScale) },
        weightInit('q', w.q, hd, d, fileOf(externalName('in', 'q'))),
        weightInit('k', w.k, hd, d, fileOf(externalName('in', 'k'))),
        weightInit('v', w.v, hd, d, fileOf(externalName('in', 'v'))),
      ],
      inputs: [{ name: 'X', dims: ['N', d] }, { name: 'SHAPE', dims: [3], type: 'int64' }],
      outputs: [
        { name: 'Q', dims: ['N', hd] }, { name: 'K', dims: ['N', hd] }, { name: 'V', dims: ['N', hd] },
        { name: 'QH', dims: [H, 'N', dh] }, { name: 'KT', dims: [H, dh, 'N'] }, { name: 'VH', dims: [H, 'N', dh] },
      ],
    }),
  };
}

/** block_out's outputs: the block result and the internals hooks may ask for. */
const REST_OUTPUTS: Record<BlockInternal, string> = { attnOut: 'O', residMid: 'R1', mlpPre: 'PRE', mlpPost: 'POST', mlpOut: 'M' };

function secondHalf(spec: BlockSpec, w: BlockTensors): Half {
  const { d, heads: H, dHead: dh, dMlp: f } = spec;
  const outputs: ValueInfo[] = [{ name: 'Y', dims: ['N', d] }, { name: 'O', dims: ['N', d] }, { name: 'R1', dims: ['N', d] },
    { name: 'PRE', dims: ['N', f] }, { name: 'POST', dims: ['N', f] }, { name: 'M', dims: ['N', d] }];
  return {
    weights: { [externalName('out', 'o')]: w.o.w, [externalName('out', 'in')]: w.in.w, [externalName('out', 'out')]: w.out.w },
    graph: (fileOf) => ({
      name: 'block_out',
      opset: 20,
      nodes: [
        linearNodes('o', 'Z', 'O', w.o),
        { op: 'Add', inputs: ['O', 'X'], outputs: ['R1'] },
        layerNorm('R1', 'H2', 'ln2', spec.eps),
        linearNodes('in', 'H2', 'PRE', w.in),
        ...activationNodes(spec.act, 'PRE', 'POST'),
        linearNodes('out', 'POST', 'M', w.out),
        { op: 'Add', inputs: ['M', 'R1'], outputs: ['Y'] },
      ],
      initializers: [
        ...smallTensors(spec, w, ['o', 'in', 'out'], 'ln2'),
        weightInit('o', w.o, d, H * dh, fileOf(externalName('out', 'o'))),
        weightInit('in', w.in, f, d, fileOf(externalName('out', 'in'))),
        weightInit('out', w.out, d, f, fileOf(externalName('out', 'out'))),
      ],
      inputs: [{ name: 'Z', dims: ['N', H * dh] }, { name: 'X', dims: ['N', d] }],
      outputs,
    }),
  };
}

/** Fixed probe inputs (two rows, so row order is checked too), the same at save and at restore. */
const probeRows = (rows: number, cols: number): Float32Array => probeRow(rows * cols);

/** Shared by every block of a kernels object: the head-layout buffers the attention kernel reads right after. */
export class OrtBlocks {
  private heads = new Float32Array(0);
  private readonly live = new Set<NativeSession>();

  constructor(private readonly rt: OrtRuntime, private readonly options: OrtSessionOptions) {}

  pack(spec: BlockSpec, w: BlockTensors, slot?: PackedWeightSlot, onSaveError?: (e: Error) => void): FusedBlock {
    const halves = [firstHalf(spec, w), secondHalf(spec, w)] as const;
    const sessions = halves.map((half, i) => {
      if (slot) {
        try {
          return saveGraphAndOpen(this.rt, halfSlot(slot, i), half.graph, half.weights, this.options, (s) => this.probe(spec, s, i));
        } catch (e) {
          onSaveError?.(e as Error);
        }
      }
      const files = Object.entries(half.weights).map(([name, data]) => ({ path: `${name}.bin`, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
      return this.rt.createSession(encodeModel(half.graph((name) => `${name}.bin`)), this.options, files);
    });
    return this.block(spec, sessions[0], sessions[1]);
  }

  restore(spec: BlockSpec, slot: PackedWeightSlot): FusedBlock | undefined {
    const first = openSaved(this.rt, halfSlot(slot, 0), this.options, (s) => this.probe(spec, s, 0));
    if (!first) return undefined;
    const second = openSaved(this.rt, halfSlot(slot, 1), this.options, (s) => this.probe(spec, s, 1));
    if (!second) {
      first.dispose();
      return undefined;
    }
    return this.block(spec, first, second);
  }

  dispose(): void {
    for (const s of this.live) s.dispose();
    this.live.clear();
  }

  /** What a half computes from the fixed probe inputs (its saved file is only used while this still matches). */
  private probe(spec: BlockSpec, s: NativeSession, half: number): Float32Array {
    const rows = 2;
    const hd = spec.heads * spec.dHead;
    const T = this.rt.Tensor;
    if (half === 0) {
      const y = new Float32Array(3 * rows * hd);
      s.run({ X: new T('float32', probeRows(rows, spec.d), [rows, spec.d]), SHAPE: this.shape(spec) }, {
        Q: new T('float32', y.subarray(0, rows * hd), [rows, hd]),
        K: new T('float32', y.subarray(rows * hd, 2 * rows * hd), [rows, hd]),
        V: new T('float32', y.subarray(2 * rows * hd), [rows, hd]),
      }, {});
      return y;
    }
    const y = new Float32Array(rows * spec.d);
    s.run({ Z: new T('float32', probeRows(rows, hd), [rows, hd]), X: new T('float32', probeRows(rows, spec.d), [rows, spec.d]) }, { Y: new T('float32', y, [rows, spec.d]) }, {});
    return y;
  }

  private shape(spec: BlockSpec): OrtTensor {
    return new this.rt.Tensor('int64', BigInt64Array.of(-1n, BigInt(spec.heads), BigInt(spec.dHead)), [3]);
  }

  private headBuffers(size: number): [Float32Array, Float32Array, Float32Array] {
    if (this.heads.length < 3 * size) this.heads = new Float32Array(3 * size);
    return [this.heads.subarray(0, size), this.heads.subarray(size, 2 * size), this.heads.subarray(2 * size, 3 * size)];
  }

  private block(spec: BlockSpec, first: NativeSession, second: NativeSession): FusedBlock {
    this.live.add(first);
    this.live.add(second);
    const T = this.rt.Tensor;
    const f32 = (a: Float32Array, dims: number[]) => new T('float32', a, dims);
    const shape = this.shape(spec);
    const { d, heads: H, dHead: dh, dMlp: f } = spec;
    const hd = H * dh;
    const check = (what: string, a: Float32Array, n: number) => {
      if (a.length < n) throw new RangeError(`fused block: ${what} has ${a.length} values, needs ${n}`);
    };
    return {
      attnInputs: (x, n, want): BlockAttnInputs => {
        check('x', x, n * d);
        if (!Number.isInteger(n) || n < 1) throw new RangeError(`fused block: ${n} rows`);
        const fetches: Record<string, OrtTensor> = {};
        const out: { -readonly [K in keyof BlockAttnInputs]: Float32Array } = {};
        if (want.raw) {
          out.q = new Float32Array(n * hd); out.k = new Float32Array(n * hd); out.v = new Float32Array(n * hd);
          Object.assign(fetches, { Q: f32(out.q, [n, hd]), K: f32(out.k, [n, hd]), V: f32(out.v, [n, hd]) });
        }
        if (want.heads) {
          [out.qHeads, out.kT, out.vHeads] = this.headBuffers(n * hd);
          Object.assign(fetches, { QH: f32(out.qHeads, [H, n, dh]), KT: f32(out.kT, [H, dh, n]), VH: f32(out.vHeads, [H, n, dh]) });
        }
        first.run({ X: f32(x.subarray(0, n * d), [n, d]), SHAPE: shape }, fetches, {});
        return out;
      },
      rest: (z, x, n, want): BlockRest => {
        check('z', z, n * hd); check('x', x, n * d);
        const y = new Float32Array(n * d);
        const fetches: Record<string, OrtTensor> = { Y: f32(y, [n, d]) };
        const out: { -readonly [K in keyof BlockRest]: Float32Array } = { y };
        for (const k of want) {
          const a = new Float32Array(n * (k === 'mlpPre' || k === 'mlpPost' ? f : d));
          out[k] = a;
          fetches[REST_OUTPUTS[k]] = f32(a, [n, a.length / n]);
        }
        second.run({ Z: f32(z.subarray(0, n * hd), [n, hd]), X: f32(x.subarray(0, n * d), [n, d]) }, fetches, {});
        return out;
      },
    };
  }
}

/** The two halves are two saved entries (each a model, its weights and a probe). */
function halfSlot(slot: PackedWeightSlot, half: number): PackedWeightSlot {
  return { dir: slot.dir, key: `${slot.key}.${half === 0 ? 'in' : 'out'}` };
}
