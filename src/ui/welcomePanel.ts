/**
 * "Transformer: Show Welcome": what the extension is, this installation's versions and model, and buttons to the
 * explorer and the settings. One panel at most; showing it again reveals it.
 */
import * as vscode from 'vscode';
import { Message, WelcomeToHost, WelcomeToWebview, assertNever, welcomeProtocol } from '../protocol/webview';
import { WebviewChannel, connectWebview } from './webviewChannel';
import { escapeHtml, renderWebviewHtml, webviewOptions } from './webviewHtml';
import { EXPLORER_VIEW_ID } from './explorerView';

export const WELCOME_VIEW_TYPE = 'transformerExplorer.welcome';

export interface PingResult {
  readonly roundTripMs: number;
  /** The heading the webview rendered. */
  readonly heading: string;
}

export class WelcomePanel implements vscode.Disposable {
  private static current: WelcomePanel | undefined;

  /** Resolves when the webview's script has run and sent `ready` (test hook and start of the conversation). */
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly channel: WebviewChannel<WelcomeToWebview, WelcomeToHost>;
  private readonly disposables: vscode.Disposable[] = [];

  static createOrShow(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): WelcomePanel {
    if (WelcomePanel.current) {
      WelcomePanel.current.panel.reveal();
      return WelcomePanel.current;
    }
    const panel = vscode.window.createWebviewPanel(WELCOME_VIEW_TYPE, 'Transformer Explorer', vscode.ViewColumn.Active, webviewOptions(context.extensionUri));
    WelcomePanel.current = new WelcomePanel(panel, context, log);
    return WelcomePanel.current;
  }

  /** The open panel, if any. */
  static get instance(): WelcomePanel | undefined {
    return WelcomePanel.current;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'icon.png');
    this.channel = connectWebview(panel.webview, welcomeProtocol, log, (m) => this.onMessage(m));
    this.disposables.push(
      this.channel,
      panel.onDidDispose(() => this.dispose()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('transformerExplorer.model')) this.sendInfo();
      }),
    );
    panel.webview.html = renderWebviewHtml(panel.webview, context.extensionUri, {
      title: 'Transformer Explorer',
      scripts: ['welcome'],
      styles: ['media/webview.css'],
      body: welcomeBody(panel.webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, 'media', 'icon.png')).toString()),
    });
  }

  /** Round trip through the typed protocol: ping → pong. */
  async ping(timeoutMs = 10_000): Promise<PingResult> {
    const sentAt = Date.now();
    const pong = await this.channel.endpoint.request({ type: 'ping', sentAt }, 'pong', timeoutMs);
    return { roundTripMs: Date.now() - pong.sentAt, heading: pong.heading };
  }

  private onMessage(m: Message<WelcomeToHost>): void {
    switch (m.type) {
      case 'ready':
        this.sendInfo();
        this.markReady();
        return;
      case 'pong':
        return; // replies are consumed by ping(); a late one lands here and needs nothing
      case 'log':
        this.log[m.level](`[welcome webview] ${m.message}`);
        return;
      case 'welcome/openExplorer':
        void vscode.commands.executeCommand(`${EXPLORER_VIEW_ID}.focus`);
        return;
      case 'welcome/openSettings':
        void vscode.commands.executeCommand('workbench.action.openSettings', 'transformerExplorer');
        return;
      default:
        assertNever(m);
    }
  }

  private sendInfo(): void {
    this.channel.endpoint.post({
      type: 'welcome/info',
      info: {
        extensionVersion: String(this.context.extension.packageJSON.version ?? ''),
        vscodeVersion: vscode.version,
        model: vscode.workspace.getConfiguration('transformerExplorer').get<string>('model', ''),
      },
    });
  }

  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (WelcomePanel.current === this) WelcomePanel.current = undefined;
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

/** The page skeleton; the webview script fills in the facts (`welcome/info`) and wires the buttons. */
function welcomeBody(iconUri: string): string {
  return `<main class="te-welcome">
  <header class="te-welcome__header">
    <img class="te-welcome__icon" src="${escapeHtml(iconUri)}" alt="" width="64" height="64">
    <div>
      <h1>Transformer Explorer</h1>
      <p class="te-muted">See inside transformer language models, linked back to your text.</p>
    </div>
  </header>
  <p>Select text in any editor and ask a model what it makes of it: how it is split into tokens (with their exact
  character ranges), where each attention head looks, how positions are encoded, and what the model predicts next.
  Everything runs locally, in a worker thread beside the editor.</p>
  <section aria-labelledby="te-install">
    <h2 id="te-install">This installation</h2>
    <dl class="te-facts">
      <dt>Model</dt><dd data-testid="model">…</dd>
      <dt>Extension</dt><dd data-testid="extension-version">…</dd>
      <dt>VS Code</dt><dd data-testid="vscode-version">…</dd>
    </dl>
  </section>
  <section aria-labelledby="te-start">
    <h2 id="te-start">Getting started</h2>
    <ol>
      <li>Choose a model in the settings (<code>transformerExplorer.model</code>): a Hugging Face id or a local folder.</li>
      <li>Select some text and run a <strong>Transformer:</strong> command from the Command Palette (<kbd>F1</kbd>).</li>
      <li>Open the Transformer Explorer side panel to see the model and your analyses.</li>
    </ol>
  </section>
  <div class="te-actions">
    <vscode-button id="open-explorer" icon="layout-sidebar-left">Open Explorer</vscode-button>
    <vscode-button id="open-settings" secondary icon="settings-gear">Settings</vscode-button>
  </div>
</main>`;
}
