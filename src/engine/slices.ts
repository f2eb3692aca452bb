/**
 * Turns a Trace into the small slices the views draw (src/protocol/views.ts). Runs in the worker, so a view
 * never receives more than one chart's worth of numbers.
 */
import { aggregateHeads, attentionRollout, poolMatrix } from './analysis/attention';
import { EngineError } from './errors';
import type { Model, Seq2SeqTrace } from './model';
import { positionSimilarity, relativeBucket, ropeFrequencies, ropeRelativeScores, sinusoidalTable, sinusoidalWavelengths } from './positional';
import type { Trace } from './trace';
import type {
  AttentionGrid, AttentionSlice, AttentionStack, HeadMathSlice, LogitLensSlice, Matrix, PositionalSlice, PredictionQuery,
  PredictionsSlice, SliceRequest, TopEntry,
} from '../protocol/views';

/** One analysis as the worker keeps it: a single trace (decoder-only, encoder-only) or both sides of a seq2seq run. */
export type AnalysisTraces = { readonly kind: 'single'; readonly trace: Trace } | { readonly kind: 'seq2seq'; readonly traces: Seq2SeqTrace };

/** Largest number of positions a logit-lens grid covers (each cell is an unembedding). */
export const LOGIT_LENS_MAX_POSITIONS = 64;

export function computeSlice(model: Model, a: AnalysisTraces, req: SliceRequest, cache: Map<string, unknown>): unknown {
  switch (req.slice) {
    case 'attention': return attentionSlice(a, req.query);
    case 'attentionGrid': return attentionGrid(a, req.stack, req.size);
    case 'headMath': return headMath(a, req.stack, req.layer, req.head, req.query);
    case 'positional': return positionalSlice(model, a, req.count);
    case 'predictions': return memo(cache, `pred:${req.query.k}:${req.query.temperature}`, () => predictions(model, a, req.query));
    case 'logitLens': return memo(cache, `lens:${req.k}`, () => logitLens(lmTrace(a), req.k));
    default: {
      const never: never = req;
      throw new EngineError('BAD_INPUT', `Unknown slice ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Cached slices are handed out as copies: the worker transfers a result's ArrayBuffers to the host, which detaches
 * them, so returning the cached object itself would make the second request for it fail to post (and never answer).
 */
function memo<T>(cache: Map<string, unknown>, key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return structuredClone(cache.get(key) as T);
}

/** The trace that holds a stack's self-attention. */
export function stackTrace(a: AnalysisTraces, stack: AttentionStack): Trace {
  if (a.kind === 'single') {
    if (stack !== 'self') throw new EngineError('BAD_INPUT', `This model has no ${stack} attention; use "self".`);
    return a.trace;
  }
  if (stack === 'self') throw new EngineError('BAD_INPUT', 'Encoder-decoder models have encoder, decoder and cross attention.');
  return stack === 'encoder' ? a.traces.encoder : a.traces.decoder;
}

/** The trace whose positions carry next-token predictions (the decoder of a seq2seq model). */
export function lmTrace(a: AnalysisTraces): Trace {
  return a.kind === 'single' ? a.trace : a.traces.decoder;
}

function layerPatterns(a: AnalysisTraces, stack: AttentionStack, layer: number): { data: Float32Array; nq: number; nk: number; heads: number } {
  const t = stackTrace(a, stack);
  if (stack === 'cross' && a.kind === 'seq2seq') {
    const nk = a.traces.encoder.n;
    return { data: t.crossPatternLayer(layer), nq: t.n, nk, heads: t.nHeads };
  }
  return { data: t.patternLayer(layer), nq: t.n, nk: t.n, heads: t.nHeads };
}

function headOf(data: Float32Array, head: number, nq: number, nk: number): Float32Array {
  return data.slice(head * nq * nk, (head + 1) * nq * nk);
}

function attentionSlice(a: AnalysisTraces, q: AttentionSlice['query']): AttentionSlice {
  const t = stackTrace(a, q.stack);
  if (q.layer >= t.nLayers) throw new EngineError('BAD_INPUT', `Layer ${q.layer} is outside 0…${t.nLayers - 1}.`);
  for (const h of q.heads) if (h >= t.nHeads) throw new EngineError('BAD_INPUT', `Head ${h} is outside 0…${t.nHeads - 1}.`);
  if (q.aggregation === 'rollout') {
    if (q.stack === 'cross') throw new EngineError('BAD_INPUT', 'Attention rollout is defined for self-attention only.');
    const layers = Array.from({ length: q.layer + 1 }, (_, l) => {
      const p = layerPatterns(a, q.stack, l);
      return aggregateHeads(p.data, p.heads, p.nq, p.nk, 'mean');
    });
    return { query: q, nq: t.n, nk: t.n, matrices: [matrix(t.n, t.n, attentionRollout(layers, t.n))] };
  }
  const p = layerPatterns(a, q.stack, q.layer);
  if (q.aggregation === 'head') {
    return { query: q, nq: p.nq, nk: p.nk, matrices: q.heads.map((h) => matrix(p.nq, p.nk, headOf(p.data, h, p.nq, p.nk))) };
  }
  return { query: q, nq: p.nq, nk: p.nk, matrices: [matrix(p.nq, p.nk, aggregateHeads(p.data, p.heads, p.nq, p.nk, q.aggregation, q.heads))] };
}

function attentionGrid(a: AnalysisTraces, stack: AttentionStack, size: number): AttentionGrid {
  const t = stackTrace(a, stack);
  const thumbs: Matrix[] = [];
  for (let l = 0; l < t.nLayers; l++) {
    const p = layerPatterns(a, stack, l);
    for (let h = 0; h < p.heads; h++) {
      const pooled = poolMatrix(headOf(p.data, h, p.nq, p.nk), p.nq, p.nk, size);
      thumbs.push(matrix(pooled.rows, pooled.cols, pooled.data));
    }
  }
  return { stack, layers: t.nLayers, heads: t.nHeads, thumbs };
}

function headMath(a: AnalysisTraces, stack: AttentionStack, layer: number, head: number, query: number): HeadMathSlice {
  if (stack === 'cross') throw new EngineError('BAD_INPUT', 'The step-by-step view covers self-attention heads; pick the encoder or decoder stack.');
  const m = stackTrace(a, stack).headMath(layer, head, query);
  const nk = m.weights.length;
  const bias = new Float32Array(nk);
  let hasBias = false;
  for (let j = 0; j < nk; j++) {
    bias[j] = m.scores[j] - m.dots[j] * m.scale;
    if (Math.abs(bias[j]) > 1e-6) hasBias = true;
  }
  return {
    layer, head, query, kvHead: m.kvHead, dHead: m.d_head, keys: Array.from({ length: nk }, (_, j) => j),
    q: m.q, k: matrix(nk, m.d_head, m.k), v: matrix(nk, m.d_head, m.v), dots: m.dots, scale: m.scale, bias: hasBias ? bias : undefined,
    scores: m.scores, weights: m.weights, z: m.z, causal: m.causal, rotary: m.rotary,
  };
}

function positionalSlice(model: Model, a: AnalysisTraces, requested: number): PositionalSlice {
  const scheme = model.positional();
  const count = Math.max(1, Math.min(requested, scheme.n_ctx || requested, 2048));
  const d = scheme.d_model;
  const sin = sinusoidalTable(count, d, 'interleaved'); // the textbook layout, as a reference for every model
  const slice: { -readonly [K in keyof PositionalSlice]: PositionalSlice[K] } = {
    kind: scheme.kind, count,
    sinusoid: matrix(count, d, sin),
    sinusoidSimilarity: matrix(count, count, positionSimilarity(sin, count, d)),
    wavelengths: Float32Array.from(sinusoidalWavelengths(d)),
    tokenPositions: Array.from({ length: lmTrace(a).n }, (_, i) => i),
  };
  const table = model.positionTable();
  if (table && (scheme.kind === 'learned' || scheme.kind === 'sinusoidal')) {
    const rows = Math.min(count, table.length / d);
    const part = table.slice(0, rows * d);
    slice.table = matrix(rows, d, part);
    slice.tableSimilarity = matrix(rows, rows, positionSimilarity(part, rows, d));
  }
  if (scheme.kind === 'rope' && scheme.rope_theta !== undefined) {
    const { invFreq } = ropeFrequencies(scheme.d_head, scheme.rope_theta);
    slice.ropeInvFreq = Float32Array.from(invFreq);
    slice.ropeRelative = Float32Array.from(ropeRelativeScores(invFreq, count));
  }
  if (scheme.kind === 'relative_bias' && scheme.relative_buckets && scheme.relative_max_distance) {
    const span = 2 * count - 1;
    const buckets = new Int32Array(span);
    for (let i = 0; i < span; i++) buckets[i] = relativeBucket(i - (count - 1), true, scheme.relative_buckets, scheme.relative_max_distance);
    slice.t5Buckets = buckets;
    const table = model.loaded.w.encoder?.relBias; // [buckets, heads]
    if (table) {
      const H = model.info.n_heads;
      const bias = new Float32Array(H * span);
      for (let h = 0; h < H; h++) for (let i = 0; i < span; i++) bias[h * span + i] = table[buckets[i] * H + h];
      slice.t5Bias = matrix(H, span, bias);
    }
  }
  return slice;
}

function toEntries(top: readonly { id: number; token: string; prob: number }[]): TopEntry[] {
  return top.map(({ id, token, prob }) => ({ id, token, prob }));
}

function predictions(model: Model, a: AnalysisTraces, query: PredictionQuery): PredictionsSlice {
  const t = lmTrace(a);
  const top = topKEverywhere(t, query);
  const stats = t.nextTokenStats();
  const slice: { -readonly [K in keyof PredictionsSlice]: PredictionsSlice[K] } = {
    query, top,
    actualProb: Float32Array.from(stats.prob),
    actualRank: Int32Array.from(stats.rank),
    surprisalBits: Float32Array.from(stats.surprisalBits),
  };
  if (model.info.kind === 'encoder') {
    slice.masks = model.maskPositions({ ids: [...t.tokens.ids], tokens: [...t.tokens.tokens], offsets: [], special: [] })
      .map((position) => ({ position, top: top[position] }));
  }
  return slice;
}

/** Top-k at every position (one unembedding pass shared with the next-token stats; see Trace.topKEverywhere). */
function topKEverywhere(t: Trace, query: PredictionQuery): TopEntry[][] {
  return t.topKEverywhere(query.k, query.temperature).map(toEntries);
}

function logitLens(t: Trace, k: number): LogitLensSlice {
  const first = Math.max(0, t.n - LOGIT_LENS_MAX_POSITIONS);
  const positions = Array.from({ length: t.n - first }, (_, i) => first + i);
  const top: TopEntry[][][] = Array.from({ length: t.nLayers + 1 }, () => []);
  for (const p of positions) {
    for (const { layer, top: entries } of t.logitLens(p, k)) top[layer].push(toEntries(entries));
  }
  return { layers: t.nLayers + 1, positions, top };
}

function matrix(rows: number, cols: number, data: Float32Array): Matrix {
  return { rows, cols, data };
}
