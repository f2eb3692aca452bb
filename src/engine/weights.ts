/**
 * Canonical weights: the tensor names and shapes every model is loaded into, and the loud loader that fills
 * them from a checkpoint through a family's mapping.
 *
 * Canonical layout: every linear map is stored [out, in] (nn.Linear), so the forward pass only ever calls
 * `kernels.matmulT`. Adapters transpose Conv1D-style [in, out] weights at load.
 * Names (stack prefix `encoder.`/`decoder.` for seq2seq, none for single-stack models):
 *   embed.W_E [d_vocab, d_model]          pos_embed.W_pos [n_ctx, d_model]     embed.W_token_type [types, d_model]
 *   embed.ln.{w,b}                        {p}blocks.{l}.ln1 / ln_cross / ln2 .{w,b} [d_model]
 *   {p}blocks.{l}.attn.W_Q [n_heads·d_head, d_model]   W_K, W_V [n_kv_heads·d_head, d_model]   W_O [d_model, n_heads·d_head]
 *   {p}blocks.{l}.attn.b_Q/b_K/b_V/b_O     {p}blocks.{l}.cross_attn.* (same as attn, kv from the encoder)
 *   {p}blocks.{l}.mlp.W_in / W_gate [d_mlp, d_model]   mlp.W_out [d_model, d_mlp]   mlp.b_in/b_gate/b_out
 *   {p}ln_final.{w,b}   {p}rel_bias [buckets, n_heads]   mlm_head.W [d_model, d_model], mlm_head.b, mlm_head.ln.{w,b}
 *   unembed.W_U [d_vocab, d_model]   unembed.b_U [d_vocab]
 */
import type { ModelConfig } from './config';
import type { Checkpoint } from './checkpoint';
import { EngineError } from './errors';

export interface Linear { readonly w: Float32Array; readonly b?: Float32Array; readonly nOut: number; readonly nIn: number }
export interface Norm { readonly w: Float32Array; readonly b?: Float32Array }
export interface AttnWeights { readonly q: Linear; readonly k: Linear; readonly v: Linear; readonly o: Linear }
export interface MlpWeights { readonly in: Linear; readonly gate?: Linear; readonly out: Linear }
export interface BlockWeights {
  readonly ln1: Norm;
  readonly attn: AttnWeights;
  readonly lnCross?: Norm;
  readonly crossAttn?: AttnWeights;
  readonly ln2: Norm;
  readonly mlp: MlpWeights;
}
export interface StackWeights { readonly blocks: BlockWeights[]; readonly lnFinal?: Norm; readonly relBias?: Float32Array }
/** A token embedding table read row by row on demand instead of held in memory (see embeddingFile.ts). */
export interface EmbeddingSource {
  readonly rows: number;
  /** Rows `ids` (each already checked to be in 0…rows-1) into out [ids.length, d_model]. */
  readRows(ids: ArrayLike<number>, out: Float32Array): void;
}

export interface ModelWeights {
  readonly W_E: Float32Array | EmbeddingSource;
  readonly W_pos?: Float32Array;
  readonly W_type?: Float32Array;
  readonly embedLn?: Norm;
  /** The encoder stack (encoder-only and encoder-decoder models). */
  readonly encoder?: StackWeights;
  /** The decoder stack (decoder-only and encoder-decoder models). */
  readonly decoder?: StackWeights;
  readonly mlmHead?: { readonly dense: Linear; readonly ln: Norm };
  readonly W_U: Float32Array;
  readonly b_U?: Float32Array;
}

/** Where one canonical tensor comes from: a checkpoint tensor, optionally sliced along an axis, transposed, or reshaped (same element count). */
export interface TensorSource {
  readonly from: string;
  readonly slice?: { readonly axis: 0 | 1; readonly start: number; readonly end: number };
  readonly transpose?: boolean;
  readonly reshape?: readonly number[];
}
/** canonical name → source. A bare string is an unmodified checkpoint tensor. */
export type WeightMapping = Record<string, string | TensorSource>;

/** The stack prefixes of a config: '' for single-stack models, encoder./decoder. for seq2seq. */
export function stackPrefixes(cfg: ModelConfig): { encoder?: string; decoder?: string } {
  if (cfg.kind === 'encoder-decoder') return { encoder: 'encoder.', decoder: 'decoder.' };
  return cfg.kind === 'encoder' ? { encoder: '' } : { decoder: '' };
}

/** Every canonical tensor the config requires, with its expected shape. */
export function canonicalShapes(cfg: ModelConfig): Map<string, number[]> {
  const s = new Map<string, number[]>();
  const { d_model: d, d_vocab: V, d_mlp: f, n_heads: H, n_kv_heads: Hkv, d_head: dh } = cfg;
  const norm = (name: string): void => {
    s.set(`${name}.w`, [d]);
    if (cfg.norm === 'layernorm' && cfg.norm_bias) s.set(`${name}.b`, [d]);
  };
  const attn = (p: string): void => {
    s.set(`${p}.W_Q`, [H * dh, d]); s.set(`${p}.W_K`, [Hkv * dh, d]); s.set(`${p}.W_V`, [Hkv * dh, d]); s.set(`${p}.W_O`, [d, H * dh]);
    if (cfg.attn_qkv_bias) { s.set(`${p}.b_Q`, [H * dh]); s.set(`${p}.b_K`, [Hkv * dh]); s.set(`${p}.b_V`, [Hkv * dh]); }
    if (cfg.attn_out_bias) s.set(`${p}.b_O`, [d]);
  };
  const stack = (p: string, layers: number, cross: boolean): void => {
    for (let l = 0; l < layers; l++) {
      const b = `${p}blocks.${l}`;
      norm(`${b}.ln1`); attn(`${b}.attn`);
      if (cross) { norm(`${b}.ln_cross`); attn(`${b}.cross_attn`); }
      norm(`${b}.ln2`);
      s.set(`${b}.mlp.W_in`, [f, d]); s.set(`${b}.mlp.W_out`, [d, f]);
      if (cfg.gated_mlp) s.set(`${b}.mlp.W_gate`, [f, d]);
      if (cfg.mlp_bias) { s.set(`${b}.mlp.b_in`, [f]); s.set(`${b}.mlp.b_out`, [d]); if (cfg.gated_mlp) s.set(`${b}.mlp.b_gate`, [f]); }
    }
    if (cfg.final_norm) norm(`${p}ln_final`);
    if (cfg.positional === 'relative_bias') s.set(`${p}rel_bias`, [cfg.relative_buckets, H]);
  };
  s.set('embed.W_E', [V, d]);
  if (cfg.positional === 'learned' || cfg.positional === 'sinusoidal') s.set('pos_embed.W_pos', [cfg.n_ctx, d]);
  if (cfg.n_token_types > 0) s.set('embed.W_token_type', [cfg.n_token_types, d]);
  if (cfg.embed_norm) norm('embed.ln');
  const { encoder, decoder } = stackPrefixes(cfg);
  if (encoder !== undefined) stack(encoder, cfg.n_layers, false);
  if (decoder !== undefined) stack(decoder, cfg.kind === 'encoder-decoder' ? cfg.n_decoder_layers : cfg.n_layers, cfg.kind === 'encoder-decoder');
  if (cfg.mlm_head) { s.set('mlm_head.W', [d, d]); s.set('mlm_head.b', [d]); norm('mlm_head.ln'); }
  s.set('unembed.W_U', [V, d]);
  if (cfg.logit_bias) s.set('unembed.b_U', [V]);
  return s;
}

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** `alloc` supplies the output arrays (a fresh one by default; the loader passes reused scratch for packed weights). */
function sliceAndTranspose(data: Float32Array, shape: number[], src: TensorSource, canonical: string, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): { data: Float32Array; shape: number[] } {
  let out = data;
  let outShape = shape;
  if (src.slice) {
    const { axis, start, end } = src.slice;
    if (axis >= shape.length || start < 0 || end > shape[axis] || start >= end) {
      throw new EngineError('BAD_CHECKPOINT', `${canonical}: cannot take ${start}:${end} of axis ${axis} of "${src.from}" with shape ${fmt(shape)}.`);
    }
    if (shape.length === 1 || axis === 0) {
      const row = shape.length === 1 ? 1 : shape[1];
      out = alloc((end - start) * row);
      out.set(data.subarray(start * row, end * row));
      outShape = shape.length === 1 ? [end - start] : [end - start, shape[1]];
    } else {
      const [r, c] = shape;
      const w = end - start;
      out = alloc(r * w);
      for (let i = 0; i < r; i++) out.set(data.subarray(i * c + start, i * c + end), i * w);
      outShape = [r, w];
    }
  }
  if (src.transpose) {
    if (outShape.length !== 2) throw new EngineError('BAD_CHECKPOINT', `${canonical}: "${src.from}" must be 2-D to transpose, got ${fmt(outShape)}.`);
    const [r, c] = outShape;
    out = transpose2d(out, r, c, alloc(r * c));
    outShape = [c, r];
  }
  if (src.reshape && src.reshape.reduce((a, b) => a * b, 1) === out.length) outShape = [...src.reshape];
  return { data: out, shape: outShape };
}

/** [r, c] → [c, r] in square tiles, so reads and writes both stay within cache lines (5× the naive loop on 768×3072). */
export function transpose2d(a: Float32Array, r: number, c: number, t: Float32Array = new Float32Array(r * c)): Float32Array {
  const B = 32;
  for (let i0 = 0; i0 < r; i0 += B) {
    const i1 = Math.min(r, i0 + B);
    for (let j0 = 0; j0 < c; j0 += B) {
      const j1 = Math.min(c, j0 + B);
      for (let i = i0; i < i1; i++) {
        const row = i * c;
        for (let j = j0; j < j1; j++) t[j * r + i] = a[row + j];
      }
    }
  }
  return t;
}

export interface LoadedTensors {
  readonly tensors: Map<string, Float32Array>;
  /** Parameters stored in the checkpoint tensors that were used (each counted once, ignored buffers excluded). */
  readonly paramCount: number;
}

/** Canonical names of linear maps' weights ([out, in], only ever the right-hand side of matmulT). */
const LINEAR_WEIGHT = /(^|\.)(W_[QKVO]|mlp\.W_(in|gate|out))$|^mlm_head\.W$/;
export function isLinearWeight(canonical: string): boolean {
  return LINEAR_WEIGHT.test(canonical);
}

/**
 * Hands a linear weight [n, k] (stored [out, in]) to the kernels the moment it is loaded; returns the handle
 * that stands for it from then on, or undefined to keep the array. The array's memory is the loader's again
 * afterwards (see Kernels.packWeight).
 */
export type PackWeight = (w: Float32Array, k: number, n: number, canonical: string, inOut?: boolean) => Float32Array | undefined;
/** The handle of a linear weight [n, k] packed by an earlier load, or undefined to read and pack it. */
export type RestoreWeight = (k: number, n: number, canonical: string) => Float32Array | undefined;

export interface LoadTensorOptions {
  readonly pack?: PackWeight;
  readonly restore?: RestoreWeight;
  /** Canonical tensors supplied by the caller (e.g. a restored unembedding handle): their sources are not read for them. */
  readonly presets?: ReadonlyMap<string, Float32Array>;
  /** Sees every canonical tensor as it is set (handles included), e.g. to pack a block once all of it is loaded. */
  readonly onTensor?: (canonical: string, tensor: Float32Array) => void;
  /**
   * Linear weights whose `pack` takes them [in, out] (`inOut` true) when the checkpoint stores them so (GPT-2's
   * Conv1D): they are handed over untransposed, saving the transpose (~0.4 s of a GPT-2-small first load).
   */
  readonly packsInOut?: (canonical: string) => boolean;
}

/** A few buffers reused for every packed weight, so loading touches each page of weights about once. */
class LoadScratch {
  private readonly bufs: Float32Array[] = [];
  constructor(private readonly size: number) {}
  /** Buffer i (0: raw reads, 1-2: slice/transpose outputs, used in turn). */
  get(i: number, n: number): Float32Array {
    if (n > this.size) return new Float32Array(n);
    this.bufs[i] ??= new Float32Array(this.size);
    return this.bufs[i].subarray(0, n);
  }
}

/**
 * Fills every canonical tensor exactly once from the checkpoint. Fails (BAD_CHECKPOINT) on a missing or
 * wrong-shaped tensor, naming it with both shapes, and on any checkpoint tensor neither mapped nor ignored.
 * With `pack`, linear weights go to the kernels as they are read (through reused buffers) instead of being
 * kept as arrays: the map then holds their handles.
 */
export function loadCanonicalTensors(cfg: ModelConfig, ckpt: Checkpoint, mapping: WeightMapping, ignore: readonly RegExp[], opts: LoadTensorOptions = {}): LoadedTensors {
  const { pack, restore, presets, onTensor, packsInOut } = opts;
  const expected = canonicalShapes(cfg);
  for (const name of Object.keys(mapping)) {
    if (!expected.has(name)) throw new EngineError('INTERNAL', `The ${cfg.family} adapter maps "${name}", which this config does not use.`);
  }
  // Each checkpoint tensor is read once and released after its last use (a fused tensor feeds several
  // canonical ones), so loading never holds the raw and the rearranged copy of every tensor at once.
  const raw = new Map<string, Float32Array>();
  const usesLeft = new Map<string, number>();
  for (const e of Object.values(mapping)) { const from = typeof e === 'string' ? e : e.from; usesLeft.set(from, (usesLeft.get(from) ?? 0) + 1); }
  // Scratch sized for the largest linear weight; the raw buffer holds at most one live checkpoint tensor.
  const scratch = pack || restore ? new LoadScratch(Math.max(0, ...[...expected].filter(([n]) => isLinearWeight(n)).map(([, sh]) => sh[0] * sh[1]))) : undefined;
  let rawInScratch: string | undefined;
  let turn = 0;
  const tensors = new Map<string, Float32Array>();
  let paramCount = 0;
  const counted = new Set<string>();
  const countParams = (from: string, values: number) => {
    if (!counted.has(from)) paramCount += values;
    counted.add(from);
  };
  /** One canonical tensor less needs `from`: after its last use its raw data (and scratch slot) is released. */
  const useUp = (from: string) => {
    const left = (usesLeft.get(from) ?? 1) - 1;
    usesLeft.set(from, left);
    if (left > 0) return;
    raw.delete(from);
    if (from === rawInScratch) rawInScratch = undefined;
  };
  for (const [name, shape] of expected) {
    const entry = mapping[name];
    if (entry === undefined) throw new EngineError('INTERNAL', `The ${cfg.family} adapter does not map canonical tensor "${name}".`);
    const src: TensorSource = typeof entry === 'string' ? { from: entry } : entry;
    if (!ckpt.has(src.from)) {
      throw new EngineError('BAD_CHECKPOINT', `Checkpoint tensor "${src.from}" (for ${name}, expected ${fmt(shape)}) is missing from ${ckpt.dir}.`);
    }
    const packs = scratch !== undefined && isLinearWeight(name);
    // A weight packed by an earlier load (or given by the caller) needs no read; its source's shape was checked then.
    const ready = presets?.get(name) ?? (packs ? restore?.(shape[1], shape[0], name) : undefined);
    if (ready) {
      tensors.set(name, ready);
      onTensor?.(name, ready);
      countParams(src.from, ckpt.shape(src.from).reduce((a, b) => a * b, 1));
      useUp(src.from);
      continue;
    }
    let data = raw.get(src.from);
    if (!data) {
      const count = ckpt.shape(src.from).reduce((a, b) => a * b, 1);
      const intoScratch = packs && rawInScratch === undefined;
      data = ckpt.read(src.from, intoScratch ? scratch.get(0, count) : undefined);
      if (intoScratch) rawInScratch = src.from;
      raw.set(src.from, data);
      countParams(src.from, data.length);
    }
    const alloc = packs ? (n: number) => scratch.get(1 + (turn++ % 2), n) : undefined;
    const inOut = packs && src.transpose === true && packsInOut?.(name) === true;
    const got = sliceAndTranspose(data, ckpt.shape(src.from), inOut ? { ...src, transpose: false } : src, name, alloc);
    const gotShape = inOut ? [...got.shape].reverse() : got.shape; // what the transpose would have given
    const want = src.transpose ? [...shape].reverse() : shape;
    const gotBeforeTranspose = src.transpose ? [...gotShape].reverse() : gotShape;
    if (gotShape.length !== shape.length || gotShape.some((v, i) => v !== shape[i])) {
      throw new EngineError('BAD_CHECKPOINT',
        `Tensor "${src.from}" has shape ${fmt(ckpt.shape(src.from))}${src.slice || src.transpose ? ` (${fmt(gotBeforeTranspose)} after slicing)` : ''} but ${name} needs ${fmt(want)}.`);
    }
    const handle = packs ? pack?.(got.data, shape[1], shape[0], name, inOut) : undefined;
    // A kept tensor must not live in a scratch buffer the next weight overwrites.
    const inScratch = src.from === rawInScratch && got.data.buffer === data.buffer;
    const kept = handle ?? (packs || inScratch ? got.data.slice() : got.data);
    tensors.set(name, kept);
    onTensor?.(name, kept);
    useUp(src.from);
  }
  const used = new Set([...Object.values(mapping)].map((e) => (typeof e === 'string' ? e : e.from)));
  const stray = ckpt.names().filter((n) => !used.has(n) && !ignore.some((re) => re.test(n)));
  if (stray.length > 0) {
    throw new EngineError('BAD_CHECKPOINT',
      `Checkpoint has ${stray.length} tensor(s) the ${cfg.family} adapter does not understand: ${stray.slice(0, 5).map((s) => `"${s}"`).join(', ')}${stray.length > 5 ? ', …' : ''}.`,
      'The checkpoint may be a variant this engine does not support yet.');
  }
  return { tensors, paramCount };
}

/** Assembles the loaded flat tensors into the structure the forward pass walks. */
export function assembleWeights(cfg: ModelConfig, t: Map<string, Float32Array>): ModelWeights {
  const get = (n: string): Float32Array => {
    const v = t.get(n);
    if (!v) throw new EngineError('INTERNAL', `canonical tensor ${n} was not loaded`);
    return v;
  };
  const opt = (n: string): Float32Array | undefined => t.get(n);
  const norm = (n: string): Norm => ({ w: get(`${n}.w`), b: opt(`${n}.b`) });
  const lin = (w: string, b: string | undefined, nOut: number, nIn: number): Linear => ({ w: get(w), b: b ? opt(b) : undefined, nOut, nIn });
  const { d_model: d, n_heads: H, n_kv_heads: Hkv, d_head: dh, d_mlp: f } = cfg;
  const attn = (p: string): AttnWeights => ({
    q: lin(`${p}.W_Q`, `${p}.b_Q`, H * dh, d), k: lin(`${p}.W_K`, `${p}.b_K`, Hkv * dh, d),
    v: lin(`${p}.W_V`, `${p}.b_V`, Hkv * dh, d), o: lin(`${p}.W_O`, `${p}.b_O`, d, H * dh),
  });
  const stack = (p: string, layers: number, cross: boolean): StackWeights => ({
    blocks: Array.from({ length: layers }, (_, l) => {
      const b = `${p}blocks.${l}`;
      return {
        ln1: norm(`${b}.ln1`), attn: attn(`${b}.attn`),
        lnCross: cross ? norm(`${b}.ln_cross`) : undefined, crossAttn: cross ? attn(`${b}.cross_attn`) : undefined,
        ln2: norm(`${b}.ln2`),
        mlp: { in: lin(`${b}.mlp.W_in`, `${b}.mlp.b_in`, f, d), gate: cfg.gated_mlp ? lin(`${b}.mlp.W_gate`, `${b}.mlp.b_gate`, f, d) : undefined, out: lin(`${b}.mlp.W_out`, `${b}.mlp.b_out`, d, f) },
      };
    }),
    lnFinal: cfg.final_norm ? norm(`${p}ln_final`) : undefined,
    relBias: opt(`${p}rel_bias`),
  });
  const { encoder, decoder } = stackPrefixes(cfg);
  return {
    W_E: get('embed.W_E'), W_pos: opt('pos_embed.W_pos'), W_type: opt('embed.W_token_type'),
    embedLn: cfg.embed_norm ? norm('embed.ln') : undefined,
    encoder: encoder !== undefined ? stack(encoder, cfg.n_layers, false) : undefined,
    decoder: decoder !== undefined ? stack(decoder, cfg.kind === 'encoder-decoder' ? cfg.n_decoder_layers : cfg.n_layers, cfg.kind === 'encoder-decoder') : undefined,
    mlmHead: cfg.mlm_head ? { dense: lin('mlm_head.W', 'mlm_head.b', d, d), ln: norm('mlm_head.ln') } : undefined,
    W_U: get('unembed.W_U'), b_U: opt('unembed.b_U'),
  };
}
