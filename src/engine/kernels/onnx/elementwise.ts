/**
 * Element-wise and row-wise work (activations, softmax, LayerNorm) on ONNX Runtime's vectorised, multi-threaded
 * CPU kernels. In plain JavaScript these cost more than all of GPT-2's matrix products at 128 tokens
 * (gelu_new alone ~100 ms: 4.7 M Math.tanh calls). Shapes are symbolic, so one session serves every size.
 * ORT does not promise that an output may alias an input, so in-place operations go through a scratch buffer
 * (except Softmax, see there).
 * Small inputs, and cases ORT has no op for here (RMSNorm), use the portable code.
 */
import type { Activation, NormKind } from '../../config';
import { portableKernels } from '../portable';
import { SMALL_ELEMENTWISE } from './nativeCallSize';
import { encodeModel, type NodeSpec } from './proto';
import type { NativeSession, OrtRuntime, OrtTensor } from './runtime';

/** The activation as graph nodes from `x` to `y` (`${y}_sig` is a free intermediate name). */
export function activationNodes(kind: Activation, x: string, y: string): NodeSpec[] {
  switch (kind) {
    case 'gelu_new': return [{ op: 'Gelu', inputs: [x], outputs: [y], attrs: { approximate: { string: 'tanh' } } }];
    case 'gelu': return [{ op: 'Gelu', inputs: [x], outputs: [y], attrs: { approximate: { string: 'none' } } }];
    case 'silu': return [{ op: 'Sigmoid', inputs: [x], outputs: [`${y}_sig`] }, { op: 'Mul', inputs: [x, `${y}_sig`], outputs: [y] }];
    case 'relu': return [{ op: 'Relu', inputs: [x], outputs: [y] }];
  }
}

export class OrtElementwise {
  private readonly sessions = new Map<string, NativeSession>();
  private scratch = new Float32Array(0);

  constructor(private readonly rt: OrtRuntime, private readonly threads: number) {}

  activation(kind: Activation, x: Float32Array): Float32Array {
    if (x.length < SMALL_ELEMENTWISE) return portableKernels.activation(kind, x);
    const y = this.scratchOf(x.length);
    this.session(`act:${kind}`, () => ({ nodes: activationNodes(kind, 'X', 'Y'), inputs: ['X'] })).run({ X: this.t(x, [x.length]) }, { Y: this.t(y, [x.length]) }, {});
    x.set(y);
    return x;
  }

  gatedActivation(kind: Activation, gate: Float32Array, up: Float32Array): Float32Array {
    if (gate.length < SMALL_ELEMENTWISE) return portableKernels.gatedActivation(kind, gate, up);
    const n = gate.length;
    const y = this.scratchOf(n);
    this.session(`gated:${kind}`, () => ({ nodes: [...activationNodes(kind, 'G', 'A'), { op: 'Mul', inputs: ['A', 'U'], outputs: ['Y'] }], inputs: ['G', 'U'] }))
      .run({ G: this.t(gate, [n]), U: this.t(up.subarray(0, n), [n]) }, { Y: this.t(y, [n]) }, {});
    gate.set(y);
    return gate;
  }

  softmaxRows(x: Float32Array, rows: number, cols: number): Float32Array {
    const n = rows * cols;
    if (n < SMALL_ELEMENTWISE || cols === 0) return portableKernels.softmaxRows(x, rows, cols);
    // In place: MLAS's softmax reads each element before writing it (the kernel tests check this on every run,
    // so an ORT update that changed it would fail them). Saves copying the [heads, pos, pos] scores per layer.
    const xv = this.t(x.subarray(0, n), [rows, cols]);
    this.session('softmax', () => ({ nodes: [{ op: 'Softmax', inputs: ['X'], outputs: ['Y'], attrs: { axis: { int: -1 } } }], inputs: ['X'], dims: ['R', 'C'] }))
      .run({ X: xv }, { Y: xv }, {});
    return x;
  }

  normRows(kind: NormKind, x: Float32Array, rows: number, d: number, w: Float32Array, b: Float32Array | undefined, eps: number, out: Float32Array = new Float32Array(rows * d)): Float32Array {
    if (kind !== 'layernorm' || rows * d < SMALL_ELEMENTWISE) return portableKernels.normRows(kind, x, rows, d, w, b, eps, out);
    const bias = b ?? new Float32Array(d);
    // epsilon is an attribute, so each distinct value gets its own (tiny) session.
    this.session(`layernorm:${eps}`, () => ({
      nodes: [{ op: 'LayerNormalization', inputs: ['X', 'S', 'B'], outputs: ['Y'], attrs: { axis: { int: -1 }, epsilon: { float: eps } } }],
      inputs: ['X', 'S', 'B'], dims: ['R', 'D'], paramDims: ['D'],
    })).run({ X: this.t(x.subarray(0, rows * d), [rows, d]), S: this.t(w.subarray(0, d), [d]), B: this.t(bias.subarray(0, d), [d]) },
      { Y: this.t(out.subarray(0, rows * d), [rows, d]) }, {});
    return out;
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }

  private t(data: Float32Array, dims: number[]): OrtTensor {
    return new this.rt.Tensor('float32', data, dims);
  }

  private scratchOf(n: number): Float32Array {
    if (this.scratch.length < n) this.scratch = new Float32Array(Math.max(n, this.scratch.length * 2));
    return this.scratch.subarray(0, n);
  }

  /**
   * A cached session over inputs with shape `dims` (default one flat symbolic dim); inputs named in the third
   * position onwards of a LayerNorm take `paramDims`. Output Y has the first input's shape.
   */
  private session(key: string, spec: () => { nodes: NodeSpec[]; inputs: string[]; dims?: string[]; paramDims?: string[] }): NativeSession {
    let s = this.sessions.get(key);
    if (!s) {
      const { nodes, inputs, dims = ['N'], paramDims } = spec();
      s = this.rt.createSession(encodeModel({
        name: key.replace(/[^a-z0-9_]/gi, '_'),
        opset: 20,
        nodes,
        inputs: inputs.map((name, i) => ({ name, dims: paramDims && i > 0 ? paramDims : dims })),
        outputs: [{ name: 'Y', dims }],
      }), { threads: this.threads, optimize: false });
      this.sessions.set(key, s);
    }
    return s;
  }
}
