/**
 * What one run keeps, and the slices the views ask for.
 *
 * Kept (per stack): token ids/strings/offsets; every layer's attention pattern (causal rows stored as the
 * lower triangle; float32 while the patterns fit PATTERN_F32_BUDGET bytes, otherwise uint16-quantised with
 * |error| ≤ 7.7e-6); the residual entering every block [n, d] (float32, for the logit lens and for recomputing
 * one head's q/k/v); the final hidden state [n, d]; residual norms. Computed on request: logits / top-k at any
 * position, next-token probability/rank/surprisal, logit lens, one head's q/k/v math. Nothing else is held:
 * per-head q/k/v/z and MLP activations are recomputed from the stored residual when asked for.
 */
import { EngineError } from './errors';
import { finalNorm, positionBias, recomputeCrossHeads, recomputeHeads, scratchBuffer, unembedRows, unembedSummary, type AttnHeads, type LoadedModel, type StackOutput } from './forward';
import { hookName, type Recorder } from './hooks';
import { rankOf, topIndices } from './analysis/predictions';
import { packedPerHead, packRow, type PackedPattern } from './kernels/types';
import { rowNorms, scaleInPlace, softmax64 } from './ops';

/**
 * Where the kernels cannot summarise logits natively, they are computed in row chunks of at most this many bytes
 * (41 GPT-2 rows), into the model's 'logits' work buffer (forward.scratchBuffer), kept for the next trace: bounded
 * memory at any length, and no fresh pages to fault in on every trace.
 */
const LOGITS_CHUNK_BYTES = 8 << 20;

/** Patterns up to this many bytes are kept exactly (float32); larger ones are quantised to uint16. */
export const PATTERN_F32_BUDGET = 64 * 1024 * 1024;

export type PatternPrecision = 'f32' | 'u16';

/** Attention patterns of one stack, [layers][heads, n, n], causal ones stored as lower triangles. */
export class PatternStore {
  private readonly data: (Float32Array | Uint16Array | undefined)[];
  readonly perHead: number;
  constructor(readonly layers: number, readonly heads: number, readonly nq: number, readonly nk: number, readonly causal: boolean, readonly precision: PatternPrecision) {
    this.perHead = packedPerHead({ triangle: causal }, nq, nk);
    this.data = new Array(layers).fill(undefined);
  }
  static bytesFor(layers: number, heads: number, nq: number, nk: number, causal: boolean, precision: PatternPrecision): number {
    return layers * heads * packedPerHead({ triangle: causal }, nq, nk) * (precision === 'f32' ? 4 : 2);
  }
  private rowStart(q: number): number {
    return this.causal ? (q * (q + 1)) / 2 : q * this.nk;
  }
  private rowLength(q: number): number {
    return this.causal ? q + 1 : this.nk;
  }
  /** An empty packed buffer for layer `layer`, now the stored one: the caller fills it (see PackedPattern). */
  reserve(layer: number): PackedPattern {
    const out = this.precision === 'f32' ? new Float32Array(this.heads * this.perHead) : new Uint16Array(this.heads * this.perHead);
    this.data[layer] = out;
    return { triangle: this.causal, out };
  }
  /** Stores layer `layer`'s pattern [heads, nq, nk], packed the same way kernels pack it (packRow). */
  set(layer: number, pattern: Float32Array): void {
    const packed = this.reserve(layer);
    for (let h = 0; h < this.heads; h++) {
      for (let q = 0; q < this.nq; q++) packRow(packed, h, q, this.nq, this.nk, pattern.subarray((h * this.nq + q) * this.nk, (h * this.nq + q + 1) * this.nk));
    }
  }
  /** Query row q of head h at layer l → [nk] (zeros above the diagonal for causal patterns). */
  row(layer: number, head: number, q: number, out = new Float32Array(this.nk)): Float32Array {
    const packed = this.data[layer];
    if (!packed) throw new EngineError('INTERNAL', `attention of layer ${layer} was not recorded`);
    const start = head * this.perHead + this.rowStart(q);
    const len = this.rowLength(q);
    for (let j = 0; j < len; j++) out[j] = packed instanceof Float32Array ? packed[start + j] : packed[start + j] / 65535;
    out.fill(0, len);
    return out;
  }
  /** Head h at layer l → [nq, nk]. */
  head(layer: number, head: number): Float32Array {
    const out = new Float32Array(this.nq * this.nk);
    for (let q = 0; q < this.nq; q++) this.row(layer, head, q, out.subarray(q * this.nk, (q + 1) * this.nk));
    return out;
  }
  /** Layer l → [heads, nq, nk]. */
  layer(layer: number): Float32Array {
    const out = new Float32Array(this.heads * this.nq * this.nk);
    for (let h = 0; h < this.heads; h++) out.set(this.head(layer, h), h * this.nq * this.nk);
    return out;
  }
  get bytes(): number {
    return this.data.reduce((s, a) => s + (a ? a.byteLength : 0), 0);
  }
}

export interface StackRecorderOptions {
  readonly stack: 'encoder' | 'decoder';
  /** Hook prefix of the stack ('' for single-stack models, 'encoder.' / 'decoder.' for seq2seq). */
  readonly prefix: string;
  readonly layers: number;
  readonly heads: number;
  readonly n: number;
  readonly causal: boolean;
  readonly precision: PatternPrecision;
  /** Encoder length when this decoder stack has cross-attention (its patterns [heads, n, crossLen] are kept too). */
  readonly crossLen?: number;
  /** Further hooks to pass through (e.g. a HookCache the caller asked for). */
  readonly extra?: Recorder;
}

/** Records what a trace keeps for one stack while the forward pass runs (only these hooks are copied). */
export class StackRecorder implements Recorder {
  readonly residPre: Float32Array[] = [];
  readonly patterns: PatternStore;
  readonly crossPatterns?: PatternStore;
  readonly stack: 'encoder' | 'decoder';
  readonly causal: boolean;
  private readonly names = new Map<string, { kind: 'pattern' | 'cross' | 'resid'; layer: number }>();
  private readonly extra?: Recorder;
  /** Pattern hooks written straight into the store (packedPattern). */
  private readonly direct = new Set<string>();
  constructor(o: StackRecorderOptions) {
    this.stack = o.stack;
    this.causal = o.causal;
    this.extra = o.extra;
    this.patterns = new PatternStore(o.layers, o.heads, o.n, o.n, o.causal, o.precision);
    if (o.crossLen !== undefined) this.crossPatterns = new PatternStore(o.layers, o.heads, o.n, o.crossLen, false, o.precision);
    for (let l = 0; l < o.layers; l++) {
      this.names.set(hookName('pattern', l, 'attn', o.prefix), { kind: 'pattern', layer: l });
      this.names.set(hookName('resid_pre', l, 'attn', o.prefix), { kind: 'resid', layer: l });
      if (this.crossPatterns) this.names.set(hookName('pattern', l, 'cross_attn', o.prefix), { kind: 'cross', layer: l });
    }
  }
  wants(name: string): boolean {
    return this.names.has(name) || (this.extra?.wants(name) ?? false);
  }
  packedPattern(name: string): { packed: PackedPattern; fullWanted: boolean } | undefined {
    const hit = this.names.get(name);
    if (hit?.kind !== 'pattern' || (this.causal && this.patterns.nq !== this.patterns.nk)) return undefined;
    this.direct.add(name);
    return { packed: this.patterns.reserve(hit.layer), fullWanted: this.extra?.wants(name) ?? false };
  }
  record(name: string, data: Float32Array, shape: readonly number[], owned = false): void {
    const hit = this.names.get(name);
    if (hit?.kind === 'pattern') {
      if (!this.direct.has(name)) this.patterns.set(hit.layer, data); // else already written, packed
    } else if (hit?.kind === 'cross') this.crossPatterns?.set(hit.layer, data);
    else if (hit?.kind === 'resid') this.residPre[hit.layer] = owned ? data : data.slice(); // `extra` gets a borrowed view below
    if (this.extra?.wants(name)) this.extra.record(name, data, shape);
  }
}

export interface TopToken { readonly id: number; readonly token: string; readonly prob: number; readonly logit: number }

/** The actual next token's probability, rank (0 = top) and surprisal at every position but the last. */
export interface NextTokenStats {
  readonly prob: Float64Array;
  readonly rank: Int32Array;
  readonly surprisalNats: Float64Array;
  readonly surprisalBits: Float64Array;
}

/** One head's attention for one query, with the model's real numbers (the "math of one head" view). */
export interface HeadMath {
  readonly layer: number;
  readonly head: number;
  readonly query: number;
  /** The kv head serving this query head (GQA). */
  readonly kvHead: number;
  readonly d_head: number;
  /** The query vector [d_head] (after RoPE when the model uses it). */
  readonly q: Float32Array;
  /** Keys and values of the visible key positions [n_keys, d_head] (keys after RoPE). */
  readonly k: Float32Array;
  readonly v: Float32Array;
  /** Raw q·k per visible key [n_keys] (causal: keys 0…query), then × scale + position bias (relative_bias models). */
  readonly dots: Float32Array;
  readonly scale: number;
  readonly scores: Float32Array;
  /** softmax(scores) [n_keys] — equals the stored pattern row. */
  readonly weights: Float32Array;
  /** Σ weights·v [d_head]. */
  readonly z: Float32Array;
  readonly causal: boolean;
  readonly rotary: boolean;
}

export interface TokenInfo {
  readonly ids: readonly number[];
  readonly tokens: readonly string[];
  readonly offsets: readonly (readonly [number, number])[];
  readonly special: readonly boolean[];
}

export class Trace {
  readonly n: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly dModel: number;
  /** Norm of the residual at every layer boundary: [n_layers + 1, n]; row l < n_layers enters block l, the last row is the final hidden state. */
  readonly residNorms: Float32Array;
  private nextStats?: NextTokenStats;

  constructor(
    private readonly model: LoadedModel,
    private readonly idToToken: (id: number) => string,
    readonly text: string,
    readonly tokens: TokenInfo,
    private readonly rec: StackRecorder,
    /** Final hidden state [n, d_model] (after the final norm when the model has one): the unembedding input. */
    readonly finalHidden: Float32Array,
    /** False for the encoder side of an encoder-decoder (its output feeds cross-attention, not logits). */
    readonly hasHead = true,
    /** The encoder output a seq2seq decoder attended to (for the cross-attention head math). */
    private readonly encoderOut?: StackOutput,
  ) {
    this.n = tokens.ids.length;
    this.nLayers = rec.residPre.length;
    this.nHeads = model.cfg.n_heads;
    this.dModel = model.cfg.d_model;
    this.residNorms = new Float32Array((this.nLayers + 1) * this.n);
    rec.residPre.forEach((r, l) => this.residNorms.set(rowNorms(r, this.n, this.dModel), l * this.n));
    this.residNorms.set(rowNorms(finalHidden, this.n, this.dModel), this.nLayers * this.n);
  }

  /** Which stack this trace covers, and whether its self-attention is causal. */
  get stack(): 'encoder' | 'decoder' {
    return this.rec.stack;
  }
  get causal(): boolean {
    return this.rec.causal;
  }
  get patternPrecision(): PatternPrecision {
    return this.rec.patterns.precision;
  }
  private checkPos(pos: number, what = 'position'): void {
    if (!Number.isInteger(pos) || pos < 0 || pos >= this.n) throw new EngineError('BAD_INPUT', `${what} ${pos} is outside 0…${this.n - 1}.`);
  }
  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.nLayers) throw new EngineError('BAD_INPUT', `Layer ${layer} is outside 0…${this.nLayers - 1}.`);
  }
  private checkHead(head: number): void {
    if (!Number.isInteger(head) || head < 0 || head >= this.nHeads) throw new EngineError('BAD_INPUT', `Head ${head} is outside 0…${this.nHeads - 1}.`);
  }

  /** Attention of one head [n, n] (query × key). */
  pattern(layer: number, head: number): Float32Array {
    this.checkLayer(layer); this.checkHead(head);
    return this.rec.patterns.head(layer, head);
  }
  /** Every head of one layer [n_heads, n, n]. */
  patternLayer(layer: number): Float32Array {
    this.checkLayer(layer);
    return this.rec.patterns.layer(layer);
  }
  /** One query row of one head [n]. */
  patternRow(layer: number, head: number, query: number): Float32Array {
    this.checkLayer(layer); this.checkHead(head); this.checkPos(query, 'Query');
    return this.rec.patterns.row(layer, head, query);
  }
  /** Cross-attention of one decoder head over the encoder positions [n, encoder_n] (encoder-decoders only). */
  crossPattern(layer: number, head: number): Float32Array {
    return this.crossStore(layer, head).head(layer, head);
  }
  /** Every head's cross-attention at one decoder layer [n_heads, n, encoder_n]. */
  crossPatternLayer(layer: number): Float32Array {
    return this.crossStore(layer, 0).layer(layer);
  }
  private crossStore(layer: number, head: number): PatternStore {
    this.checkLayer(layer); this.checkHead(head);
    if (!this.rec.crossPatterns) throw new EngineError('BAD_INPUT', 'This trace has no cross-attention (not the decoder of an encoder-decoder).');
    return this.rec.crossPatterns;
  }
  /** Residual entering block `layer` [n, d_model] (layer = n_layers gives the final hidden state). */
  resid(layer: number): Float32Array {
    if (layer === this.nLayers) return this.finalHidden;
    this.checkLayer(layer);
    return this.rec.residPre[layer];
  }

  /** Logits at the given positions [positions.length, d_vocab]. */
  logitsAt(positions: readonly number[]): Float32Array {
    if (!this.hasHead) throw new EngineError('BAD_INPUT', 'This side of the model has no language-model head (encoder of an encoder-decoder).');
    positions.forEach((p) => this.checkPos(p));
    return unembedRows(this.model, this.finalHidden, positions);
  }

  /** Top-k next tokens at `position` from softmax(logits / temperature), best first. */
  topK(position: number, k = 5, temperature = 1): TopToken[] {
    if (!(temperature > 0)) throw new EngineError('BAD_INPUT', `Temperature must be > 0, got ${temperature}.`);
    return this.topFromLogits(this.logitsAt([position]), k, temperature);
  }

  private topFromLogits(logits: Float32Array, k: number, temperature: number): TopToken[] {
    const probs = softmax64(logits, temperature);
    return topIndices(probs, k).map((id) => ({ id, token: this.idToToken(id), prob: probs[id], logit: logits[id] }));
  }

  /** Probability, rank and surprisal of the actual next token at positions 0…n-2 (computed once, in row chunks). */
  nextTokenStats(): NextTokenStats {
    if (!this.nextStats) this.scanLogits(Math.max(0, this.n - 1), 0, 1);
    return this.nextStats as NextTokenStats;
  }

  /**
   * Top-k next tokens (softmax of logits / temperature) at every position, from one unembedding pass in row
   * chunks that also fills nextTokenStats() when it is not computed yet: the views need both, and the logits are
   * the costliest product of a trace.
   */
  topKEverywhere(k: number, temperature = 1): TopToken[][] {
    if (!(temperature > 0)) throw new EngineError('BAD_INPUT', `Temperature must be > 0, got ${temperature}.`);
    if (temperature !== 1) this.nextTokenStats(); // the stats are at temperature 1: their own pass
    return this.scanLogits(this.n, k, temperature);
  }

  /**
   * Top-k at positions 0…count-1, filling the next-token stats on the way (when not computed yet; only at
   * temperature 1): from the kernels' native logit summary when they have one, else from the logits in chunks
   * of one reused buffer (top-k ids, ranks and the next token's logit read off the logits, then the kernels'
   * float32 softmax in place).
   */
  private scanLogits(count: number, k: number, temperature: number): TopToken[][] {
    if (!this.hasHead) throw new EngineError('BAD_INPUT', 'This side of the model has no language-model head (encoder of an encoder-decoder).');
    const V = this.model.cfg.d_vocab;
    const stats = this.nextStats || temperature !== 1 ? undefined : emptyStats(Math.max(0, this.n - 1));
    const top: TopToken[][] = [];
    const next = (t: number) => (stats && t < stats.prob.length ? this.tokens.ids[t + 1] : -1);
    const setStats = (t: number, nats: number, rank: number) => {
      if (!stats) return;
      stats.prob[t] = Math.exp(-nats);
      stats.rank[t] = rank;
      stats.surprisalNats[t] = nats;
      stats.surprisalBits[t] = nats / Math.LN2;
    };
    // Natively summarised where the kernels can (the logits never reach JavaScript; the kernels block the rows) …
    const all = Array.from({ length: count }, (_, t) => t);
    const want = { top: Math.max(1, k), temperature, targets: Int32Array.from(all, (t) => Math.max(0, next(t))) };
    const summary = count > 0 ? unembedSummary(this.model, this.finalHidden, all, want) : undefined;
    if (summary) {
      const kk = summary.topIds.length / count;
      for (let t = 0; t < count; t++) {
        const lse = summary.logSumExp[t];
        if (k > 0) {
          top.push(Array.from({ length: Math.min(k, kk) }, (_, j) => {
            const id = summary.topIds[t * kk + j];
            const logit = summary.topLogits[t * kk + j];
            return { id, token: this.idToToken(id), prob: Math.exp(logit / temperature - lse), logit };
          }));
        }
        if (next(t) >= 0) setStats(t, lse - summary.targetLogit[t], summary.targetRank[t]);
      }
      if (stats) this.nextStats = stats;
      return top;
    }
    // … else from the logits in row chunks, with the kernels' softmax (float32, vectorised) in place on a reused buffer.
    const chunk = Math.max(1, Math.min(count, Math.floor(LOGITS_CHUNK_BYTES / (4 * V))));
    for (let start = 0; start < count; start += chunk) {
      const rows = Array.from({ length: Math.min(chunk, count - start) }, (_, i) => start + i);
      const logits = unembedRows(this.model, this.finalHidden, rows, scratchBuffer(this.model, 'logits', rows.length * V));
      const picks = rows.map((t, i) => {
        const row = logits.subarray(i * V, (i + 1) * V);
        const ids = k > 0 ? topIndices(row, k) : [];
        const nx = next(t);
        return { ids, logits: ids.map((id) => row[id]), next: nx, nextLogit: nx >= 0 ? row[nx] : 0, rank: nx >= 0 ? rankOf(row, nx) : 0 };
      });
      if (temperature !== 1) scaleInPlace(logits, 1 / temperature);
      const probs = this.model.kernels.softmaxRows(logits, rows.length, V);
      rows.forEach((t, i) => {
        const p = picks[i];
        if (k > 0) top.push(p.ids.map((id, j) => ({ id, token: this.idToToken(id), prob: probs[i * V + id], logit: p.logits[j] })));
        if (p.next < 0) return;
        // −ln p; when p underflowed float32 (an almost impossible next token), log-sum-exp in float64 instead.
        const pNext = probs[i * V + p.next];
        setStats(t, pNext > 1e-30 ? -Math.log(pNext) : logSumExp(unembedRows(this.model, this.finalHidden, [t])) - p.nextLogit, p.rank);
      });
    }
    if (stats) this.nextStats = stats;
    return top;
  }

  /** Logit lens at `position`: final norm + unembedding applied to the residual entering each block, then the final state. */
  logitLens(position: number, k = 5): { layer: number; top: TopToken[] }[] {
    this.checkPos(position);
    const d = this.dModel;
    const out: { layer: number; top: TopToken[] }[] = [];
    for (let l = 0; l <= this.nLayers; l++) {
      const row = this.resid(l).slice(position * d, (position + 1) * d);
      const normed = l === this.nLayers ? row : finalNorm(this.model, row, 1, this.rec.stack);
      out.push({ layer: l, top: this.topFromLogits(unembedRows(this.model, normed, [0]), k, 1) });
    }
    return out;
  }

  /** One head's q, k, v, scores, weights and output for one query, recomputed from the stored residual. */
  headMath(layer: number, head: number, query: number): HeadMath {
    this.checkLayer(layer); this.checkHead(head); this.checkPos(query, 'Query');
    const { stack, causal } = this.rec;
    const heads = recomputeHeads(this.model, stack, layer, this.rec.residPre[layer], this.n);
    const nk = causal ? query + 1 : this.n;
    const bias = positionBias(this.model, this.model.w[stack] ?? { blocks: [] }, 1, nk, query, !causal); // [n_heads, 1, nk]
    return this.math(heads, layer, head, query, nk, bias, causal, this.model.cfg.positional === 'rope');
  }

  /** The same for a decoder head's cross-attention over the encoder positions (encoder-decoders only). */
  crossHeadMath(layer: number, head: number, query: number): HeadMath {
    this.checkLayer(layer); this.checkHead(head); this.checkPos(query, 'Query');
    if (!this.encoderOut) throw new EngineError('BAD_INPUT', 'This trace has no cross-attention (not the decoder of an encoder-decoder).');
    const heads = recomputeCrossHeads(this.model, layer, this.rec.residPre[layer], this.n, this.encoderOut);
    return this.math(heads, layer, head, query, this.encoderOut.n, undefined, false, false);
  }

  private math(heads: AttnHeads, layer: number, head: number, query: number, nk: number, bias: Float32Array | undefined, causal: boolean, rotary: boolean): HeadMath {
    const cfg = this.model.cfg;
    const dh = cfg.d_head;
    const kvHead = Math.floor(head / (cfg.n_heads / cfg.n_kv_heads));
    const q = heads.q.slice((head * heads.nq + query) * dh, (head * heads.nq + query + 1) * dh);
    const k = heads.k.slice(kvHead * heads.kvStride * dh, (kvHead * heads.kvStride + nk) * dh);
    const v = heads.v.slice(kvHead * heads.kvStride * dh, (kvHead * heads.kvStride + nk) * dh);
    const dots = this.model.kernels.matmulT(q, k, 1, dh, nk);
    const scores = dots.map((x, j) => x * cfg.attn_scale + (bias ? bias[head * nk + j] : 0));
    const weights = new Float32Array(softmax64(scores));
    const z = this.model.kernels.matmul(weights, v, 1, nk, dh);
    return { layer, head, query, kvHead, d_head: dh, q, k, v, dots, scale: cfg.attn_scale, scores, weights, z, causal, rotary };
  }

  /** Bytes held by this trace's own arrays (weights are shared with the model and not counted). */
  memoryBytes(): number {
    const resid = this.rec.residPre.reduce((s, a) => s + a.byteLength, 0);
    const small = this.residNorms.byteLength + this.n * 64;
    return this.rec.patterns.bytes + (this.rec.crossPatterns?.bytes ?? 0) + resid + this.finalHidden.byteLength + small;
  }
}

function emptyStats(m: number): NextTokenStats {
  return { prob: new Float64Array(m), rank: new Int32Array(m), surprisalNats: new Float64Array(m), surprisalBits: new Float64Array(m) };
}

/** log Σ exp(x) in float64. */
function logSumExp(x: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  return max + Math.log(sum);
}
