/**
 * One WebviewPanel class for the four analysis views (tokens, attention, positional, predictions); the view kind
 * picks the bundle's view. One panel per kind: `createOrShow` reveals an open one instead of duplicating it. The
 * panel only relays: slices come from the session, links go to EditorLinks, and every message from the webview is
 * validated by the shared channel before it reaches `onMessage`.
 */
import * as vscode from 'vscode';
import { isEngineError } from '../../engine/errors';
import type { Analysis, ExplorerSession } from '../../session/explorerSession';
import { assertNever, type Message, type ViewsToHost, type ViewsToWebview, viewsProtocol } from '../../protocol/webview';
import type { AnalysisSummary, HostNotice, ViewKind, ViewNotice, ViewState } from '../../protocol/views';
import { connectWebview, type WebviewChannel } from '../webviewChannel';
import { escapeHtml, renderWebviewHtml, webviewOptions } from '../webviewHtml';
import type { EditorLinks } from './editorLinks';

export const VIEW_TYPES: Readonly<Record<ViewKind, string>> = {
  tokens: 'transformerExplorer.view.tokens',
  attention: 'transformerExplorer.view.attention',
  positional: 'transformerExplorer.view.positional',
  predictions: 'transformerExplorer.view.predictions',
};

export const VIEW_TITLES: Readonly<Record<ViewKind, string>> = {
  tokens: 'Tokens', attention: 'Attention', positional: 'Positional Encodings', predictions: 'Predictions',
};

export interface ViewPanelDeps {
  readonly extensionUri: vscode.Uri;
  readonly session: ExplorerSession;
  readonly links: EditorLinks;
  readonly log: vscode.LogOutputChannel;
  /** Writes an export (the save dialog, or a test folder). Returns the file written. */
  save(name: string, ext: 'png' | 'svg' | 'json', bytes: Uint8Array): Promise<vscode.Uri | undefined>;
}

/** What tests read about a panel. */
export interface PanelSnapshot {
  readonly kind: ViewKind;
  readonly ready: boolean;
  readonly visible: boolean;
  readonly state?: ViewState;
  /** what → { analysisId, ms after the analysis became current } */
  readonly drawn: Record<string, { analysisId: string; ms: number; at: number }>;
  readonly invalidMessages: number;
  /** Last warning/error the webview logged (a failed load, a script error). */
  readonly lastProblem?: string;
}

export function toSummary(a: Analysis): AnalysisSummary {
  const info = a.summary.info;
  return {
    analysisId: a.result.traceId,
    model: { name: a.model.label, family: info.family, kind: info.kind, nLayers: info.n_layers, nHeads: info.n_heads, nKvHeads: info.n_kv_heads, dHead: info.d_head, dModel: info.d_model, positional: info.positional },
    document: a.documentLabel, text: a.range.text, tokens: a.result.tokens,
    targetText: a.result.targetTokens ? a.targetText ?? '' : undefined, targetTokens: a.result.targetTokens,
    stale: a.range.stale, elapsedMs: a.elapsedMs,
  };
}

export class ViewPanel implements vscode.Disposable {
  private static readonly open = new Map<ViewKind, ViewPanel>();
  /** Time each analysis became current (for the first-paint measurement). */
  static readonly analysisShownAt = new Map<string, number>();

  static get(kind: ViewKind): ViewPanel | undefined {
    return ViewPanel.open.get(kind);
  }
  static all(): ViewPanel[] {
    return [...ViewPanel.open.values()];
  }

  /** Opens the view (beside the editor by default) or reveals the open one, then applies `focus` once it is ready. */
  static createOrShow(deps: ViewPanelDeps, kind: ViewKind, focus?: Partial<ViewState>, opts: { column?: vscode.ViewColumn; preserveFocus?: boolean } = {}): ViewPanel {
    const existing = ViewPanel.open.get(kind);
    if (existing) {
      existing.panel.reveal(opts.column ?? existing.panel.viewColumn, opts.preserveFocus ?? false);
      if (focus) existing.focus(focus);
      return existing;
    }
    // Views open as tabs of one group beside the editor: the first goes Beside, the others join its column.
    const sibling = ViewPanel.all().find((p) => p.panel.viewColumn !== undefined);
    const viewColumn = opts.column ?? sibling?.panel.viewColumn ?? vscode.ViewColumn.Beside;
    const panel = vscode.window.createWebviewPanel(VIEW_TYPES[kind], `Transformer: ${VIEW_TITLES[kind]}`, { viewColumn, preserveFocus: opts.preserveFocus ?? false }, {
      ...webviewOptions(deps.extensionUri),
      retainContextWhenHidden: true, // charts and zoom survive tab switches; the state is still persisted for restarts
    });
    const p = new ViewPanel(deps, kind, panel);
    if (focus) p.focus(focus);
    return p;
  }

  /** Called by the serializer after a restart: the webview restores its own state; we reconnect it. */
  static revive(deps: ViewPanelDeps, kind: ViewKind, panel: vscode.WebviewPanel, state: unknown): ViewPanel {
    ViewPanel.open.get(kind)?.dispose();
    panel.webview.options = webviewOptions(deps.extensionUri);
    const p = new ViewPanel(deps, kind, panel);
    if (state && typeof state === 'object') p.lastState = state as ViewState;
    return p;
  }

  private readonly channel: WebviewChannel<ViewsToWebview, ViewsToHost>;
  private readonly disposables: vscode.Disposable[] = [];
  private isReady = false;
  private pendingFocus?: Partial<ViewState>;
  private lastState?: ViewState;
  private readonly drawn: Record<string, { analysisId: string; ms: number; at: number }> = {};
  private invalid = 0;
  private lastProblem?: string;
  private readonly readyWaiters: (() => void)[] = [];

  private constructor(private readonly deps: ViewPanelDeps, readonly kind: ViewKind, readonly panel: vscode.WebviewPanel) {
    ViewPanel.open.set(kind, this);
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'activity-bar.svg');
    panel.webview.html = renderWebviewHtml(panel.webview, deps.extensionUri, {
      title: VIEW_TITLES[kind],
      scripts: ['views'],
      body: `<div id="root" data-view="${escapeHtml(kind)}"></div>`,
    });
    // connectWebview only calls `warn` (for dropped messages): count them for the tests, then log as usual.
    const countingLog = { warn: (msg: string) => { this.invalid++; deps.log.warn(msg); } } as unknown as vscode.LogOutputChannel;
    this.channel = connectWebview(panel.webview, viewsProtocol, countingLog, (m) => void this.onMessage(m));
    const s = deps.session;
    this.disposables.push(
      this.channel,
      panel.onDidDispose(() => this.dispose()),
      s.onDidChangeAnalysis((a) => this.sendAnalysis(a)),
      s.onDidBecomeStale(() => { this.notify({ type: 'stale', stale: true }); this.notify({ type: 'paintCleared' }); }),
      s.onDidChangeFocusToken((e) => { if (e.analysis === s.current) this.notify({ type: 'highlight', indices: e.index === undefined ? [] : [e.index] }); }),
      s.onDidChangeBusy((busy) => this.notify({ type: 'progress', label: 'Running the model…', done: 0, total: 0, finished: !busy })),
      s.onDidChangeControls((c) => this.applyControls(c)),
    );
  }

  get snapshot(): PanelSnapshot {
    return { kind: this.kind, ready: this.isReady, visible: this.panel.visible, state: this.lastState, drawn: { ...this.drawn }, invalidMessages: this.invalid, lastProblem: this.lastProblem };
  }

  /** Resolves once the webview has sent `ready`. */
  whenReady(): Promise<void> {
    return this.isReady ? Promise.resolve() : new Promise((r) => this.readyWaiters.push(r));
  }

  /** Receives a raw message as if the webview sent it (integration tests; validated like any other). */
  receiveRaw(raw: unknown): void {
    this.channel.endpoint.receive(raw);
  }

  focus(focus: Partial<ViewState>): void {
    if (!this.isReady) { this.pendingFocus = { ...this.pendingFocus, ...focus }; return; }
    this.notify({ type: 'focus', state: { ...focus, view: this.kind } });
  }

  notify(notice: HostNotice): void {
    if (this.isReady) this.channel.endpoint.post({ type: 'view/notice', notice });
  }

  private sendAnalysis(a: Analysis | undefined): void {
    if (a) {
      if (!ViewPanel.analysisShownAt.has(a.result.traceId)) ViewPanel.analysisShownAt.set(a.result.traceId, Date.now());
      this.notify({ type: 'summary', summary: toSummary(a) });
      this.notify({ type: 'paintCleared' });
    } else {
      this.notify({ type: 'error', message: 'Nothing is analysed. Select text and run "Transformer: Analyze Selection".' });
    }
  }

  /** The side panel's quick controls (shared layer/head/aggregation/top-k/temperature) steer the open views. */
  private applyControls(c: ExplorerSession['controls']): void {
    const st = this.lastState;
    if (this.kind === 'attention') {
      const heads = c.head === undefined ? st?.heads : [c.head];
      if (st && st.layer === c.layer && st.aggregation === c.aggregation && (c.head === undefined || st.head === c.head)) return;
      this.focus({ layer: c.layer, aggregation: c.aggregation, ...(c.head !== undefined ? { head: c.head, heads } : {}) });
    } else if (this.kind === 'predictions') {
      if (st && st.topK === c.topK && st.temperature === c.temperature) return;
      this.focus({ topK: c.topK, temperature: c.temperature });
    }
  }

  private async onMessage(m: Message<ViewsToHost>): Promise<void> {
    switch (m.type) {
      case 'ready': {
        this.isReady = true;
        this.sendAnalysis(this.deps.session.current);
        if (this.deps.session.current?.range.stale) this.notify({ type: 'stale', stale: true });
        if (this.pendingFocus) { this.focus(this.pendingFocus); this.pendingFocus = undefined; }
        for (const r of this.readyWaiters.splice(0)) r();
        return;
      }
      case 'pong':
        return;
      case 'log':
        if (m.level !== 'info') this.lastProblem = m.message;
        this.deps.log[m.level === 'error' ? 'error' : m.level === 'warn' ? 'warn' : 'info'](`[${this.kind} view] ${m.message}`);
        return;
      case 'view/request': {
        try {
          // One channel per view and slice kind: a newer request (another layer, head…) cancels the older one.
          const slice = await this.deps.session.slice(m.request, `view.${this.kind}.${m.request.slice}`);
          this.channel.endpoint.post({ type: 'view/sliceResult', ok: true, slice }, m.id);
        } catch (e) {
          const message = isEngineError(e) ? `${e.message}${e.hint ? ` ${e.hint}` : ''}` : (e as Error).message;
          this.channel.endpoint.post({ type: 'view/sliceResult', ok: false, error: message.slice(0, 2000) }, m.id);
        }
        return;
      }
      case 'view/notice':
        await this.onNotice(m.notice);
        return;
      default:
        assertNever(m);
    }
  }

  private async onNotice(n: ViewNotice): Promise<void> {
    const { links, session } = this.deps;
    switch (n.type) {
      case 'hoverToken': if (n.editor) links.hover(n.start, n.end); return;
      case 'leaveToken': links.unhover(); return;
      case 'revealToken': if (n.editor) await links.reveal(n.start, n.end); return;
      case 'paint': {
        const count = links.paint(n.paint);
        if (count === 0) this.notify({ type: 'error', message: 'Nothing to paint: the analysis is stale or the weights are all zero.' });
        for (const p of ViewPanel.all()) if (p !== this) p.notify({ type: 'paintCleared' });
        return;
      }
      case 'clearPaint': links.clearPaint(); for (const p of ViewPanel.all()) p.notify({ type: 'paintCleared' }); return;
      case 'export': await this.export(n.format, n.data, n.name); return;
      case 'rerun': await vscode.commands.executeCommand('transformerExplorer.rerunAnalysis'); return;
      case 'continue': await vscode.commands.executeCommand('transformerExplorer.continueText', n.request); return;
      case 'openView': await vscode.commands.executeCommand(`transformerExplorer.show${n.view === 'positional' ? 'PositionalEncodings' : n.view[0].toUpperCase() + n.view.slice(1)}`, n.state); return;
      case 'state': {
        this.lastState = n.state;
        // the attention view's layer/head become the shared controls (the hover and side panel follow)
        const c = session.controls;
        if (this.kind === 'attention' && n.state.layer !== undefined && (n.state.layer !== c.layer || (n.state.head ?? c.head) !== c.head || (n.state.aggregation ?? c.aggregation) !== c.aggregation)) {
          session.setControls({ layer: n.state.layer, head: n.state.head ?? c.head, aggregation: n.state.aggregation ?? c.aggregation });
        }
        return;
      }
      case 'drawn': {
        const shown = ViewPanel.analysisShownAt.get(n.analysisId);
        this.drawn[n.what] = { analysisId: n.analysisId, ms: shown !== undefined ? Date.now() - shown : -1, at: Date.now() };
        return;
      }
      default:
        assertNever(n);
    }
  }

  private async export(format: 'png' | 'svg' | 'json', data: string, name: string): Promise<void> {
    let bytes: Uint8Array;
    if (format === 'png') {
      const m = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(data);
      if (!m) { this.notify({ type: 'error', message: 'The PNG from the view was malformed.' }); return; }
      bytes = Buffer.from(m[1], 'base64');
    } else {
      bytes = Buffer.from(data, 'utf8');
    }
    try {
      const uri = await this.deps.save(name, format, bytes);
      if (uri) void vscode.window.showInformationMessage(`Saved ${vscode.workspace.asRelativePath(uri)}.`);
    } catch (e) {
      this.notify({ type: 'error', message: `Could not save the export: ${(e as Error).message}` });
    }
  }

  dispose(): void {
    if (ViewPanel.open.get(this.kind) === this) ViewPanel.open.delete(this.kind);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
