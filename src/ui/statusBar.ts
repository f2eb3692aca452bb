/**
 * Status bar: the model name and the token count of the current selection (tokenizer only, on the worker's
 * "tokenize" lane, debounced), click → Select Model…; while the engine loads or runs, a spinner with the progress
 * text, click → cancel.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveConfiguredModel } from '../session/modelResolver';
import { configuredModelSetting } from './modelPicker';
import type { WorkflowContext } from './workflowContext';

const DEBOUNCE_MS = 250;
/** Longest selection counted live (the tokenizer is fast, but the count must stay cheap while typing). */
const MAX_COUNT_CHARS = 100_000;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('transformerExplorer.status', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private progress: string | undefined;
  /** Token count of the current selection (undefined when nothing is selected or it could not be counted). */
  count: number | undefined;
  /** Resolves after each count finishes (tests wait on it). */
  private countListeners: (() => void)[] = [];

  constructor(private readonly wf: WorkflowContext) {
    this.item.name = 'Transformer Explorer';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeTextEditorSelection((e) => this.scheduleCount(e.textEditor)),
      // Focus moving to a webview (a view, the side panel) leaves no active editor: keep the last count then.
      vscode.window.onDidChangeActiveTextEditor((e) => e && this.scheduleCount(e)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('transformerExplorer.model')) this.scheduleCount();
      }),
      wf.session.onDidChangeBusy((busy) => {
        if (!busy) this.progress = undefined;
        this.render();
      }),
    );
    this.render();
    this.item.show();
    this.scheduleCount(); // a selection made before activation counts too
  }

  setProgress(message: string | undefined): void {
    this.progress = message;
    this.render();
  }

  /** Waits for the next finished count (tests). */
  nextCount(): Promise<number | undefined> {
    return new Promise((resolve) => this.countListeners.push(() => resolve(this.count)));
  }

  private modelName(): string {
    const s = configuredModelSetting();
    if (!s) return 'no model';
    return /^([/~.]|[A-Za-z]:[\\/]|file:)/.test(s) ? path.basename(s.replace(/[\\/]+$/, '')) : s.split('/').pop() ?? s;
  }

  private render(): void {
    const busy = this.wf.session.busy;
    const name = this.modelName();
    if (busy) {
      this.item.text = `$(sync~spin) ${name}${this.progress ? `: ${this.progress}` : ''}`;
      this.item.tooltip = 'Transformer Explorer is running the model. Click to cancel.';
      this.item.command = 'transformerExplorer.cancel';
      return;
    }
    const count = this.count !== undefined ? ` · ${this.count} token${this.count === 1 ? '' : 's'}` : '';
    this.item.text = `$(symbol-namespace) ${name}${count}`;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown('**Transformer Explorer**  \n');
    tip.appendText(`Model: ${configuredModelSetting() || '(none)'}`);
    if (this.count !== undefined) tip.appendMarkdown(`  \n${this.count} tokens in the selection (tokenizer only)`);
    tip.appendMarkdown('  \nClick to select a model.');
    this.item.tooltip = tip;
    this.item.command = 'transformerExplorer.selectModel';
  }

  /** Counts the selection of `editor` (default: the active one) once the selection has settled. */
  private scheduleCount(editor?: vscode.TextEditor): void {
    clearTimeout(this.timer);
    const target = editor ?? vscode.window.activeTextEditor;
    this.timer = setTimeout(() => void this.countSelection(target), DEBOUNCE_MS);
  }

  private async countSelection(editor: vscode.TextEditor | undefined): Promise<void> {
    this.abort?.abort();
    // No editor (a webview has focus): keep the last count.
    let count: number | undefined = editor ? undefined : this.count;
    const sel = editor?.selection;
    if (editor && sel && !sel.isEmpty) {
      const text = editor.document.getText(sel);
      const abort = (this.abort = new AbortController());
      try {
        // Never prompts: a missing model just means no count.
        const model = resolveConfiguredModel(this.wf.store());
        count = text.length <= MAX_COUNT_CHARS && !text.includes('\u0000') ? await this.wf.session.countTokens(model.dir, text, abort.signal) : undefined;
      } catch {
        count = undefined;
      }
      if (abort.signal.aborted) return;
    }
    this.count = count;
    this.render();
    const listeners = this.countListeners;
    this.countListeners = [];
    for (const l of listeners) l();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.abort?.abort();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
