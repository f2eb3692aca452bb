/**
 * The link between the editor and the engine: which text of which document was analysed, with which model,
 * the trace that analysis produced in the worker, and the controls every view shares (layer, head, …).
 * Views, hovers, decorations and the side panel all read from here; nothing here draws.
 */
import * as vscode from 'vscode';
import type { EngineClient } from '../engine-host/client';
import type { AnalyzeResult, HoverInfo, ModelSummary } from '../engine/service';
import type { GenerateResult } from '../engine/model';
import { EngineError } from '../engine/errors';
import type { Aggregation, SliceRequest, SliceResponse, ViewToken } from '../protocol/views';
import { AnalysedRange, tokenIndexAt } from './analysedRange';

/** A model folder the engine can load, and how to name it to the user. */
export interface ResolvedModelDir {
  readonly dir: string;
  readonly label: string;
}
/** Finds the configured model's folder (the model store may offer a download first). */
export type ModelResolver = (token?: vscode.CancellationToken) => Promise<ResolvedModelDir>;

export interface Analysis {
  readonly id: number;
  readonly document: vscode.TextDocument;
  readonly documentLabel: string;
  readonly range: AnalysedRange;
  readonly model: ResolvedModelDir;
  readonly summary: ModelSummary;
  readonly result: AnalyzeResult;
  /** Encoder-decoders: the target text the decoder read (its token offsets refer to it, not to the document). */
  readonly targetText?: string;
  /** Set when only the start of the selected text was analysed (a character limit or the model's context). */
  readonly truncation?: { readonly reason: 'characters' | 'tokens'; readonly analysedChars: number; readonly totalChars: number; readonly totalTokens: number };
  readonly startedAt: number;
  /** Wall time from the command to the trace being ready (ms). */
  readonly elapsedMs: number;
}

/** Controls shared by the side panel and every view. `head` undefined = all heads / an aggregate. */
export interface SharedControls {
  readonly layer: number;
  readonly head: number | undefined;
  readonly aggregation: Aggregation;
  readonly topK: number;
  readonly temperature: number;
}

/** What a recent analysis needs to be run again (the document may have changed since). */
export interface RecentAnalysis {
  readonly uri: vscode.Uri;
  readonly label: string;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly tokens: number;
  readonly model: string;
  readonly at: number;
}

export interface AnalyzeRequest {
  readonly document: vscode.TextDocument;
  /** Empty or undefined = the whole document. */
  readonly range?: vscode.Range;
  /** Encoder-decoders: the target prefix; by default the model's own greedy continuation (translation) is used. */
  readonly target?: string;
  readonly token?: vscode.CancellationToken;
  readonly onProgress?: (message: string, fraction?: number) => void;
}

const MAX_RECENT = 10;
/** Greedy target length for encoder-decoders when the user gives no target text. */
const DEFAULT_TARGET_TOKENS = 24;

export class ExplorerSession implements vscode.Disposable {
  private currentAnalysis?: Analysis;
  private nextId = 1;
  private controlsState: SharedControls = { layer: 0, head: 0, aggregation: 'head', topK: 5, temperature: 1 };
  private readonly recentList: RecentAnalysis[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private focusedToken?: number;
  private runningCount = 0;

  private readonly analysisEmitter = new vscode.EventEmitter<Analysis | undefined>();
  private readonly staleEmitter = new vscode.EventEmitter<Analysis>();
  private readonly controlsEmitter = new vscode.EventEmitter<SharedControls>();
  private readonly focusEmitter = new vscode.EventEmitter<{ analysis: Analysis; index: number | undefined; source: 'editor' | 'view' }>();
  private readonly busyEmitter = new vscode.EventEmitter<boolean>();
  /** A new analysis (or undefined when cleared). */
  readonly onDidChangeAnalysis = this.analysisEmitter.event;
  /** The analysed text was edited: links are no longer valid until a re-run. */
  readonly onDidBecomeStale = this.staleEmitter.event;
  readonly onDidChangeControls = this.controlsEmitter.event;
  /** The token under the editor cursor (or clicked in a view) changed. */
  readonly onDidChangeFocusToken = this.focusEmitter.event;
  readonly onDidChangeBusy = this.busyEmitter.event;

  constructor(
    private readonly engine: () => EngineClient,
    private resolveModel: ModelResolver,
    private readonly settings: () => { maxTokens: number; maxCharacters: number } = () => ({ maxTokens: 0, maxCharacters: 200_000 }),
  ) {
    this.disposables.push(
      this.analysisEmitter, this.staleEmitter, this.controlsEmitter, this.focusEmitter, this.busyEmitter,
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (this.currentAnalysis?.document === d) this.markStale(this.currentAnalysis);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onCursor(e)),
    );
  }

  get current(): Analysis | undefined {
    return this.currentAnalysis;
  }
  get controls(): SharedControls {
    return this.controlsState;
  }
  get recent(): readonly RecentAnalysis[] {
    return this.recentList;
  }
  get busy(): boolean {
    return this.runningCount > 0;
  }
  get focusToken(): number | undefined {
    return this.focusedToken;
  }

  setControls(patch: Partial<SharedControls>): void {
    const a = this.currentAnalysis;
    const next = { ...this.controlsState, ...patch };
    if (a) {
      const layers = a.summary.info.kind === 'encoder-decoder' ? Math.max(a.summary.info.n_layers, 1) : a.summary.info.n_layers;
      next.layer = clamp(next.layer, 0, layers - 1);
      if (next.head !== undefined) next.head = clamp(next.head, 0, a.summary.info.n_heads - 1);
    }
    next.topK = clamp(Math.round(next.topK), 1, 50);
    next.temperature = Math.min(Math.max(next.temperature, 0.05), 10);
    this.controlsState = next;
    this.controlsEmitter.fire(next);
  }

  /** Analyses a range of a document (the whole document when the range is empty). */
  async analyze(req: AnalyzeRequest): Promise<Analysis> {
    const t0 = Date.now();
    const doc = req.document;
    const range = req.range && !req.range.isEmpty ? req.range : fullRange(doc);
    let text = doc.getText(range);
    const totalChars = text.length;
    if (text.trim().length === 0) throw new EngineError('BAD_INPUT', 'There is no text to analyse here.', 'Select some text, or open a file that has some.');
    if (text.includes('\u0000')) throw new EngineError('BAD_INPUT', `${labelOf(doc)} looks like a binary file.`, 'Select text in a text file.');
    const { maxCharacters, maxTokens } = this.settings();
    const charLimited = text.length > maxCharacters;
    if (charLimited) text = text.slice(0, safeCut(text, maxCharacters));

    const abort = new AbortController();
    const sub = req.token?.onCancellationRequested(() => abort.abort());
    this.setBusy(+1);
    try {
      req.onProgress?.('Finding the model…');
      const model = await this.resolveModel(req.token);
      req.onProgress?.(`Loading ${model.label}…`);
      const engine = this.engine();
      const summary = await engine.loadModel(model.dir, { signal: abort.signal });
      let target = req.target;
      if (summary.info.kind === 'encoder-decoder' && target === undefined) {
        req.onProgress?.('Generating the target text…');
        target = (await engine.generate({ dir: model.dir, text, maxNewTokens: DEFAULT_TARGET_TOKENS }, { signal: abort.signal })).newText;
      }
      req.onProgress?.('Running the model…', 0);
      const result = await engine.analyze({ dir: model.dir, text, target, maxTokens: maxTokens > 0 ? maxTokens : undefined }, {
        signal: abort.signal,
        onProgress: (e) => { if (e.stage === 'layer') req.onProgress?.(`Layer ${e.done} of ${e.total}`, e.done / e.total); },
      });
      const analysedText = result.truncatedAt !== undefined ? text.slice(0, result.truncatedAt) : text;
      const truncation = result.truncatedAt !== undefined || charLimited
        ? { reason: result.truncatedAt !== undefined ? 'tokens' as const : 'characters' as const, analysedChars: analysedText.length, totalChars, totalTokens: result.totalTokens }
        : undefined;
      const analysis: Analysis = {
        id: this.nextId++, document: doc, documentLabel: labelOf(doc), range: new AnalysedRange(doc.offsetAt(range.start), analysedText),
        model, summary, result, targetText: target, truncation, startedAt: t0, elapsedMs: Date.now() - t0,
      };
      if (this.currentAnalysis && this.currentAnalysis.result.traceId !== result.traceId) engine.release(this.currentAnalysis.result.traceId);
      this.currentAnalysis = analysis;
      this.remember(analysis);
      this.setControls({}); // clamp layer/head to the new model
      this.analysisEmitter.fire(analysis);
      return analysis;
    } finally {
      sub?.dispose();
      this.setBusy(-1);
    }
  }

  /**
   * Lets the workflow layer wrap model resolution (e.g. offer a download when the configured model is missing, then
   * continue the same analysis).
   */
  wrapModelResolver(wrap: (inner: ModelResolver) => ModelResolver): void {
    this.resolveModel = wrap(this.resolveModel);
  }

  /** Loads the configured model in the worker (no text run) and returns its facts, e.g. for the side panel. */
  async loadModelSummary(token?: vscode.CancellationToken): Promise<{ model: ResolvedModelDir; summary: ModelSummary }> {
    const abort = new AbortController();
    const sub = token?.onCancellationRequested(() => abort.abort());
    this.setBusy(+1);
    try {
      const model = await this.resolveModel(token);
      return { model, summary: await this.engine().loadModel(model.dir, { signal: abort.signal }) };
    } finally {
      sub?.dispose();
      this.setBusy(-1);
    }
  }

  /** Token count of a text with a model's tokenizer only (no weights): the status bar's live count. */
  async countTokens(dir: string, text: string, signal?: AbortSignal): Promise<number> {
    return (await this.engine().tokenize(dir, text, { channel: 'tokenize.count', signal })).ids.length;
  }

  /** Continues a text with the configured model (greedy when temperature is 0/absent, else sampled with the seed). */
  async generate(req: { text: string; maxNewTokens: number; temperature?: number; seed?: number; token?: vscode.CancellationToken; onProgress?: (message: string, fraction?: number) => void }): Promise<GenerateResult & { model: ResolvedModelDir; kind: ModelSummary['info']['kind'] }> {
    if (req.text.trim().length === 0) throw new EngineError('BAD_INPUT', 'There is no text to continue.', 'Select some text, or open a file that has some.');
    const abort = new AbortController();
    const sub = req.token?.onCancellationRequested(() => abort.abort());
    this.setBusy(+1);
    try {
      req.onProgress?.('Finding the model…');
      const model = await this.resolveModel(req.token);
      req.onProgress?.(`Loading ${model.label}…`);
      const summary = await this.engine().loadModel(model.dir, { signal: abort.signal });
      req.onProgress?.('Generating…', 0);
      const r = await this.engine().generate({ dir: model.dir, text: req.text, maxNewTokens: req.maxNewTokens, temperature: req.temperature, seed: req.seed }, {
        signal: abort.signal,
        onProgress: (e) => { if (e.total > 0) req.onProgress?.(`Token ${e.done} of ${e.total}`, e.done / e.total); },
      });
      return { ...r, model, kind: summary.info.kind };
    } finally {
      sub?.dispose();
      this.setBusy(-1);
    }
  }

  /** Runs the current analysis again on the document's current text of the same range. */
  rerun(token?: vscode.CancellationToken): Promise<Analysis> {
    const a = this.currentAnalysis;
    if (!a) throw new EngineError('BAD_INPUT', 'Nothing has been analysed yet.', 'Run "Transformer: Analyze Selection" first.');
    const doc = a.document;
    // After edits inside the range its end is approximate; the same offsets are the best guess of what the user meant.
    const end = Math.min(a.range.endOffset, doc.getText().length);
    const range = new vscode.Range(doc.positionAt(Math.min(a.range.startOffset, end)), doc.positionAt(end));
    return this.analyze({ document: doc, range, token, target: a.summary.info.kind === 'encoder-decoder' ? a.targetText : undefined });
  }

  clear(): void {
    if (this.currentAnalysis) this.engine().release(this.currentAnalysis.result.traceId);
    this.currentAnalysis = undefined;
    this.analysisEmitter.fire(undefined);
  }

  /** Asks the engine for one view's slice of the current analysis. */
  slice<R extends SliceRequest>(request: R, channel?: string): Promise<SliceResponse<R['slice']>> {
    const a = this.requireAnalysis();
    return this.engine().slice(a.result.traceId, request, { channel });
  }

  /** Hover data for the token at a document position; undefined outside the (fresh) analysed range. */
  async hoverAt(document: vscode.TextDocument, position: vscode.Position): Promise<{ analysis: Analysis; info: HoverInfo } | undefined> {
    const index = this.tokenIndexAt(document, position);
    const a = this.currentAnalysis;
    if (index === undefined || !a) return undefined;
    const c = this.controlsState;
    const info = await this.engine().hover({ traceId: a.result.traceId, position: index, layer: c.layer, head: c.aggregation === 'head' ? c.head : undefined, k: c.topK });
    return { analysis: a, info };
  }

  /** Index of the analysed token at a document position (undefined when stale, elsewhere, or another document). */
  tokenIndexAt(document: vscode.TextDocument, position: vscode.Position): number | undefined {
    const a = this.currentAnalysis;
    if (!a || a.range.stale || a.document !== document) return undefined;
    const offset = a.range.fromDocument(document.offsetAt(position));
    return offset === undefined ? undefined : tokenIndexAt(a.result.tokens, offset);
  }

  /** The document range of a source token (never of a target token, whose text is not in the document). */
  rangeOfToken(index: number): vscode.Range | undefined {
    const a = this.currentAnalysis;
    const t = a?.result.tokens[index];
    if (!a || !t || a.range.stale) return undefined;
    return this.rangeOfSpan(t.start, t.end);
  }

  /** Document range of a span [start, end) of the analysed text. */
  rangeOfSpan(start: number, end: number): vscode.Range | undefined {
    const a = this.currentAnalysis;
    if (!a || a.range.stale || start < 0 || end > a.range.text.length || end < start) return undefined;
    const [s, e] = a.range.toDocument([start, end]);
    return new vscode.Range(a.document.positionAt(s), a.document.positionAt(e));
  }

  /** Tokens whose spans intersect [start, end) of the analysed text. */
  tokensInSpan(start: number, end: number): number[] {
    const tokens: readonly ViewToken[] = this.currentAnalysis?.result.tokens ?? [];
    return tokens.flatMap((t, i) => (t.end > t.start && t.start < Math.max(end, start + 1) && t.end > start ? [i] : []));
  }

  /** Views report the token the user is pointing at, so other views and the editor follow. */
  focus(index: number | undefined): void {
    const a = this.currentAnalysis;
    if (!a || index === this.focusedToken) return;
    this.focusedToken = index;
    this.focusEmitter.fire({ analysis: a, index, source: 'view' });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private requireAnalysis(): Analysis {
    const a = this.currentAnalysis;
    if (!a) throw new EngineError('BAD_INPUT', 'Nothing has been analysed yet.', 'Run "Transformer: Analyze Selection" first.');
    return a;
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    const a = this.currentAnalysis;
    if (!a || e.document !== a.document || a.range.stale) return;
    // VS Code reports the changes of one edit against the document before it, in any order: apply from the end.
    const changes = [...e.contentChanges].sort((x, y) => y.rangeOffset - x.rangeOffset);
    for (const c of changes) {
      if (a.range.applyEdit({ rangeOffset: c.rangeOffset, rangeLength: c.rangeLength, textLength: c.text.length })) {
        this.staleEmitter.fire(a);
        return;
      }
    }
  }

  private markStale(a: Analysis): void {
    if (a.range.stale) return;
    a.range.markStale();
    this.staleEmitter.fire(a);
  }

  private onCursor(e: vscode.TextEditorSelectionChangeEvent): void {
    const a = this.currentAnalysis;
    if (!a || e.textEditor.document !== a.document) return;
    const index = this.tokenIndexAt(a.document, e.selections[0].active);
    if (index === this.focusedToken) return;
    this.focusedToken = index;
    this.focusEmitter.fire({ analysis: a, index, source: 'editor' });
  }

  private remember(a: Analysis): void {
    const entry: RecentAnalysis = {
      uri: a.document.uri, label: a.documentLabel, startOffset: a.range.startOffset, endOffset: a.range.endOffset,
      tokens: a.result.tokens.length, model: a.model.label, at: Date.now(),
    };
    const same = this.recentList.findIndex((r) => r.uri.toString() === entry.uri.toString() && r.startOffset === entry.startOffset && r.endOffset === entry.endOffset);
    if (same >= 0) this.recentList.splice(same, 1);
    this.recentList.unshift(entry);
    this.recentList.length = Math.min(this.recentList.length, MAX_RECENT);
  }

  private setBusy(delta: number): void {
    const was = this.busy;
    this.runningCount += delta;
    if (was !== this.busy) this.busyEmitter.fire(this.busy);
  }
}

function fullRange(doc: vscode.TextDocument): vscode.Range {
  return new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
}

function labelOf(doc: vscode.TextDocument): string {
  return doc.isUntitled ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri, false);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(Number.isFinite(x) ? x : lo, lo), Math.max(lo, hi));
}

/** A cut position that never splits a UTF-16 surrogate pair. */
function safeCut(text: string, at: number): number {
  const c = text.charCodeAt(at - 1);
  return c >= 0xd800 && c <= 0xdbff ? at - 1 : at;
}
