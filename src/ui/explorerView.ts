/**
 * The side-panel explorer (webview view `transformerExplorer.explorer` in the activity bar): current model, current
 * analysis (with stale badge and Re-run), a layers → heads tree that opens the attention view at a head, the shared
 * controls (bound to session.setControls both ways), recent analyses, and Analyze / Select Model buttons.
 * The host sends one small state object on every change; the page only renders it and sends intents back.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { explorerProtocol, type ExplorerState, type ExplorerToHost, type ExplorerToWebview } from '../protocol/explorer';
import { assertNever, type Message } from '../protocol/webview';
import type { ModelSummary } from '../engine/service';
import type { Analysis } from '../session/explorerSession';
import { isCancellation } from './errorActions';
import { showError } from './errors';
import { connectWebview, type WebviewChannel } from './webviewChannel';
import { renderWebviewHtml, webviewOptions } from './webviewHtml';
import { formatCount } from './format';
import { configuredModelSetting } from './modelPicker';
import { resolveConfiguredModel } from '../session/modelResolver';
import type { WorkflowContext } from './workflowContext';

export const EXPLORER_VIEW_ID = 'transformerExplorer.explorer';

export interface ExplorerActions {
  analyze(): unknown;
  selectModel(): unknown;
  rerun(): unknown;
  cancel(): unknown;
  openHead(layer: number, head: number): unknown;
  reopenRecent(index: number): unknown;
}

export class ExplorerViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private channel: WebviewChannel<ExplorerToWebview, ExplorerToHost> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private progress: string | undefined;
  /** Model facts of the last analysis, kept after a clear (same model → same facts). */
  private lastDetails: { dir: string; details: NonNullable<ExplorerState['model']['details']> } | undefined;
  /** The last state sent (tests read it through the internal state command). */
  lastState: ExplorerState | undefined;
  /** Resolves when the page has sent `ready`. */
  ready = false;

  constructor(private readonly wf: WorkflowContext, private readonly actions: ExplorerActions) {
    const s = wf.session;
    const push = () => this.pushState();
    this.disposables.push(
      s.onDidChangeAnalysis((a) => {
        if (a) this.lastDetails = { dir: a.model.dir, details: detailsOf(a) };
        push();
      }),
      s.onDidBecomeStale(push), s.onDidChangeControls(push), s.onDidChangeBusy(() => {
        if (!s.busy) this.progress = undefined;
        push();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('transformerExplorer')) push();
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    view.webview.options = webviewOptions(this.wf.extension.extensionUri);
    this.channel?.dispose();
    this.channel = connectWebview(view.webview, explorerProtocol, this.wf.log, (m) => this.handle(m));
    view.onDidDispose(() => {
      this.view = undefined;
      this.channel?.dispose();
      this.channel = undefined;
    });
    view.onDidChangeVisibility(() => view.visible && this.pushState());
    view.webview.html = renderWebviewHtml(view.webview, this.wf.extension.extensionUri, {
      title: 'Transformer Explorer',
      scripts: ['explorer'],
      body: '<main id="app" class="te-explorer" aria-live="polite"></main>',
    });
  }

  /** Progress text of the running analysis (from the command's progress callback). */
  setProgress(message: string | undefined): void {
    this.progress = message;
    this.pushState();
  }

  /** Dispatches one validated message from the page (tests inject messages through the same path). */
  handle(m: Message<ExplorerToHost>): void {
    switch (m.type) {
      case 'ready': this.ready = true; this.pushState(); return;
      case 'pong': return;
      case 'log': this.wf.log[m.level === 'error' ? 'error' : m.level === 'warn' ? 'warn' : 'info'](`[explorer] ${m.message}`); return;
      case 'explorer/analyze': void this.actions.analyze(); return;
      case 'explorer/selectModel': void this.actions.selectModel(); return;
      case 'explorer/rerun': void this.actions.rerun(); return;
      case 'explorer/cancel': void this.actions.cancel(); return;
      case 'explorer/loadModel': void this.loadDetails(); return;
      case 'explorer/openHead': void this.actions.openHead(m.layer, m.head); return;
      case 'explorer/reopenRecent': void this.actions.reopenRecent(m.index); return;
      case 'explorer/setControls': {
        const { head, ...rest } = m.patch;
        this.wf.session.setControls({ ...rest, ...(head !== undefined ? { head: head ?? undefined } : {}) });
        return;
      }
      default: assertNever(m);
    }
  }

  /** Loads the configured model in the worker to show its facts before any analysis. */
  async loadDetails(): Promise<boolean> {
    try {
      const { model, summary } = await this.wf.session.loadModelSummary();
      this.lastDetails = { dir: model.dir, details: detailsFromInfo(summary.info) };
      this.pushState();
      return true;
    } catch (e) {
      if (!isCancellation(e)) void showError(e, this.wf.log);
      return false;
    }
  }

  /** Validates raw input the way the webview channel does, then dispatches (for the internal test command). */
  receiveRaw(raw: unknown): boolean {
    if (!explorerProtocol.isToHost(raw)) return false;
    this.handle(raw);
    return true;
  }

  state(): ExplorerState {
    const s = this.wf.session;
    const a = s.current;
    const c = s.controls;
    return {
      model: this.modelFacts(),
      analysis: a ? analysisFacts(a) : undefined,
      controls: { layer: c.layer, head: c.head ?? null, aggregation: c.aggregation, topK: c.topK, temperature: c.temperature },
      recent: s.recent.map((r) => ({
        label: `${r.label}`,
        detail: `${r.tokens} tokens · ${r.model} · ${new Date(r.at).toLocaleTimeString()}`,
      })),
      busy: s.busy,
      progress: s.busy ? this.progress : undefined,
    };
  }

  private modelFacts(): ExplorerState['model'] {
    const setting = configuredModelSetting();
    const name = setting.includes('/') && !setting.startsWith('/') && !setting.startsWith('.') ? setting : path.basename(setting) || '(none)';
    try {
      const r = resolveConfiguredModel(this.wf.store(), setting);
      const details = this.lastDetails && path.resolve(this.lastDetails.dir) === path.resolve(r.dir) ? this.lastDetails.details : undefined;
      return { setting, name: r.label, dir: r.dir, status: 'installed', details };
    } catch (e) {
      return { setting, name, status: (e as Error).message };
    }
  }

  private pushState(): void {
    const st = this.state();
    this.lastState = st;
    if (this.view && this.channel && this.ready) this.channel.endpoint.post({ type: 'explorer/state', state: st });
  }

  dispose(): void {
    this.channel?.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

function detailsOf(a: Analysis): NonNullable<ExplorerState['model']['details']> {
  return detailsFromInfo(a.summary.info);
}

function detailsFromInfo(i: ModelSummary['info']): NonNullable<ExplorerState['model']['details']> {
  return {
    family: i.family, architecture: i.architecture, kind: i.kind, layers: i.n_layers, heads: i.n_heads, kvHeads: i.n_kv_heads,
    dModel: i.d_model, vocab: i.d_vocab, params: i.params, context: i.n_ctx, positional: String(i.positional),
    // (fused_blocks may be absent from a summary an older worker bundle sent)
    kernels: i.fused_blocks > 0 ? `${i.kernels} · ${i.fused_blocks} fused blocks` : i.kernels,
  };
}

function analysisFacts(a: Analysis): ExplorerState['analysis'] {
  const start = a.document.positionAt(a.range.startOffset);
  const end = a.document.positionAt(a.range.endOffset);
  const t = a.truncation;
  return {
    document: a.documentLabel,
    range: `Ln ${start.line + 1}, Col ${start.character + 1} – Ln ${end.line + 1}, Col ${end.character + 1}`,
    tokens: a.result.tokens.length,
    elapsedMs: a.elapsedMs,
    stale: a.range.stale,
    truncated: t ? `first ${formatCount(t.analysedChars)} of ${formatCount(t.totalChars)} characters (${a.result.tokens.length} of ${t.totalTokens} tokens)` : undefined,
    layers: a.summary.info.n_layers,
    heads: a.summary.info.n_heads,
  };
}

