/**
 * The side-panel view `transformerExplorer.explorer` (activity bar). For now it shows the installation: extension
 * version and the configured model; the model/analysis explorer replaces its body later (issue 7).
 */
import * as vscode from 'vscode';
import { escapeHtml, renderWebviewHtml, webviewOptions } from './webviewHtml';

export const EXPLORER_VIEW_ID = 'transformerExplorer.explorer';

export class ExplorerViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('transformerExplorer')) this.render();
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.context.extensionUri);
    view.onDidDispose(() => (this.view = undefined));
    this.render();
  }

  private render(): void {
    if (!this.view) return;
    const version = String(this.context.extension.packageJSON.version ?? '');
    const model = vscode.workspace.getConfiguration('transformerExplorer').get<string>('model', '');
    this.view.webview.html = renderWebviewHtml(this.view.webview, this.context.extensionUri, {
      title: 'Transformer Explorer',
      styles: ['media/webview.css'],
      body: `<main class="te-explorer">
  <dl class="te-facts">
    <dt>Model</dt><dd data-testid="explorer-model">${escapeHtml(model || '(not set)')}</dd>
    <dt>Extension</dt><dd data-testid="explorer-version">v${escapeHtml(version)}</dd>
  </dl>
  <p class="te-muted">Select text in an editor and run a <strong>Transformer</strong> command to analyse it.</p>
</main>`,
    });
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
