/**
 * What the analysis views draw, and what they ask for: the payloads of the view messages. The envelope (version,
 * ids, request/response) lives in webview.ts; this file only describes the data and validates it at receive.
 * Matrices travel as {rows, cols, data: Float32Array} so postMessage copies them as binary, never JSON lists.
 * Every token the views show carries its [start, end) in the analysed text (UTF-16 units).
 */

export type ViewKind = 'tokens' | 'attention' | 'positional' | 'predictions';
export const VIEW_KINDS: readonly ViewKind[] = ['tokens', 'attention', 'positional', 'predictions'];

/** Attention stacks: decoder-only and encoder-only models have 'self'; encoder-decoders have the other three. */
export type AttentionStack = 'self' | 'encoder' | 'decoder' | 'cross';
export type Aggregation = 'head' | 'mean' | 'max' | 'rollout';

export interface ViewToken {
  readonly id: number;
  /** As the vocabulary spells it (`Ġworld`, `▁Hello`, `<0xF0>`, `[CLS]`). */
  readonly token: string;
  readonly start: number;
  readonly end: number;
  readonly special: boolean;
}

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** Sent when a view opens and after every (re-)analysis: what was analysed, with which model. */
export interface AnalysisSummary {
  readonly analysisId: string;
  readonly model: { readonly name: string; readonly family: string; readonly kind: 'decoder' | 'encoder' | 'encoder-decoder'; readonly nLayers: number; readonly nHeads: number; readonly nKvHeads: number; readonly dHead: number; readonly dModel: number; readonly positional: 'learned' | 'sinusoidal' | 'rope' | 'relative_bias' | 'none' };
  /** Document label (file name) and the analysed text. */
  readonly document: string;
  readonly text: string;
  readonly tokens: readonly ViewToken[];
  /** Encoder-decoders: the decoder (target) text and tokens; offsets refer to targetText. */
  readonly targetText?: string;
  readonly targetTokens?: readonly ViewToken[];
  readonly stale: boolean;
  /** Time the analysis took (ms), shown in the header. */
  readonly elapsedMs: number;
}

export interface AttentionQuery {
  readonly stack: AttentionStack;
  readonly layer: number;
  readonly aggregation: Aggregation;
  /** Heads to return ('head') or to aggregate over ('mean'/'max'); rollout uses all heads, layers 0…layer. */
  readonly heads: readonly number[];
}

/** [heads.length, nq, nk] for 'head'; one [nq, nk] matrix otherwise. */
export interface AttentionSlice {
  readonly query: AttentionQuery;
  readonly nq: number;
  readonly nk: number;
  readonly matrices: readonly Matrix[];
}

/** All layers × heads as max-pooled thumbnails (≤ size × size each), row-major [layer][head]. */
export interface AttentionGrid {
  readonly stack: AttentionStack;
  readonly layers: number;
  readonly heads: number;
  readonly thumbs: readonly Matrix[];
}

/** One head for one query, with the model's own numbers. */
export interface HeadMathSlice {
  readonly layer: number;
  readonly head: number;
  readonly query: number;
  readonly kvHead: number;
  readonly dHead: number;
  /** Key positions shown (0…query for causal heads). */
  readonly keys: readonly number[];
  readonly q: Float32Array;
  readonly k: Matrix;
  readonly v: Matrix;
  readonly dots: Float32Array;
  readonly scale: number;
  /** Additive position bias per key (T5), absent otherwise. */
  readonly bias?: Float32Array;
  readonly scores: Float32Array;
  readonly weights: Float32Array;
  readonly z: Float32Array;
  readonly causal: boolean;
  readonly rotary: boolean;
}

export interface PositionalSlice {
  readonly kind: AnalysisSummary['model']['positional'];
  /** Positions drawn (0…count-1) and d of the tables. */
  readonly count: number;
  /** Sinusoidal reference table [count, d] and its cosine similarity [count, count]; wavelength per pair. */
  readonly sinusoid: Matrix;
  readonly sinusoidSimilarity: Matrix;
  readonly wavelengths: Float32Array;
  /** Learned (GPT-2/BERT) or the model's stored sinusoidal table [count, d_model] and its similarity. */
  readonly table?: Matrix;
  readonly tableSimilarity?: Matrix;
  /** RoPE: inverse frequency per pair, and the q·k profile over relative distance 0…count-1 (q = k = 1). */
  readonly ropeInvFreq?: Float32Array;
  readonly ropeRelative?: Float32Array;
  /** T5: bucket per relative distance −(count-1)…(count-1), and the learned bias [heads, 2·count-1]. */
  readonly t5Buckets?: Int32Array;
  readonly t5Bias?: Matrix;
  /** Positions of the analysed tokens (index = token index). */
  readonly tokenPositions: readonly number[];
}

export interface PredictionQuery {
  readonly k: number;
  readonly temperature: number;
}

export interface TopEntry {
  readonly id: number;
  readonly token: string;
  readonly prob: number;
}

export interface PredictionsSlice {
  readonly query: PredictionQuery;
  /** Per position: the top-k next tokens (best first). */
  readonly top: readonly (readonly TopEntry[])[];
  /** Actual next token at positions 0…n-2: probability (at temperature 1), rank (0 = top), surprisal in bits. */
  readonly actualProb: Float32Array;
  readonly actualRank: Int32Array;
  readonly surprisalBits: Float32Array;
  /** BERT: predictions at [MASK] positions. */
  readonly masks?: readonly { readonly position: number; readonly top: readonly TopEntry[] }[];
}

/** Logit lens: for each layer boundary (row l < n_layers = the residual entering block l; the last row = final output) and position, the top-k. */
export interface LogitLensSlice {
  /** Number of rows = n_layers + 1. */
  readonly layers: number;
  readonly positions: readonly number[];
  /** [layer][position index] → top-k. */
  readonly top: readonly (readonly (readonly TopEntry[])[])[];
}

export interface ContinueRequest {
  readonly tokens: number;
  readonly mode: 'greedy' | 'sample';
  readonly seed: number;
  readonly temperature: number;
}

/** What a view can ask the host for; answered with the matching slice. */
export type SliceRequest =
  | { readonly slice: 'attention'; readonly query: AttentionQuery }
  | { readonly slice: 'attentionGrid'; readonly stack: AttentionStack; readonly size: number }
  | { readonly slice: 'headMath'; readonly stack: AttentionStack; readonly layer: number; readonly head: number; readonly query: number }
  | { readonly slice: 'positional'; readonly count: number }
  | { readonly slice: 'predictions'; readonly query: PredictionQuery }
  | { readonly slice: 'logitLens'; readonly k: number };

export type SliceResponse<R extends SliceRequest['slice']> =
  R extends 'attention' ? AttentionSlice :
  R extends 'attentionGrid' ? AttentionGrid :
  R extends 'headMath' ? HeadMathSlice :
  R extends 'positional' ? PositionalSlice :
  R extends 'predictions' ? PredictionsSlice :
  R extends 'logitLens' ? LogitLensSlice : never;

/** Small view state persisted with setState and restored by the serializer (never tensors). */
export interface ViewState {
  readonly view: ViewKind;
  readonly layer?: number;
  readonly head?: number;
  readonly heads?: readonly number[];
  readonly aggregation?: Aggregation;
  readonly mode?: string;
  readonly queries?: readonly number[];
  readonly zoom?: number;
  readonly topK?: number;
  readonly threshold?: number;
  readonly hideSpecial?: boolean;
  readonly showIds?: boolean;
  readonly temperature?: number;
  readonly stack?: AttentionStack;
}

/** Editor paint: weights are drawn as this colour at PAINT_BUCKETS opacities (both sides use these for the legend). */
export const PAINT_RGB: readonly [number, number, number] = [255, 140, 0];
export const PAINT_BUCKETS = 8;
/** Opacity of bucket b (0…PAINT_BUCKETS-1). */
export function paintAlpha(bucket: number): number {
  return 0.12 + (0.68 * bucket) / (PAINT_BUCKETS - 1);
}
/** Bucket of a weight in (0, 1]. */
export function paintBucket(weight: number): number {
  return Math.min(PAINT_BUCKETS - 1, Math.max(0, Math.ceil(weight * PAINT_BUCKETS) - 1));
}

/** What a view paints onto the editor text: one weight per token (index → weight in [0, 1]) plus its legend. */
export interface EditorPaint {
  readonly label: string;
  readonly weights: readonly { readonly index: number; readonly weight: number; readonly title: string }[];
}

// ---------- guards (run on every receive) ----------

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
const isNat = (x: unknown, max = 1 << 24): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isNatList = (x: unknown, maxLen = 4096): x is number[] => Array.isArray(x) && x.length <= maxLen && x.every((v) => isNat(v));

export function isViewKind(x: unknown): x is ViewKind {
  return typeof x === 'string' && (VIEW_KINDS as readonly string[]).includes(x);
}
export function isAttentionStack(x: unknown): x is AttentionStack {
  return x === 'self' || x === 'encoder' || x === 'decoder' || x === 'cross';
}
export function isAggregation(x: unknown): x is Aggregation {
  return x === 'head' || x === 'mean' || x === 'max' || x === 'rollout';
}

export function isMatrix(x: unknown): x is Matrix {
  return isObject(x) && isNat(x.rows) && isNat(x.cols) && x.data instanceof Float32Array && x.data.length === x.rows * x.cols;
}

export function isViewToken(x: unknown): x is ViewToken {
  return isObject(x) && isNat(x.id) && typeof x.token === 'string' && isNat(x.start) && isNat(x.end) && x.end >= x.start && typeof x.special === 'boolean';
}

export function isAttentionQuery(x: unknown): x is AttentionQuery {
  return isObject(x) && isAttentionStack(x.stack) && isNat(x.layer, 1024) && isAggregation(x.aggregation) && isNatList(x.heads, 1024) &&
    (x.aggregation === 'rollout' || (x.heads as number[]).length > 0);
}

export function isSliceRequest(x: unknown): x is SliceRequest {
  if (!isObject(x)) return false;
  switch (x.slice) {
    case 'attention': return isAttentionQuery(x.query);
    case 'attentionGrid': return isAttentionStack(x.stack) && isNat(x.size, 512) && (x.size as number) > 0;
    case 'headMath': return isAttentionStack(x.stack) && isNat(x.layer, 1024) && isNat(x.head, 1024) && isNat(x.query);
    case 'positional': return isNat(x.count, 8192) && (x.count as number) > 0;
    case 'predictions': return isObject(x.query) && isNat(x.query.k, 100) && (x.query.k as number) > 0 && isNum(x.query.temperature) && (x.query.temperature as number) > 0;
    case 'logitLens': return isNat(x.k, 20) && (x.k as number) > 0;
    default: return false;
  }
}

export function isContinueRequest(x: unknown): x is ContinueRequest {
  return isObject(x) && isNat(x.tokens, 512) && (x.tokens as number) > 0 && (x.mode === 'greedy' || x.mode === 'sample') && isNat(x.seed, 2 ** 31) &&
    isNum(x.temperature) && (x.temperature as number) > 0;
}

export function isViewState(x: unknown): x is ViewState {
  if (!isObject(x) || !isViewKind(x.view)) return false;
  const optNat = (k: string) => x[k] === undefined || isNat(x[k], 4096);
  return optNat('layer') && optNat('head') && (x.heads === undefined || isNatList(x.heads, 256)) && (x.aggregation === undefined || isAggregation(x.aggregation)) &&
    (x.queries === undefined || isNatList(x.queries)) && (x.zoom === undefined || (isNum(x.zoom) && (x.zoom as number) > 0)) && optNat('topK') &&
    (x.threshold === undefined || isNum(x.threshold)) && (x.stack === undefined || isAttentionStack(x.stack)) && (x.mode === undefined || typeof x.mode === 'string');
}

export function isEditorPaint(x: unknown): x is EditorPaint {
  return isObject(x) && typeof x.label === 'string' && Array.isArray(x.weights) && x.weights.length <= 65536 &&
    x.weights.every((w) => isObject(w) && isNat(w.index) && isNum(w.weight) && typeof w.title === 'string');
}

/** Loose check of a slice payload coming back to the webview: the kind-specific core fields. */
export function isSliceResponse(slice: SliceRequest['slice'], x: unknown): boolean {
  if (!isObject(x)) return false;
  switch (slice) {
    case 'attention': return isNat(x.nq) && isNat(x.nk) && Array.isArray(x.matrices) && x.matrices.every(isMatrix);
    case 'attentionGrid': return isNat(x.layers) && isNat(x.heads) && Array.isArray(x.thumbs) && x.thumbs.every(isMatrix);
    case 'headMath': return isNat(x.layer) && isNat(x.head) && x.q instanceof Float32Array && isMatrix(x.k) && isMatrix(x.v) && x.weights instanceof Float32Array && x.z instanceof Float32Array;
    case 'positional': return isNat(x.count) && isMatrix(x.sinusoid) && isMatrix(x.sinusoidSimilarity) && x.wavelengths instanceof Float32Array;
    case 'predictions': return Array.isArray(x.top) && x.actualProb instanceof Float32Array && x.actualRank instanceof Int32Array && x.surprisalBits instanceof Float32Array;
    case 'logitLens': return isNat(x.layers) && Array.isArray(x.positions) && Array.isArray(x.top);
    default: {
      const never: never = slice;
      return never;
    }
  }
}

// ---------- events between a view and the host (both directions) ----------

/** View → host notifications (no reply). */
export type ViewNotice =
  | { readonly type: 'hoverToken'; readonly start: number; readonly end: number; readonly editor: boolean }
  | { readonly type: 'leaveToken' }
  | { readonly type: 'revealToken'; readonly start: number; readonly end: number; readonly editor: boolean }
  | { readonly type: 'paint'; readonly paint: EditorPaint }
  | { readonly type: 'clearPaint' }
  | { readonly type: 'export'; readonly format: 'png' | 'svg' | 'json'; readonly data: string; readonly name: string }
  | { readonly type: 'rerun' }
  | { readonly type: 'continue'; readonly request: ContinueRequest }
  | { readonly type: 'openView'; readonly view: ViewKind; readonly state: ViewState }
  | { readonly type: 'state'; readonly state: ViewState }
  /** A chart finished drawing for an analysis (tests and the first-paint timing listen for it). */
  | { readonly type: 'drawn'; readonly what: string; readonly analysisId: string };

/** Host → view pushes (no reply). `highlight` = token indices under the editor cursor. */
export type HostNotice =
  | { readonly type: 'summary'; readonly summary: AnalysisSummary }
  | { readonly type: 'stale'; readonly stale: boolean }
  | { readonly type: 'highlight'; readonly indices: readonly number[] }
  | { readonly type: 'progress'; readonly label: string; readonly done: number; readonly total: number; readonly finished: boolean }
  | { readonly type: 'focus'; readonly state: ViewState }
  | { readonly type: 'error'; readonly message: string }
  /** The editor paint was cleared (by the command or another view): hide the paint legend. */
  | { readonly type: 'paintCleared' };

const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

export function isViewNotice(x: unknown): x is ViewNotice {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'hoverToken':
    case 'revealToken':
      return isNat(x.start, 1 << 30) && isNat(x.end, 1 << 30) && (x.end as number) >= (x.start as number) && typeof x.editor === 'boolean';
    case 'leaveToken':
    case 'clearPaint':
    case 'rerun':
      return true;
    case 'paint': return isEditorPaint(x.paint);
    case 'export':
      return (x.format === 'png' || x.format === 'svg' || x.format === 'json') && typeof x.data === 'string' && x.data.length <= MAX_EXPORT_CHARS &&
        typeof x.name === 'string' && /^[\w.\- ]{1,80}$/.test(x.name);
    case 'continue': return isContinueRequest(x.request);
    case 'openView': return isViewKind(x.view) && isViewState(x.state);
    case 'state': return isViewState(x.state);
    case 'drawn': return typeof x.what === 'string' && x.what.length <= 100 && typeof x.analysisId === 'string' && x.analysisId.length <= 100;
    default: return false;
  }
}

export function isAnalysisSummary(x: unknown): x is AnalysisSummary {
  if (!isObject(x) || typeof x.analysisId !== 'string' || typeof x.text !== 'string' || typeof x.document !== 'string' || typeof x.stale !== 'boolean' || !isNum(x.elapsedMs)) return false;
  const m = x.model;
  if (!isObject(m) || typeof m.name !== 'string' || typeof m.family !== 'string' || !isNat(m.nLayers, 1024) || !isNat(m.nHeads, 1024) || !isNat(m.nKvHeads, 1024) || !isNat(m.dHead, 65536) || !isNat(m.dModel, 1 << 20)) return false;
  if (!['decoder', 'encoder', 'encoder-decoder'].includes(m.kind as string)) return false;
  if (!Array.isArray(x.tokens) || !x.tokens.every(isViewToken)) return false;
  if (x.targetTokens !== undefined && !(Array.isArray(x.targetTokens) && x.targetTokens.every(isViewToken) && typeof x.targetText === 'string')) return false;
  return true;
}

export function isHostNotice(x: unknown): x is HostNotice {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'summary': return isAnalysisSummary(x.summary);
    case 'stale': return typeof x.stale === 'boolean';
    case 'highlight': return isNatList(x.indices, 65536);
    case 'progress': return typeof x.label === 'string' && isNum(x.done) && isNum(x.total) && typeof x.finished === 'boolean';
    case 'focus': return isViewState(x.state);
    case 'error': return typeof x.message === 'string';
    case 'paintCleared': return true;
    default: return false;
  }
}
