/**
 * What one engine worker holds and serves: the current model, tokenizers for cheap counts, and a few recent
 * analyses (traces) that views and hovers slice. Arguments arrive from another thread, so each is checked here.
 */
import { EngineError } from './errors';
import { loadModel, type Model, type ModelInfo } from './model';
import { computeSlice, lmTrace, stackTrace, type AnalysisTraces } from './slices';
import { loadTokenizer, type TextTokenizer, type TokenizedText } from './tokenizer';
import { exportTrace, type ExportedTrace } from './traceExport';
import { softmaxWithTemperature, topIndices } from './analysis/predictions';
import { aggregateHeads } from './analysis/attention';
import { isSliceRequest, type SliceRequest, type TopEntry, type ViewToken } from '../protocol/views';
import type { Kernels } from './kernels/types';
import { hookName, type Recorder } from './hooks';

/** Traces kept per worker; older ones are dropped (a view asking for them gets a clear "re-run" error). */
const MAX_TRACES = 4;
/** Hard cap on analysed tokens for models without a context limit of their own (RoPE, relative bias). */
export const DEFAULT_MAX_TOKENS = 2048;

export interface ProgressSink {
  progress(stage: string, done: number, total: number, partial?: unknown): void;
  isCancelled(): boolean;
}

export interface ModelSummary {
  readonly info: ModelInfo;
  readonly specialTokens: TextTokenizer['specialTokens'];
  /** Most tokens one analysis may hold. */
  readonly maxTokens: number;
}

export interface AnalyzeArgs {
  readonly dir: string;
  readonly text: string;
  /** Encoder-decoders: the target prefix the decoder reads (default empty). */
  readonly target?: string;
  /** Lower the token limit below the model's (e.g. a user setting). */
  readonly maxTokens?: number;
}

export interface AnalyzeResult {
  readonly traceId: string;
  readonly model: ModelSummary;
  readonly tokens: ViewToken[];
  readonly targetTokens?: ViewToken[];
  /** Set when the text had more tokens than allowed: only text[0, truncatedAt) was analysed. */
  readonly truncatedAt?: number;
  readonly totalTokens: number;
  readonly maskPositions: number[];
  readonly elapsedMs: number;
  readonly memoryBytes: number;
}

export interface HoverArgs {
  readonly traceId: string;
  readonly position: number;
  /** Layer/head whose attention to report; head undefined = mean over heads; layer undefined = last layer. */
  readonly layer?: number;
  readonly head?: number;
  readonly k?: number;
}

export interface HoverInfo {
  readonly position: number;
  readonly token: ViewToken;
  readonly layer: number;
  readonly head?: number;
  /** Top attended earlier (or, for encoders, any) tokens, best first. */
  readonly attended: { index: number; weight: number }[];
  /** Next-token predictions after this position (decoders and encoder-decoder targets). */
  readonly next: TopEntry[];
  /** Probability, rank and surprisal of this token given the previous ones (absent for position 0). */
  readonly actual?: { prob: number; rank: number; surprisalBits: number };
}

interface StoredTrace { readonly model: Model; readonly traces: AnalysisTraces; readonly cache: Map<string, unknown> }

export class EngineService {
  private model?: Model;
  private readonly tokenizers = new Map<string, TextTokenizer>();
  private readonly traces = new Map<string, StoredTrace>();
  private nextTrace = 1;

  constructor(
    private readonly kernels?: () => Kernels | Promise<Kernels>,
    /** Folder for weights kept between loads (LoadOptions.packCache); used by loads from then on. */
    public packCache?: string,
  ) {}

  /** Releases the model's native resources (the worker is about to exit). */
  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
    this.traces.clear();
  }

  async load(dir: string): Promise<ModelSummary> {
    const model = await this.modelFor(dir);
    return this.summary(model);
  }

  async tokenize(dir: string, text: string, addSpecialTokens = true): Promise<TokenizedText> {
    let tok = this.tokenizers.get(dir);
    if (!tok) {
      tok = loadTokenizer(dir);
      if (this.tokenizers.size >= 4) this.tokenizers.delete(this.tokenizers.keys().next().value as string);
      this.tokenizers.set(dir, tok);
    }
    return tok.encode(text, { addSpecialTokens });
  }

  async analyze(args: AnalyzeArgs, sink: ProgressSink): Promise<AnalyzeResult> {
    const t0 = performance.now();
    sink.progress('load', 0, 1);
    const model = await this.modelFor(args.dir);
    const summary = this.summary(model, args.maxTokens);
    const shouldCancel = () => sink.isCancelled();
    const full = await model.tokenize(args.text);
    const { tokens, truncatedAt } = truncate(full, summary.maxTokens);
    sink.progress('tokenize', 1, 1, { tokens: viewTokens(tokens) });
    const onProgress = (done: number, total: number) => sink.progress('layer', done, total);
    let traces: AnalysisTraces;
    let targetTokens: ViewToken[] | undefined;
    if (model.info.kind === 'encoder-decoder') {
      const target = args.target ?? '';
      const tgt = truncate(await model.targetTokens(target), summary.maxTokens).tokens;
      traces = { kind: 'seq2seq', traces: model.traceSeq2SeqTokens(args.text, tokens, target, tgt, { shouldCancel, onProgress }) };
      targetTokens = viewTokens(tgt);
    } else {
      traces = { kind: 'single', trace: model.traceTokens(args.text, tokens, { shouldCancel, onProgress, hooks: firstViewRecorder(tokens.ids.length, sink) }) };
    }
    const traceId = `t${this.nextTrace++}`;
    this.traces.set(traceId, { model, traces, cache: new Map() });
    while (this.traces.size > MAX_TRACES) this.traces.delete(this.traces.keys().next().value as string);
    const memoryBytes = traces.kind === 'single' ? traces.trace.memoryBytes() : traces.traces.encoder.memoryBytes() + traces.traces.decoder.memoryBytes();
    return {
      traceId, model: summary, tokens: viewTokens(tokens), targetTokens, truncatedAt, totalTokens: full.ids.length,
      maskPositions: model.maskPositions(tokens), elapsedMs: performance.now() - t0, memoryBytes,
    };
  }

  slice(traceId: unknown, request: unknown): unknown {
    if (!isSliceRequest(request)) throw new EngineError('BAD_INPUT', 'Malformed slice request.');
    const stored = this.stored(traceId);
    return computeSlice(stored.model, stored.traces, request as SliceRequest, stored.cache);
  }

  hover(args: HoverArgs): HoverInfo {
    const stored = this.stored(args.traceId);
    const t = stored.traces.kind === 'single' ? stored.traces.trace : stored.traces.traces.decoder;
    const pos = args.position;
    if (!Number.isInteger(pos) || pos < 0 || pos >= t.n) throw new EngineError('BAD_INPUT', `Position ${pos} is outside 0…${t.n - 1}.`);
    const layer = args.layer ?? t.nLayers - 1;
    const k = Math.min(Math.max(args.k ?? 5, 1), 20);
    const row = args.head === undefined
      ? aggregateHeads(t.patternLayer(layer).subarray(0), t.nHeads, t.n, t.n, 'mean').subarray(pos * t.n, (pos + 1) * t.n)
      : t.patternRow(layer, args.head, pos);
    const attended = topIndices(row, k).filter((j) => row[j] > 0).map((index) => ({ index, weight: row[index] }));
    let next: TopEntry[] = [];
    let actual: HoverInfo['actual'];
    if (stored.model.info.kind !== 'encoder') {
      const p = softmaxWithTemperature(t.logitsAt([pos]));
      next = topIndices(p, k).map((id) => ({ id, token: stored.model.tokenString(id), prob: p[id] }));
      if (pos > 0) {
        const s = t.nextTokenStats();
        actual = { prob: s.prob[pos - 1], rank: s.rank[pos - 1], surprisalBits: s.surprisalBits[pos - 1] };
      }
    }
    return { position: pos, token: viewTokens(t.tokens)[pos], layer, head: args.head, attended, next, actual };
  }

  /** Masked-LM models: replace one token by the mask token, re-run the encoder and return the top-k at that position. */
  async maskToken(traceId: unknown, position: unknown, k = 5): Promise<TopEntry[]> {
    const stored = this.stored(traceId);
    const model = stored.model;
    const mask = model.tokenizer.specialTokens.mask;
    if (model.info.kind !== 'encoder' || mask === undefined) throw new EngineError('BAD_INPUT', `${model.info.architecture} has no mask token to predict.`);
    const t = stackTrace(stored.traces, 'self');
    if (typeof position !== 'number' || !Number.isInteger(position) || position < 0 || position >= t.n) throw new EngineError('BAD_INPUT', `Position ${String(position)} is outside the analysis.`);
    const ids = [...t.tokens.ids];
    ids[position] = mask;
    const tokens: TokenizedText = { ids, tokens: ids.map((id) => model.tokenString(id)), offsets: t.tokens.offsets.map(([a, b]) => [a, b]), special: [...t.tokens.special] };
    const masked = model.traceTokens(t.text, tokens);
    return masked.topK(position, k).map(({ id, token, prob }) => ({ id, token, prob }));
  }

  async generate(args: { dir: string; text: string; target?: string; maxNewTokens: number; temperature?: number; seed?: number }, sink: ProgressSink) {
    const model = await this.modelFor(args.dir);
    return model.generate(args.text, {
      maxNewTokens: args.maxNewTokens, temperature: args.temperature, seed: args.seed, target: args.target,
      shouldCancel: () => sink.isCancelled(), onToken: (step: number) => sink.progress('generate', step + 1, args.maxNewTokens),
    });
  }

  /** The whole analysis in the fixtures' reference format (for "Export Trace" and checks through the pool). */
  exportTrace(traceId: unknown, positions?: readonly number[]): ExportedTrace {
    const stored = this.stored(traceId);
    const n = lmTrace(stored.traces).n;
    if (positions?.some((p) => !Number.isInteger(p) || p < 0 || p >= n)) throw new EngineError('BAD_INPUT', `Logits positions must lie in 0…${n - 1}.`);
    return exportTrace(stored.model, stored.traces, positions);
  }

  release(traceId: unknown): boolean {
    return typeof traceId === 'string' && this.traces.delete(traceId);
  }

  /** For tests and the lens grid: the analysis behind an id. */
  lm(traceId: string) {
    return lmTrace(this.stored(traceId).traces);
  }

  /**
   * One step of bringing the loaded model's weights to full speed (Kernels.packDeferred; the worker calls this
   * while idle). False when nothing was left. A failing step only costs speed: it is logged and packing stops.
   */
  packStep(): boolean {
    const model = this.model;
    if (!model) return false;
    try {
      return model.packDeferred();
    } catch (e) {
      console.warn(`[engine] weights stay unpacked (slower products): ${(e as Error).message}`);
      return false;
    }
  }

  /** Every remaining step now: the benchmark times traces at full speed after this (and reports its time). */
  finishPacking(): { steps: number; ms: number } {
    const t0 = performance.now();
    let steps = 0;
    while (this.packStep()) steps++;
    return { steps, ms: performance.now() - t0 };
  }

  private stored(traceId: unknown): StoredTrace {
    const s = typeof traceId === 'string' ? this.traces.get(traceId) : undefined;
    if (!s) throw new EngineError('BAD_INPUT', 'This analysis is no longer in memory.', 'Run "Transformer: Analyze Selection" again.');
    return s;
  }

  private async modelFor(dir: string): Promise<Model> {
    if (this.model?.info.dir === dir) return this.model;
    this.model = undefined; // drop the old weights before loading new ones
    this.traces.clear();
    const kernels = this.kernels ? await this.kernels() : undefined;
    this.model = loadModel(dir, { kernels, packCache: this.packCache });
    return this.model;
  }

  private summary(model: Model, userMax?: number): ModelSummary {
    const modelMax = model.info.positional === 'learned' || model.info.positional === 'sinusoidal' ? model.info.n_ctx : DEFAULT_MAX_TOKENS;
    const maxTokens = Math.max(1, Math.min(modelMax, userMax && userMax > 0 ? userMax : modelMax));
    return { info: model.info, specialTokens: model.tokenizer.specialTokens, maxTokens };
  }
}

/** Inputs up to this many tokens stream layer 0's pattern ([heads, n, n] float32, ≤ 12 MB for GPT-2 small) early. */
export const FIRST_VIEW_MAX_TOKENS = 512;

/**
 * Sends block 0's attention pattern as a 'firstView' progress event ({ layer: 0, shape, pattern }, transferred)
 * the moment it exists, so the first view can draw while the other layers run.
 */
function firstViewRecorder(n: number, sink: ProgressSink): Recorder | undefined {
  if (n > FIRST_VIEW_MAX_TOKENS) return undefined;
  const name = hookName('pattern', 0);
  return {
    wants: (hook) => hook === name,
    record: (_hook, data, shape) => sink.progress('firstView', 1, 1, { layer: 0, shape: [...shape], pattern: data.slice() }),
  };
}

function viewTokens(t: { ids: readonly number[]; tokens: readonly string[]; offsets: readonly (readonly [number, number])[]; special: readonly boolean[] }): ViewToken[] {
  return t.ids.map((id, i) => ({ id, token: t.tokens[i], start: t.offsets[i][0], end: t.offsets[i][1], special: t.special[i] }));
}

/**
 * Keeps the first `max` tokens. A trailing special token added by the post-processor ([SEP], </s>) is kept at
 * the end so the model sees a well-formed input. `truncatedAt` is where the analysed text stops.
 */
export function truncate(t: TokenizedText, max: number): { tokens: TokenizedText; truncatedAt?: number } {
  if (t.ids.length <= max) return { tokens: t };
  const last = t.ids.length - 1;
  const keepTail = t.special[last] && t.offsets[last][0] === 0 && t.offsets[last][1] === 0 && max >= 2;
  const head = keepTail ? max - 1 : max;
  const pick = <T>(xs: readonly T[]): T[] => (keepTail ? [...xs.slice(0, head), xs[last]] : xs.slice(0, head));
  const tokens = { ids: pick(t.ids), tokens: pick(t.tokens), offsets: pick(t.offsets), special: pick(t.special) };
  const truncatedAt = Math.max(0, ...t.offsets.slice(0, head).map(([, end]) => end));
  return { tokens, truncatedAt };
}
