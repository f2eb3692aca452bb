/**
 * The typed face of the engine for the extension host: one method per worker operation, results checked on
 * receipt. Model runs go to the "model" lane; cheap token counts to the "tokenize" lane so they never wait
 * behind a long trace. Only types are imported from the engine: none of its code runs on the host thread.
 */
import type { TokenizedText } from '../engine/tokenizer';
import type { AnalyzeArgs, AnalyzeResult, HoverArgs, HoverInfo, ModelSummary } from '../engine/service';
import type { GenerateResult } from '../engine/model';
import type { ExportedTrace } from '../engine/traceExport';
import { isSliceResponse, isViewToken, type SliceRequest, type SliceResponse, type TopEntry, type ViewToken } from '../protocol/views';
import { EngineError } from '../engine/errors';
import type { EnginePool, ProgressEvent } from './pool';

export interface CallOptions {
  /** A newer call on the same channel cancels this one (default: one channel per operation kind). */
  channel?: string;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
}

export interface AnalyzeOptions extends CallOptions {
  /** Called as soon as the text is tokenized, before the model has run (first paint of the token view). */
  onTokens?: (tokens: ViewToken[]) => void;
}

export interface GenerateArgs {
  dir: string;
  text: string;
  target?: string;
  maxNewTokens: number;
  /** 0 or absent = greedy. */
  temperature?: number;
  seed?: number;
}

export class EngineClient {
  constructor(private readonly pool: EnginePool) {}

  async loadModel(dir: string, opts: CallOptions = {}): Promise<ModelSummary> {
    const r = await this.pool.request<ModelSummary>('model.load', { dir }, { channel: opts.channel ?? 'model.load', signal: opts.signal, onProgress: opts.onProgress });
    return expect(r, isModelSummary, 'model.load');
  }

  /**
   * Brings the loaded model's weights to full speed now instead of while the worker is idle (see
   * Kernels.packDeferred): for the benchmark, which times traces at full speed and reports this step's time.
   */
  async finishPacking(): Promise<{ steps: number; ms: number }> {
    const r = await this.pool.request<{ steps: number; ms: number }>('model.finishPacking', {}, { channel: 'model.finishPacking' });
    return expect(r, (x): x is { steps: number; ms: number } => typeof x === 'object' && x !== null && Number.isSafeInteger((x as { steps?: unknown }).steps) && Number.isFinite((x as { ms?: unknown }).ms), 'model.finishPacking');
  }

  /** Tokenizer only (no weights): cheap enough for the status bar's live count. */
  async tokenize(dir: string, text: string, opts: CallOptions = {}): Promise<TokenizedText> {
    const r = await this.pool.request<TokenizedText>('tokenize', { dir, text }, { lane: 'tokenize', channel: opts.channel ?? 'tokenize', signal: opts.signal });
    return expect(r, isTokenized, 'tokenize');
  }

  async analyze(args: AnalyzeArgs, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    const r = await this.pool.request<AnalyzeResult>('analyze', args, {
      channel: opts.channel ?? 'analyze',
      signal: opts.signal,
      onProgress: (e) => {
        const tokens = (e.partial as { tokens?: unknown } | undefined)?.tokens;
        if (e.stage === 'tokenize' && Array.isArray(tokens) && tokens.every(isViewToken)) opts.onTokens?.(tokens);
        opts.onProgress?.(e);
      },
    });
    return expect(r, isAnalyzeResult, 'analyze');
  }

  async slice<R extends SliceRequest>(traceId: string, request: R, opts: CallOptions = {}): Promise<SliceResponse<R['slice']>> {
    const r = await this.pool.request('slice', { traceId, request }, { channel: opts.channel, signal: opts.signal });
    if (!isSliceResponse(request.slice, r)) throw new EngineError('INTERNAL', `The engine answered a ${request.slice} slice with malformed data.`);
    return r as SliceResponse<R['slice']>;
  }

  async hover(args: HoverArgs): Promise<HoverInfo> {
    const r = await this.pool.request<HoverInfo>('hover', args, { channel: 'hover' });
    return expect(r, isHoverInfo, 'hover');
  }

  async maskToken(traceId: string, position: number, k = 5): Promise<TopEntry[]> {
    const r = await this.pool.request<TopEntry[]>('maskToken', { traceId, position, k }, { channel: 'maskToken' });
    return expect(r, (x): x is TopEntry[] => Array.isArray(x) && x.every(isTopEntry), 'maskToken');
  }

  async generate(args: GenerateArgs, opts: CallOptions = {}): Promise<GenerateResult> {
    const r = await this.pool.request<GenerateResult>('generate', args, { channel: opts.channel ?? 'generate', signal: opts.signal, onProgress: opts.onProgress });
    return expect(r, isGenerateResult, 'generate');
  }

  /** The analysis in the fixtures' reference format: JSON fields + named F32 tensors (transferred, not copied). */
  async exportTrace(traceId: string, positions?: number[]): Promise<ExportedTrace> {
    const r = await this.pool.request<ExportedTrace>('export', { traceId, positions }, { channel: 'export' });
    return expect(r, isExportedTrace, 'export');
  }

  /** Frees a trace in the worker (fire and forget). */
  release(traceId: string): void {
    this.pool.request('release', { traceId }).catch(() => undefined);
  }

  cancel(channel: string): void {
    this.pool.cancel(channel);
  }
}

// ---- receive checks ----

function expect<T>(x: unknown, guard: (x: unknown) => x is T, op: string): T {
  if (!guard(x)) throw new EngineError('INTERNAL', `The engine answered "${op}" with malformed data.`);
  return x;
}
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

function isModelSummary(x: unknown): x is ModelSummary {
  return isObj(x) && isObj(x.info) && typeof x.info.dir === 'string' && isNat(x.info.n_layers) && isNat(x.info.n_heads) && isNat(x.maxTokens) && isObj(x.specialTokens);
}
function isTokenized(x: unknown): x is TokenizedText {
  return isObj(x) && Array.isArray(x.ids) && Array.isArray(x.tokens) && Array.isArray(x.offsets) && Array.isArray(x.special) &&
    x.ids.length === x.tokens.length && x.ids.length === x.offsets.length && x.ids.length === x.special.length;
}
function isAnalyzeResult(x: unknown): x is AnalyzeResult {
  return isObj(x) && typeof x.traceId === 'string' && isModelSummary(x.model) && Array.isArray(x.tokens) && x.tokens.every(isViewToken) &&
    (x.targetTokens === undefined || (Array.isArray(x.targetTokens) && x.targetTokens.every(isViewToken))) &&
    (x.truncatedAt === undefined || isNat(x.truncatedAt)) && isNat(x.totalTokens) && Array.isArray(x.maskPositions) && typeof x.elapsedMs === 'number';
}
function isTopEntry(x: unknown): x is TopEntry {
  return isObj(x) && isNat(x.id) && typeof x.token === 'string' && typeof x.prob === 'number';
}
function isHoverInfo(x: unknown): x is HoverInfo {
  return isObj(x) && isNat(x.position) && isViewToken(x.token) && isNat(x.layer) && Array.isArray(x.attended) &&
    x.attended.every((a) => isObj(a) && isNat(a.index) && typeof a.weight === 'number') && Array.isArray(x.next) && x.next.every(isTopEntry);
}
function isGenerateResult(x: unknown): x is GenerateResult {
  return isObj(x) && Array.isArray(x.newIds) && x.newIds.every(isNat) && typeof x.newText === 'string';
}
function isExportedTrace(x: unknown): x is ExportedTrace {
  return isObj(x) && isObj(x.json) && Array.isArray(x.tensors) && x.tensors.every((t) => isObj(t) && typeof t.name === 'string' &&
    Array.isArray(t.shape) && t.shape.every(isNat) && t.data instanceof Float32Array && t.data.length === (t.shape as number[]).reduce((a, b) => a * b, 1));
}
