/**
 * The forward pass of every supported transformer, read top to bottom like nanoGPT's model.py:
 * embeddings → blocks (attention, [cross-attention], MLP, each with its norm) → final norm → unembedding.
 * All behaviour differences between families are ModelConfig flags; matrix products go through `Kernels`.
 * Shapes are row-major Float32Arrays; comments give them as [pos, d_model] etc. (no batch dimension).
 * Reference semantics: the Hugging Face transformers modeling files of the families in architectures/.
 */
import type { ModelConfig } from './config';
import { EngineError } from './errors';
import { hookName, type AttnKind, type HookKind, type Recorder } from './hooks';
import type { BlockInternal, FusedBlock, Kernels, LogitSummary, LogitSummaryRequest, PackedWeightSlot } from './kernels/types';
import { addInPlace, applyRope, mergeHeads, ropeInvFreq, scaleInPlace, splitHeads } from './ops';
import { reserveCache, type KVCache } from './kvcache';
import { relativeBucket } from './positional';
import type { AttnWeights, BlockWeights, EmbeddingSource, Linear, MlpWeights, ModelWeights, Norm, StackWeights } from './weights';

/** Everything the forward pass reads: config, canonical weights, kernels, and tables derived once at load. */
export interface LoadedModel {
  readonly cfg: ModelConfig;
  readonly w: ModelWeights;
  readonly kernels: Kernels;
  /** RoPE inverse frequencies [d_head/2] (RoPE models only). */
  readonly invFreq?: Float64Array;
  /** Blocks the kernels run fused (Kernels.packBlock): their linear weights are only there. */
  readonly fused?: ReadonlyMap<BlockWeights, FusedBlock>;
}

/**
 * Derives load-time tables and tells the kernels which matrices are constant right-hand sides (they may pre-pack
 * them). When the kernels keep the unembedding packed and it is the token embedding itself (tied), the in-memory
 * table is dropped for `tiedEmbeddings` (rows read on demand), so the model holds one copy of it, not two.
 * An unembedding the loader already restored arrives as a handle (length 0); a tied embedding then arrives as an
 * empty placeholder, replaced by `tiedEmbeddings`. `unembedSlot` is where a newly packed unembedding is saved.
 * `fusedBlocks` are the kernels' fused blocks of the decoder stack by layer (fusedBlocks.ts).
 */
export function prepareModel(cfg: ModelConfig, w: ModelWeights, kernels: Kernels, tiedEmbeddings?: EmbeddingSource, unembedSlot?: PackedWeightSlot, fusedBlocks?: readonly (FusedBlock | undefined)[]): LoadedModel {
  const fused = fusedMap(w, fusedBlocks);
  const linears = [w.encoder, w.decoder].flatMap((s) => s?.blocks ?? []).flatMap((b) =>
    [b.attn, b.crossAttn].flatMap((a) => (a ? [a.q, a.k, a.v, a.o] : [])).concat([b.mlp.in, b.mlp.out], b.mlp.gate ? [b.mlp.gate] : []));
  if (w.mlmHead) linears.push(w.mlmHead.dense);
  // Weights the loader already packed are handles (length 0); others may still be packed here (a second copy).
  for (const l of linears) if (l.w.length > 0) kernels.prepareWeight?.(l.w, l.nIn, l.nOut, true);
  const invFreq = cfg.positional === 'rope' ? ropeInvFreq(cfg.d_head, cfg.rope_theta, cfg.rope_scaling) : undefined;
  if (w.W_U.length === 0 && cfg.d_vocab * cfg.d_model > 0) {
    const placeholder = w.W_E instanceof Float32Array && w.W_E.length === 0;
    if (placeholder && !tiedEmbeddings) throw new Error('prepareModel: an empty token embedding needs a row source');
    return { cfg, w: placeholder && tiedEmbeddings ? { ...w, W_E: tiedEmbeddings } : w, kernels, invFreq, fused };
  }
  const tied = w.W_E === w.W_U;
  // Without a row source for a tied table the embedding must stay in memory: then keep the unembedding as it is
  // (prepared, not handed over), since it is the same array.
  const W_U = tied && !tiedEmbeddings ? undefined : kernels.packWeight?.(w.W_U, cfg.d_model, cfg.d_vocab, true, unembedSlot, w.b_U !== undefined);
  if (!W_U) {
    kernels.prepareWeight?.(w.W_U, cfg.d_model, cfg.d_vocab, true);
    return { cfg, w, kernels, invFreq, fused };
  }
  return { cfg, w: { ...w, W_U, W_E: tied && tiedEmbeddings ? tiedEmbeddings : w.W_E }, kernels, invFreq, fused };
}

function fusedMap(w: ModelWeights, blocks: readonly (FusedBlock | undefined)[] | undefined): ReadonlyMap<BlockWeights, FusedBlock> | undefined {
  if (!blocks?.some((b) => b)) return undefined;
  const stack = w.decoder;
  if (!stack || w.encoder || blocks.length !== stack.blocks.length) throw new Error('prepareModel: fused blocks need a single decoder stack');
  const map = new Map<BlockWeights, FusedBlock>();
  stack.blocks.forEach((bw, l) => {
    const fb = blocks[l];
    if (fb) map.set(bw, fb);
  });
  return map;
}

export interface RunOptions {
  readonly recorder?: Recorder;
  /** Polled between layers; a true result (or an aborted signal) throws EngineError CANCELLED. */
  readonly shouldCancel?: () => boolean;
  readonly signal?: AbortSignal;
  /** Called after each block: (blocks done, total blocks). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** How one stack runs: its hook prefix, masking, where cross-attention reads from, and its KV cache. */
interface StackRun {
  readonly prefix: string;
  readonly causal: boolean;
  /** Encoder output [enc_pos, d_model] for cross-attention. */
  readonly encoderOut?: Float32Array;
  readonly encoderLen?: number;
  readonly cache?: KVCache;
  /** Absolute position of the first row (> 0 when earlier positions are in the cache). */
  readonly startPos: number;
  /** Position bias added to self-attention scores [n_heads, pos, key_pos] (relative buckets). */
  readonly posBias?: Float32Array;
  /** Layers before this stack (so progress counts encoder + decoder blocks). */
  readonly layerOffset: number;
  readonly totalLayers: number;
}

function emit(o: RunOptions, kind: HookKind, layer: number, data: Float32Array, shape: number[], prefix = '', attn: AttnKind = 'attn', owned = false): void {
  if (!o.recorder) return;
  const name = hookName(kind, layer, attn, prefix);
  if (o.recorder.wants(name)) o.recorder.record(name, data, shape, owned);
}

function checkCancel(o: RunOptions): void {
  if (o.shouldCancel?.() || o.signal?.aborted) throw new EngineError('CANCELLED', 'The run was cancelled.');
}

/** y[rows, nOut] = x[rows, nIn] · Wᵀ + b, with W stored [nOut, nIn]. */
function linear(m: LoadedModel, x: Float32Array, rows: number, l: Linear): Float32Array {
  return m.kernels.matmulT(x, l.w, rows, l.nIn, l.nOut, l.b);
}

function norm(m: LoadedModel, x: Float32Array, rows: number, n: Norm): Float32Array {
  return m.kernels.normRows(m.cfg.norm, x, rows, m.cfg.d_model, n.w, n.b, m.cfg.norm_eps);
}

/** Token (+ position, + token type) embeddings of `ids` placed at positions startPos… → [pos, d_model]. */
export function embed(m: LoadedModel, ids: ArrayLike<number>, startPos: number, o: RunOptions, prefix = ''): Float32Array {
  const { d_model: d, d_vocab: V, embed_scale } = m.cfg;
  const n = ids.length;
  const x = new Float32Array(n * d); // [pos, d_model]
  for (let t = 0; t < n; t++) {
    const id = ids[t];
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new EngineError('BAD_INPUT', `Token id ${id} at position ${t} is outside the vocabulary (0…${V - 1}).`);
  }
  const table = m.w.W_E;
  if (table instanceof Float32Array) for (let t = 0; t < n; t++) x.set(table.subarray(ids[t] * d, (ids[t] + 1) * d), t * d);
  else table.readRows(ids, x);
  scaleInPlace(x, embed_scale);
  emit(o, 'embed', 0, x, [n, d], prefix);
  if (m.w.W_pos) {
    const table = m.w.W_pos.length / d;
    if (startPos + n > table) throw new EngineError('BAD_INPUT', `Input of ${startPos + n} tokens is longer than the model's ${table} positions.`, 'Select a shorter text.');
    const pos = m.w.W_pos.subarray(startPos * d, (startPos + n) * d); // [pos, d_model]
    emit(o, 'pos_embed', 0, pos, [n, d], prefix);
    addInPlace(x, pos);
  }
  if (m.w.W_type) {
    const type0 = new Float32Array(n * d);
    for (let t = 0; t < n; t++) type0.set(m.w.W_type.subarray(0, d), t * d);
    emit(o, 'token_type_embed', 0, type0, [n, d], prefix);
    addInPlace(x, type0);
  }
  return m.w.embedLn ? norm(m, x, n, m.w.embedLn) : x;
}

/** Query/key/value heads for attention at block `layer`: q [n_heads, pos, d_head]; k, v [n_kv_heads, key_pos (stride), d_head]. */
export interface AttnHeads {
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  readonly nq: number;
  readonly nk: number;
  /** Row stride of k and v per head (≥ nk when they live in a cache). */
  readonly kvStride: number;
}

/**
 * Projects x [pos, d_model] to per-head q, k, v (RoPE applied). Self-attention reads keys from x (and the
 * cache); cross-attention reads them from the encoder output. Exported so the trace can recompute one layer.
 */
export function attentionHeads(m: LoadedModel, aw: AttnWeights, x: Float32Array, n: number, layer: number, attn: AttnKind, run: StackRun, o: RunOptions,
  projected?: { readonly q: Float32Array; readonly k: Float32Array; readonly v: Float32Array; readonly rotQ?: Float32Array; readonly rotK?: Float32Array }): AttnHeads {
  const { n_heads: H, n_kv_heads: Hkv, d_head: dh } = m.cfg;
  const p = run.prefix;
  // `projected`: q, k, v (and with RoPE their rotations) already computed from x by a fused block's first half.
  let q = projected?.q ?? linear(m, x, n, aw.q); // [pos, n_heads, d_head]
  emit(o, 'q', layer, q, [n, H, dh], p, attn);
  if (attn === 'cross_attn') {
    const src = run.encoderOut as Float32Array;
    const ns = run.encoderLen as number;
    let cached = run.cache?.cross[layer];
    if (!cached) {
      const k = linear(m, src, ns, aw.k); // [enc_pos, n_kv_heads, d_head]
      const v = linear(m, src, ns, aw.v);
      emit(o, 'k', layer, k, [ns, Hkv, dh], p, attn);
      emit(o, 'v', layer, v, [ns, Hkv, dh], p, attn);
      cached = { k: splitHeads(k, ns, Hkv, dh), v: splitHeads(v, ns, Hkv, dh), n: ns };
      if (run.cache) run.cache.cross[layer] = cached;
    }
    return { q: splitHeads(q, n, H, dh), k: cached.k, v: cached.v, nq: n, nk: ns, kvStride: ns };
  }
  let k = projected?.k ?? linear(m, x, n, aw.k); // [pos, n_kv_heads, d_head]
  const v = projected?.v ?? linear(m, x, n, aw.v);
  emit(o, 'k', layer, k, [n, Hkv, dh], p, attn);
  emit(o, 'v', layer, v, [n, Hkv, dh], p, attn);
  if (m.invFreq) {
    if (projected?.rotQ && projected.rotK) {
      [q, k] = [projected.rotQ, projected.rotK]; // the very numbers the fused block's attention used
    } else {
      applyRope(q, n, H, dh, m.invFreq, run.startPos);
      applyRope(k, n, Hkv, dh, m.invFreq, run.startPos);
    }
    emit(o, 'rot_q', layer, q, [n, H, dh], p, attn);
    emit(o, 'rot_k', layer, k, [n, Hkv, dh], p, attn);
  }
  const qh = splitHeads(q, n, H, dh); // [n_heads, pos, d_head]
  const cache = run.cache;
  if (!cache) return { q: qh, k: splitHeads(k, n, Hkv, dh), v: splitHeads(v, n, Hkv, dh), nq: n, nk: n, kvStride: n };
  const slot = cache.layers[layer];
  // [n_kv_heads, capacity, d_head]: the new rows go after the cached ones.
  splitHeads(k, n, Hkv, dh, slot.k, cache.capacity, run.startPos);
  splitHeads(v, n, Hkv, dh, slot.v, cache.capacity, run.startPos);
  return { q: qh, k: slot.k, v: slot.v, nq: n, nk: run.startPos + n, kvStride: cache.capacity };
}

/**
 * Work buffers, one per kind and model, reused by every layer and run: at 512 tokens fresh attention buffers per
 * layer are 150 MB of garbage per trace, the collector's threads then compete with the GEMM threads for the 2nd
 * core, and fresh pages cost ~10 µs each on some VMs. Safe because recorders copy what they keep (Recorder
 * contract) and nothing holds these after a layer (or, for 'logits', after a chunk of the trace's logit scan).
 */
type ScratchKind = 'pattern' | 'keysT' | 'values' | 'mask' | 'logits' | 'zHeads' | 'z';
const workScratch = new WeakMap<LoadedModel, Map<ScratchKind, Float32Array>>();
export function scratchBuffer(m: LoadedModel, kind: ScratchKind, size: number): Float32Array {
  let bufs = workScratch.get(m);
  if (!bufs) workScratch.set(m, (bufs = new Map()));
  let buf = bufs.get(kind);
  if (!buf || buf.length < size) bufs.set(kind, (buf = new Float32Array(size)));
  return buf.subarray(0, size);
}

/**
 * The additive attention mask [1 or n_heads, pos, key_pos]: −∞ above the causal diagonal, plus the relative
 * position bias when the model has one. Without a bias it depends only on the shape, so it is kept for the next
 * layer and run.
 */
const maskCache = new WeakMap<LoadedModel, { key: string; data: Float32Array }>();
function attentionMask(m: LoadedModel, causal: boolean, startPos: number, nq: number, nk: number, posBias: Float32Array | undefined): { data: Float32Array; heads: number } {
  const hide = (mask: Float32Array, heads: number) => {
    if (!causal) return;
    for (let h = 0; h < heads; h++) for (let i = 0; i < nq; i++) mask.fill(-Infinity, (h * nq + i) * nk + startPos + i + 1, (h * nq + i + 1) * nk);
  };
  if (posBias) {
    const H = m.cfg.n_heads;
    const mask = scratchBuffer(m, 'mask', H * nq * nk);
    mask.set(posBias.subarray(0, H * nq * nk));
    hide(mask, H);
    return { data: mask, heads: H };
  }
  const key = `${causal}:${startPos}:${nq}:${nk}`;
  let cached = maskCache.get(m);
  if (cached?.key !== key) {
    const data = new Float32Array(nq * nk);
    hide(data, 1);
    maskCache.set(m, (cached = { key, data }));
  }
  return { data: cached.data, heads: 1 };
}

/** Keys of every query head, transposed for q·kᵀ: [n_heads, d_head, key_pos] (GQA heads share their kv head's keys). */
function keysTransposed(m: LoadedModel, hd: AttnHeads, H: number, group: number, dh: number): Float32Array {
  const { nk, kvStride } = hd;
  const out = scratchBuffer(m, 'keysT', H * dh * nk);
  for (let h = 0; h < H; h++) {
    const src = Math.floor(h / group) * kvStride * dh;
    const dst = h * dh * nk;
    for (let j = 0; j < nk; j++) {
      const row = src + j * dh;
      for (let c = 0; c < dh; c++) out[dst + c * nk + j] = hd.k[row + c];
    }
  }
  return out;
}

/** Values of every query head as one contiguous [n_heads, key_pos, d_head] block (a view when they already are). */
function valuesContiguous(m: LoadedModel, hd: AttnHeads, H: number, group: number, dh: number): Float32Array {
  const { nk, kvStride } = hd;
  if (group === 1 && kvStride === nk) return hd.v.subarray(0, H * nk * dh);
  const out = scratchBuffer(m, 'values', H * nk * dh);
  for (let h = 0; h < H; h++) {
    const src = Math.floor(h / group) * kvStride * dh;
    out.set(hd.v.subarray(src, src + nk * dh), h * nk * dh);
  }
  return out;
}

/**
 * Explicit attention: materialises scores and pattern [n_heads, pos, key_pos] (the views need the pattern),
 * then z = pattern · V → [pos, n_heads·d_head]. Query row i sits at absolute position startPos + i.
 */
export function attendExplicit(m: LoadedModel, hd: AttnHeads, causal: boolean, startPos: number, posBias: Float32Array | undefined, hooks: { o: RunOptions; layer: number; attn: AttnKind; prefix: string }): Float32Array {
  const { n_heads: H, n_kv_heads: Hkv, d_head: dh, attn_scale } = m.cfg;
  const { nq, nk, kvStride } = hd;
  const group = H / Hkv; // query heads per kv head (GQA)
  const { o, layer, attn, prefix } = hooks;
  const wantScores = o.recorder?.wants(hookName('attn_scores', layer, attn, prefix)) ?? false;
  // (s·q)·kᵀ instead of s·(q·kᵀ): n·d multiplies instead of n²·heads (bit-identical when s is a power of two).
  const q = attn_scale === 1 ? hd.q : scaleInPlace(hd.q.slice(0, H * nq * dh), attn_scale);
  const scores = wantScores ? new Float32Array(H * nq * nk) : undefined;
  const z = new Float32Array(H * nq * dh); // [n_heads, pos, d_head]
  if (m.kernels.attention) {
    attendWithKernel(m, { q, kT: keysTransposed(m, hd, H, group, dh), v: valuesContiguous(m, hd, H, group, dh) }, nq, nk, causal, startPos, posBias, z, scores, hooks);
  } else {
    const pattern = scratchBuffer(m, 'pattern', H * nq * nk); // [n_heads, pos, key_pos]
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / group) * kvStride * dh;
      m.kernels.matmulT(q.subarray(h * nq * dh, (h + 1) * nq * dh), hd.k.subarray(kv, kv + nk * dh), nq, dh, nk, undefined, pattern.subarray(h * nq * nk, (h + 1) * nq * nk));
    }
    if (posBias) addInPlace(pattern, posBias);
    if (causal) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < nq; i++) pattern.fill(-Infinity, (h * nq + i) * nk + startPos + i + 1, (h * nq + i + 1) * nk);
      }
    }
    scores?.set(pattern);
    m.kernels.softmaxRows(pattern, H * nq, nk);
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / group) * kvStride * dh;
      m.kernels.matmul(pattern.subarray(h * nq * nk, (h + 1) * nq * nk), hd.v.subarray(kv, kv + nk * dh), nq, nk, dh, undefined, z.subarray(h * nq * dh, (h + 1) * nq * dh));
    }
    if (scores) emit(o, 'attn_scores', layer, scores, [H, nq, nk], prefix, attn);
    emit(o, 'pattern', layer, pattern, [H, nq, nk], prefix, attn);
  }
  const zm = mergeHeads(z, nq, H, dh); // [pos, n_heads·d_head]
  emit(o, 'z', layer, zm, [nq, H, dh], prefix, attn);
  return zm;
}

/**
 * Kernels.attention over every head at once: q (already scaled) [n_heads, pos, d_head], kᵀ [n_heads, d_head,
 * key_pos], v [n_heads, key_pos, d_head] → z [n_heads, pos, d_head]. The mask carries the causal −∞ and any
 * position bias. A recorder that keeps patterns packed gets them written straight into its store; the full array
 * only exists if another consumer wants it.
 */
function attendWithKernel(m: LoadedModel, h: { readonly q: Float32Array; readonly kT: Float32Array; readonly v: Float32Array }, nq: number, nk: number, causal: boolean, startPos: number,
  posBias: Float32Array | undefined, z: Float32Array, scores: Float32Array | undefined, hooks: { o: RunOptions; layer: number; attn: AttnKind; prefix: string }): void {
  const { n_heads: H, d_head: dh } = m.cfg;
  const { o, layer, attn, prefix } = hooks;
  const sink = o.recorder?.packedPattern?.(hookName('pattern', layer, attn, prefix));
  const packed = sink?.packed;
  const full = !sink || sink.fullWanted ? scratchBuffer(m, 'pattern', H * nq * nk) : undefined;
  const mask = attentionMask(m, causal, startPos, nq, nk, posBias);
  (m.kernels.attention as NonNullable<Kernels['attention']>)({ q: h.q, kT: h.kT, v: h.v, mask: mask.data, maskHeads: mask.heads, heads: H, nq, nk, d: dh, pattern: full, packed, z, scores });
  if (scores) emit(o, 'attn_scores', layer, scores, [H, nq, nk], prefix, attn);
  if (full) emit(o, 'pattern', layer, full, [H, nq, nk], prefix, attn);
}

/**
 * Row-wise attention: the same maths one query row at a time, holding only [key_pos] scores — used when no
 * recorder wants this layer's scores or pattern (generation, long runs), so memory stays O(key_pos).
 */
export function attendRowwise(m: LoadedModel, hd: AttnHeads, causal: boolean, startPos: number, posBias: Float32Array | undefined): Float32Array {
  const { n_heads: H, n_kv_heads: Hkv, d_head: dh, attn_scale } = m.cfg;
  const { nq, nk, kvStride } = hd;
  const group = H / Hkv;
  const z = new Float32Array(nq * H * dh); // [pos, n_heads·d_head]
  for (let h = 0; h < H; h++) {
    const kv = Math.floor(h / group) * kvStride * dh;
    for (let i = 0; i < nq; i++) {
      const visible = causal ? startPos + i + 1 : nk; // keys beyond are masked: softmax gives them exactly 0
      const scores = m.kernels.matmulT(hd.q.subarray((h * nq + i) * dh, (h * nq + i + 1) * dh), hd.k.subarray(kv, kv + visible * dh), 1, dh, visible);
      scaleInPlace(scores, attn_scale);
      if (posBias) addInPlace(scores, posBias.subarray((h * nq + i) * nk, (h * nq + i) * nk + visible));
      m.kernels.softmaxRows(scores, 1, visible);
      m.kernels.matmul(scores, hd.v.subarray(kv, kv + visible * dh), 1, visible, dh, undefined, z.subarray((i * H + h) * dh, (i * H + h + 1) * dh));
    }
  }
  return z;
}

function attention(m: LoadedModel, aw: AttnWeights, x: Float32Array, n: number, layer: number, attn: AttnKind, run: StackRun, o: RunOptions): Float32Array {
  const hd = attentionHeads(m, aw, x, n, layer, attn, run, o);
  const self = attn === 'attn';
  const [causal, start, bias] = [self && run.causal, self ? run.startPos : 0, self ? run.posBias : undefined];
  const wanted = (k: HookKind) => o.recorder?.wants(hookName(k, layer, attn, run.prefix)) ?? false;
  const z = wanted('attn_scores') || wanted('pattern') || wanted('z')
    ? attendExplicit(m, hd, causal, start, bias, { o, layer, attn, prefix: run.prefix })
    : attendRowwise(m, hd, causal, start, bias);
  return linear(m, z, n, aw.o); // [pos, d_model]
}

/** act(W_in·x) or act(W_gate·x) ⊙ (W_in·x), then W_out → [pos, d_model]. */
function mlp(m: LoadedModel, mw: MlpWeights, x: Float32Array, n: number, layer: number, run: StackRun, o: RunOptions): Float32Array {
  const pre = linear(m, x, n, mw.in); // [pos, d_mlp]
  emit(o, 'mlp_pre', layer, pre, [n, m.cfg.d_mlp], run.prefix);
  let post: Float32Array;
  if (mw.gate) {
    const gate = linear(m, x, n, mw.gate); // [pos, d_mlp]
    emit(o, 'mlp_pre_gate', layer, gate, [n, m.cfg.d_mlp], run.prefix);
    post = m.kernels.gatedActivation(m.cfg.act, gate, pre);
  } else {
    post = m.kernels.activation(m.cfg.act, pre);
  }
  emit(o, 'mlp_post', layer, post, [n, m.cfg.d_mlp], run.prefix);
  return linear(m, post, n, mw.out);
}

/**
 * One block. Pre-norm: x + attn(ln1(x)), [+ cross(ln_cross(x))], + mlp(ln2(x)).
 * Post-norm: ln1(x + attn(x)), [ln_cross(x + cross(x))], ln2(x + mlp(x)).
 */
function block(m: LoadedModel, bw: BlockWeights, x: Float32Array, n: number, layer: number, run: StackRun, o: RunOptions): Float32Array {
  const fb = m.fused?.get(bw);
  if (fb) return fusedBlock(m, fb, bw.attn, x, n, layer, run, o);
  const pre = m.cfg.norm_placement === 'pre';
  const d = m.cfg.d_model;
  const p = run.prefix;
  emit(o, 'resid_pre', layer, x, [n, d], p);
  const sublayer = (ln: Norm, f: (h: Float32Array) => Float32Array, hook: HookKind): Float32Array => {
    const out = f(pre ? norm(m, x, n, ln) : x); // [pos, d_model]
    emit(o, hook, layer, out, [n, d], p);
    const sum = addInPlace(out, x);
    return pre ? sum : norm(m, sum, n, ln);
  };
  x = sublayer(bw.ln1, (h) => attention(m, bw.attn, h, n, layer, 'attn', run, o), 'attn_out');
  emit(o, 'resid_mid', layer, x, [n, d], p);
  if (bw.crossAttn && bw.lnCross) {
    const cw = bw.crossAttn;
    x = sublayer(bw.lnCross, (h) => attention(m, cw, h, n, layer, 'cross_attn', run, o), 'cross_attn_out');
  }
  x = sublayer(bw.ln2, (h) => mlp(m, bw.mlp, h, n, layer, run, o), 'mlp_out');
  emit(o, 'resid_post', layer, x, [n, d], p);
  return x;
}

/** Hooks a fused block's second half can serve, by the internal it fetches. */
const FUSED_INTERNALS: readonly (readonly [HookKind, BlockInternal])[] = [
  ['attn_out', 'attnOut'], ['resid_mid', 'residMid'], ['mlp_pre', 'mlpPre'], ['mlp_pre_gate', 'mlpPreGate'], ['mlp_post', 'mlpPost'], ['mlp_out', 'mlpOut'],
];

/**
 * The same block (pre-norm, self-attention only) in three native calls: ln1 + q/k/v projections (+ RoPE), the
 * attention core, then the rest of the block (Kernels.packBlock). Hooks get the same values at the same points; a hook's
 * internal is only fetched when a recorder wants it.
 */
function fusedBlock(m: LoadedModel, fb: FusedBlock, aw: AttnWeights, x: Float32Array, n: number, layer: number, run: StackRun, o: RunOptions): Float32Array {
  const { d_model: d, n_heads: H, n_kv_heads: Hkv, d_head: dh, d_mlp: f } = m.cfg;
  const p = run.prefix;
  const wanted = (k: HookKind) => o.recorder?.wants(hookName(k, layer, 'attn', p)) ?? false;
  // x is the embedding output or the previous fused block's fresh result, never written again: a recorder may keep it.
  emit(o, 'resid_pre', layer, x, [n, d], p, 'attn', true);
  let z: Float32Array; // [pos, n_heads·d_head]
  const explicit = wanted('attn_scores') || wanted('pattern') || wanted('z');
  // Patterns wanted (a trace): the attention kernel straight on the heads' layouts. Otherwise, as in attention(),
  // row-wise attention keeps memory O(key_pos) at any length (generation, runs without a recorder).
  if (!run.cache && m.kernels.attention && explicit) {
    const raw = wanted('q') || wanted('k') || wanted('v');
    const rotated = m.invFreq !== undefined && (wanted('rot_q') || wanted('rot_k'));
    const a = fb.attnInputs(x, n, { raw, heads: true, rotated }, run.startPos);
    if (raw) {
      emit(o, 'q', layer, a.q as Float32Array, [n, H, dh], p);
      emit(o, 'k', layer, a.k as Float32Array, [n, Hkv, dh], p);
      emit(o, 'v', layer, a.v as Float32Array, [n, Hkv, dh], p);
    }
    if (rotated) {
      emit(o, 'rot_q', layer, a.rotQ as Float32Array, [n, H, dh], p);
      emit(o, 'rot_k', layer, a.rotK as Float32Array, [n, Hkv, dh], p);
    }
    const scores = wanted('attn_scores') ? new Float32Array(H * n * n) : undefined;
    // Work buffers: the second half reads z at once, and hooks copy what they keep.
    const zh = scratchBuffer(m, 'zHeads', H * n * dh); // [n_heads, pos, d_head]
    attendWithKernel(m, { q: a.qHeads as Float32Array, kT: a.kT as Float32Array, v: a.vHeads as Float32Array }, n, n, run.causal, run.startPos, undefined, zh, scores, { o, layer, attn: 'attn', prefix: p });
    z = mergeHeads(zh, n, H, dh, scratchBuffer(m, 'z', n * H * dh));
    emit(o, 'z', layer, z, [n, H, dh], p);
  } else {
    // With a KV cache (generation) or no pattern wanted: the projections from the fused half, the rest as in attention().
    const a = fb.attnInputs(x, n, { raw: true, heads: false, rotated: true }, run.startPos);
    const hd = attentionHeads(m, aw, x, n, layer, 'attn', run, o, a as { q: Float32Array; k: Float32Array; v: Float32Array });
    z = explicit
      ? attendExplicit(m, hd, run.causal, run.startPos, undefined, { o, layer, attn: 'attn', prefix: p })
      : attendRowwise(m, hd, run.causal, run.startPos, undefined);
  }
  const internals = new Set(FUSED_INTERNALS.filter(([hook]) => wanted(hook)).map(([, internal]) => internal));
  const r = fb.rest(z, x, n, internals);
  if (r.attnOut) emit(o, 'attn_out', layer, r.attnOut, [n, d], p);
  if (r.residMid) emit(o, 'resid_mid', layer, r.residMid, [n, d], p);
  if (r.mlpPre) emit(o, 'mlp_pre', layer, r.mlpPre, [n, f], p);
  if (r.mlpPreGate) emit(o, 'mlp_pre_gate', layer, r.mlpPreGate, [n, f], p);
  if (r.mlpPost) emit(o, 'mlp_post', layer, r.mlpPost, [n, f], p);
  if (r.mlpOut) emit(o, 'mlp_out', layer, r.mlpOut, [n, d], p);
  emit(o, 'resid_post', layer, r.y, [n, d], p);
  return r.y;
}

/** Runs every block of a stack, then its final norm when it has one → [pos, d_model]. */
function runStack(m: LoadedModel, sw: StackWeights, x: Float32Array, n: number, run: StackRun, o: RunOptions): Float32Array {
  if (run.cache) reserveCache(m.cfg, run.cache, sw.blocks.length, run.startPos + n);
  for (let l = 0; l < sw.blocks.length; l++) {
    checkCancel(o);
    x = block(m, sw.blocks[l], x, n, l, run, o);
    o.onProgress?.(run.layerOffset + l + 1, run.totalLayers);
  }
  if (run.cache) run.cache.length = run.startPos + n;
  if (!sw.lnFinal) return x;
  const out = norm(m, x, n, sw.lnFinal);
  emit(o, 'ln_final', 0, out, [n, m.cfg.d_model], run.prefix);
  return out;
}

/** Output of a stack: the hidden state after its final norm (or last block), [pos, d_model]. */
export interface StackOutput { readonly hidden: Float32Array; readonly n: number }

/**
 * Relative position bias for queries at startPos… over keys 0…nk-1 → [n_heads, pos, key_pos], from the
 * stack's table [buckets, n_heads] (stored with block 0 and reused by every block); undefined for other models.
 */
export function positionBias(m: LoadedModel, sw: StackWeights, nq: number, nk: number, startPos: number, bidirectional: boolean): Float32Array | undefined {
  const table = sw.relBias;
  if (!table) return undefined;
  const { n_heads: H, relative_buckets, relative_max_distance } = m.cfg;
  const out = new Float32Array(H * nq * nk);
  for (let i = 0; i < nq; i++) {
    for (let j = 0; j < nk; j++) {
      const b = relativeBucket(j - (startPos + i), bidirectional, relative_buckets, relative_max_distance);
      for (let h = 0; h < H; h++) out[(h * nq + i) * nk + j] = table[b * H + h];
    }
  }
  return out;
}

/** Bidirectional encoder over `ids` (a masked LM, or the source side of a seq2seq model). */
export function forwardEncoder(m: LoadedModel, ids: ArrayLike<number>, o: RunOptions = {}): StackOutput {
  const sw = m.w.encoder;
  if (!sw) throw new EngineError('BAD_INPUT', `${m.cfg.architecture} has no encoder.`);
  if (ids.length === 0) throw new EngineError('BAD_INPUT', 'Nothing to run: the input has no tokens.');
  const prefix = m.w.decoder ? 'encoder.' : '';
  const n = ids.length;
  const x = embed(m, ids, 0, o, prefix); // [pos, d_model]
  const total = sw.blocks.length + (m.w.decoder?.blocks.length ?? 0);
  const hidden = runStack(m, sw, x, n, { prefix, causal: false, startPos: 0, posBias: positionBias(m, sw, n, n, 0, true), layerOffset: 0, totalLayers: total }, o);
  return { hidden, n };
}

/**
 * Causal decoder over `ids` (positions startPos…, earlier ones from the cache). With `encoder`, each block
 * also attends to the encoder output (seq2seq; hooks then carry the `decoder.` prefix).
 */
export function forwardDecoder(m: LoadedModel, ids: ArrayLike<number>, o: RunOptions = {}, cache?: KVCache, encoder?: StackOutput): StackOutput {
  const sw = m.w.decoder;
  if (!sw) throw new EngineError('BAD_INPUT', `${m.cfg.architecture} has no decoder stack.`);
  if (ids.length === 0) throw new EngineError('BAD_INPUT', 'Nothing to run: the input has no tokens.');
  if (m.w.encoder && !encoder) throw new EngineError('BAD_INPUT', `${m.cfg.architecture} needs the encoder output to run its decoder.`);
  const startPos = cache?.length ?? 0;
  const n = ids.length;
  const prefix = encoder ? 'decoder.' : '';
  const x = embed(m, ids, startPos, o, prefix); // [pos, d_model]
  const offset = encoder ? (m.w.encoder?.blocks.length ?? 0) : 0;
  const hidden = runStack(m, sw, x, n, {
    prefix, causal: true, cache, startPos, encoderOut: encoder?.hidden, encoderLen: encoder?.n,
    posBias: positionBias(m, sw, n, startPos + n, startPos, false), layerOffset: offset, totalLayers: offset + sw.blocks.length,
  }, o);
  return { hidden, n };
}

/** The unembedding's input for the given rows of a final hidden state: MLM transform and logit scale applied → [rows, d_model]. */
function unembedInput(m: LoadedModel, hidden: Float32Array, rows: readonly number[]): Float32Array {
  const d = m.cfg.d_model;
  let x: Float32Array = new Float32Array(rows.length * d); // [rows, d_model]
  rows.forEach((r, i) => x.set(hidden.subarray(r * d, (r + 1) * d), i * d));
  const head = m.w.mlmHead;
  if (head) x = norm(m, m.kernels.activation(m.cfg.act, linear(m, x, rows.length, head.dense)), rows.length, head.ln);
  return scaleInPlace(x, m.cfg.logit_scale);
}

/** Logits at the given rows of a final hidden state [pos, d_model] → [rows, d_vocab] (into `out` when given). Applies the MLM transform and logit scale. */
export function unembedRows(m: LoadedModel, hidden: Float32Array, rows: readonly number[], out?: Float32Array): Float32Array {
  return m.kernels.matmulT(unembedInput(m, hidden, rows), m.w.W_U, rows.length, m.cfg.d_model, m.cfg.d_vocab, m.w.b_U, out);
}

/**
 * The next-token summary of the given rows (top-k, log-sum-exp, the target's logit and rank) when the kernels
 * compute it beside the unembedding without returning the logits; undefined otherwise.
 */
export function unembedSummary(m: LoadedModel, hidden: Float32Array, rows: readonly number[], want: LogitSummaryRequest): LogitSummary | undefined {
  if (!m.kernels.logitSummary) return undefined;
  return m.kernels.logitSummary(unembedInput(m, hidden, rows), m.w.W_U, rows.length, m.cfg.d_model, m.cfg.d_vocab, m.w.b_U, want);
}

/** Applies the decoder's final norm (when present) to residual rows [rows, d_model] — the logit lens input. */
export function finalNorm(m: LoadedModel, resid: Float32Array, rows: number, stack: 'encoder' | 'decoder' = 'decoder'): Float32Array {
  const ln = m.w[stack]?.lnFinal;
  return ln ? norm(m, resid, rows, ln) : resid.slice();
}

/** Recomputes block `layer`'s self-attention heads from its stored input residual [pos, d_model] (no cache). */
export function recomputeHeads(m: LoadedModel, stack: 'encoder' | 'decoder', layer: number, residPre: Float32Array, n: number): AttnHeads {
  const sw = m.w[stack];
  if (!sw || !sw.blocks[layer]) throw new EngineError('BAD_INPUT', `No ${stack} block ${layer}.`);
  const bw = sw.blocks[layer];
  const run: StackRun = { prefix: '', causal: stack === 'decoder', startPos: 0, layerOffset: 0, totalLayers: 0 };
  const fb = m.fused?.get(bw);
  if (fb) return attentionHeads(m, bw.attn, residPre, n, layer, 'attn', run, {}, fb.attnInputs(residPre, n, { raw: true, heads: false, rotated: true }) as { q: Float32Array; k: Float32Array; v: Float32Array });
  const x = m.cfg.norm_placement === 'pre' ? norm(m, residPre, n, bw.ln1) : residPre;
  return attentionHeads(m, bw.attn, x, n, layer, 'attn', run, {});
}

/** Recomputes decoder block `layer`'s cross-attention heads: q from the stream after self-attention, k/v from the encoder. */
export function recomputeCrossHeads(m: LoadedModel, layer: number, residPre: Float32Array, n: number, encoder: StackOutput): AttnHeads {
  const sw = m.w.decoder;
  const bw = sw?.blocks[layer];
  if (!sw || !bw?.crossAttn || !bw.lnCross) throw new EngineError('BAD_INPUT', `Decoder block ${layer} has no cross-attention.`);
  const run: StackRun = { prefix: '', causal: true, startPos: 0, encoderOut: encoder.hidden, encoderLen: encoder.n, posBias: positionBias(m, sw, n, n, 0, false), layerOffset: 0, totalLayers: 0 };
  const pre = m.cfg.norm_placement === 'pre';
  const mid = addInPlace(attention(m, bw.attn, pre ? norm(m, residPre, n, bw.ln1) : residPre, n, layer, 'attn', run, {}), residPre);
  const x = pre ? norm(m, mid, n, bw.lnCross) : norm(m, mid, n, bw.ln1); // pre: ln_cross(resid_mid); post: resid_mid = ln1(·)
  return attentionHeads(m, bw.crossAttn, x, n, layer, 'cross_attn', run, {});
}
