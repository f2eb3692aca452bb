/**
 * Kernels.attention on ONNX Runtime: every head's scores, mask, softmax and weighted sum in one graph per call, the
 * pattern written in the layout the trace stores it. Beside OrtElementwise, one of the ONNX path's helpers.
 */
import { portableAttention } from '../portable';
import { packedPerHead, packRow, type AttentionArgs } from '../types';
import { encodeModel, type Initializer, type NodeSpec, type ValueInfo } from './proto';
import { SMALL_PRODUCT } from './nativeCallSize';
import type { NativeSession, OrtRuntime, OrtTensor } from './runtime';

/** Attention runs over groups of heads whose [heads, nq, nk] scores take at most this many bytes. */
const ATTENTION_CHUNK_BYTES = 4 << 20;
/** The pattern outputs an attention session has: the full float32 pattern, or a packed layout. */
type AttentionVariant = 'full' | 'tri-f32' | 'tri-u16' | 'rows-f32' | 'rows-u16';

export class OrtAttention {
  private readonly sessions = new Map<AttentionVariant, NativeSession>();
  private triangle?: { n: number; tensor: OrtTensor };
  private patternBuf = new Float32Array(0);

  constructor(private readonly rt: OrtRuntime, private readonly threads: number) {}

  /**
   * One graph per call: MatMul → Add(mask) → Softmax → MatMul, over groups of heads whose [heads, nq, nk]
   * intermediates fit ATTENTION_CHUNK_BYTES (kept in the session's arena, so its memory stays bounded at any
   * length). Only z and the pattern leave ORT, the pattern already in the trace's packed layout when asked
   * (lower triangle, uint16): the binding copies every output it returns into a fresh buffer, and a full float32
   * pattern is 50 MB per layer at 1024 tokens.
   */
  run(x: AttentionArgs): void {
    const { heads: H, nq, nk, d, maskHeads, packed } = x;
    const need = (name: string, arr: { length: number } | undefined, n: number) => {
      if (arr && arr.length < n) throw new RangeError(`attention: ${name} has ${arr.length} values, needs ${n}`);
    };
    need('q', x.q, H * nq * d); need('kT', x.kT, H * d * nk); need('v', x.v, H * nk * d); need('mask', x.mask, maskHeads * nq * nk);
    need('pattern', x.pattern, H * nq * nk); need('z', x.z, H * nq * d); need('scores', x.scores, H * nq * nk);
    if (packed) need('packed pattern', packed.out, H * packedPerHead(packed, nq, nk));
    if (maskHeads !== 1 && maskHeads !== H) throw new RangeError(`attention: mask has ${maskHeads} heads, expected 1 or ${H}`);
    if (packed?.triangle && nq !== nk) throw new RangeError(`attention: a triangle pattern needs nq = nk, got ${nq} and ${nk}`);
    if (!x.pattern && !packed) throw new RangeError('attention: nowhere to write the pattern');
    if (H * nq * nk * d < SMALL_PRODUCT || d === 0 || nk === 0) return portableAttention(x);
    const T = this.rt.Tensor;
    const f32 = (a: Float32Array, at: number, dims: number[]) => new T('float32', a.subarray(at, at + dims.reduce((p, c) => p * c, 1)), dims);
    const variant: AttentionVariant = !packed || x.pattern ? 'full' : `${packed.triangle ? 'tri' : 'rows'}-${packed.out instanceof Uint16Array ? 'u16' : 'f32'}`;
    const session = this.session(variant);
    const per = packed ? packedPerHead(packed, nq, nk) : 0;
    const index = packed?.triangle && variant !== 'full' ? this.triangleIndex(nq) : undefined;
    const group = Math.max(1, Math.min(H, Math.floor(ATTENTION_CHUNK_BYTES / (4 * nq * nk))));
    for (let h0 = 0; h0 < H; h0 += group) {
      const g = Math.min(group, H - h0);
      const feeds: Record<string, OrtTensor> = {
        Q: f32(x.q, h0 * nq * d, [g, nq, d]), KT: f32(x.kT, h0 * d * nk, [g, d, nk]), V: f32(x.v, h0 * nk * d, [g, nk, d]),
        MASK: maskHeads === 1 ? f32(x.mask, 0, [1, nq, nk]) : f32(x.mask, h0 * nq * nk, [g, nq, nk]),
      };
      if (index) feeds.IDX = index;
      const fetches: Record<string, OrtTensor> = { Z: f32(x.z, h0 * nq * d, [g, nq, d]) };
      if (x.scores) fetches.S = f32(x.scores, h0 * nq * nk, [g, nq, nk]);
      if (variant === 'full') fetches.P = f32(x.pattern ?? this.patternScratch(H * nq * nk), h0 * nq * nk, [g, nq, nk]);
      else if (packed?.out instanceof Uint16Array) fetches.PQ = new T('uint16', packed.out.subarray(h0 * per, (h0 + g) * per), [g, per]);
      else if (packed) fetches.PQ = f32(packed.out as Float32Array, h0 * per, [g, per]);
      session.run(feeds, fetches, {});
      // The full pattern was asked for as well: pack it here (the trace's store and a hook both want it).
      if (variant === 'full' && packed) {
        const p = x.pattern ?? this.patternScratch(H * nq * nk);
        for (let h = h0; h < h0 + g; h++) for (let i = 0; i < nq; i++) packRow(packed, h, i, nq, nk, p.subarray((h * nq + i) * nk, (h * nq + i + 1) * nk));
      }
    }
  }

  /** Flat indices of the lower triangle of an [n, n] matrix, row by row (Gather's input for triangle patterns). */
  private triangleIndex(n: number): OrtTensor {
    if (this.triangle?.n !== n) {
      const idx = new Int32Array((n * (n + 1)) / 2);
      for (let i = 0, o = 0; i < n; i++) for (let j = 0; j <= i; j++) idx[o++] = i * n + j;
      this.triangle = { n, tensor: new this.rt.Tensor('int32', idx, [idx.length]) };
    }
    return this.triangle.tensor;
  }

  private patternScratch(size: number): Float32Array {
    if (this.patternBuf.length < size) this.patternBuf = new Float32Array(size);
    return this.patternBuf.subarray(0, size);
  }

  private session(variant: AttentionVariant): NativeSession {
    let s = this.sessions.get(variant);
    if (!s) {
      const nodes: NodeSpec[] = [
        { op: 'MatMul', inputs: ['Q', 'KT'], outputs: ['QK'] },
        { op: 'Add', inputs: ['QK', 'MASK'], outputs: ['S'] },
        { op: 'Softmax', inputs: ['S'], outputs: ['P'], attrs: { axis: { int: -1 } } },
        { op: 'MatMul', inputs: ['P', 'V'], outputs: ['Z'] },
      ];
      const inputs: ValueInfo[] = [{ name: 'Q', dims: ['H', 'N', 'D'] }, { name: 'KT', dims: ['H', 'D', 'M'] }, { name: 'V', dims: ['H', 'M', 'D'] }, { name: 'MASK', dims: ['B', 'N', 'M'] }];
      const outputs: ValueInfo[] = [{ name: 'Z', dims: ['H', 'N', 'D'] }, { name: 'S', dims: ['H', 'N', 'M'] }];
      const initializers: Initializer[] = [];
      if (variant === 'full') {
        outputs.push({ name: 'P', dims: ['H', 'N', 'M'] });
      } else {
        // [H, N, M] → [H, N·M] → the stored layout; uint16 as ⌊p·65535 + 0.5⌋ (Cast truncates, like a Uint16Array store).
        nodes.push({ op: 'Flatten', inputs: ['P'], outputs: ['PF'], attrs: { axis: { int: 1 } } });
        let last = 'PF';
        if (variant.startsWith('tri')) {
          nodes.push({ op: 'Gather', inputs: ['PF', 'IDX'], outputs: ['PT'], attrs: { axis: { int: 1 } } });
          inputs.push({ name: 'IDX', dims: ['L'], type: 'int32' });
          last = 'PT';
        }
        if (variant.endsWith('u16')) {
          initializers.push({ name: 'SCALE', dims: [1], data: Float32Array.of(65535) }, { name: 'HALF', dims: [1], data: Float32Array.of(0.5) });
          nodes.push({ op: 'Mul', inputs: [last, 'SCALE'], outputs: ['PS'] }, { op: 'Add', inputs: ['PS', 'HALF'], outputs: ['PR'] },
            { op: 'Cast', inputs: ['PR'], outputs: ['PQ'], attrs: { to: { int: 4 } } });
        } else {
          nodes.push({ op: 'Identity', inputs: [last], outputs: ['PQ'] });
        }
        outputs.push({ name: 'PQ', dims: ['H', 'L'], type: variant.endsWith('u16') ? 'uint16' : 'float' });
      }
      s = this.rt.createSession(encodeModel({ name: `attention_${variant.replace('-', '_')}`, nodes, inputs, outputs, initializers }), { threads: this.threads, optimize: false, keepIntermediates: true });
      this.sessions.set(variant, s);
    }
    return s;
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}
