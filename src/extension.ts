/**
 * Activation: construct and register, nothing else. The engine pool (worker threads) starts on its first use, so
 * opening VS Code costs nothing until a Transformer command runs.
 */
import * as vscode from 'vscode';
import { EnginePool } from './engine-host/pool';
import { EXPLORER_VIEW_ID, ExplorerViewProvider } from './ui/explorerView';
import { WelcomePanel } from './ui/welcomePanel';

/** What `activate` returns: for other extensions and for the integration tests (`extension.exports`). */
export interface TransformerExplorerApi {
  /** The open welcome panel, if any (tests use its `ready` and `ping()`). */
  welcomePanel(): WelcomePanel | undefined;
}

export function activate(context: vscode.ExtensionContext): TransformerExplorerApi {
  const log = vscode.window.createOutputChannel('Transformer Explorer', { log: true });
  let pool: EnginePool | undefined;
  const enginePool = (): EnginePool =>
    (pool ??= new EnginePool({
      workerScript: vscode.Uri.joinPath(context.extensionUri, 'dist', 'engine-worker.js').fsPath,
      log: (m) => log.info(`[engine] ${m}`),
    }));

  const explorer = new ExplorerViewProvider(context);
  context.subscriptions.push(
    log,
    explorer,
    { dispose: () => void pool?.dispose() },
    vscode.commands.registerCommand('transformerExplorer.showWelcome', () => {
      WelcomePanel.createOrShow(context, log);
    }),
    // Hidden from the palette; proves a worker thread started from the extension host answers.
    vscode.commands.registerCommand('transformerExplorer.internal.pingWorker', () => enginePool().ping()),
    vscode.window.registerWebviewViewProvider(EXPLORER_VIEW_ID, explorer),
  );
  return { welcomePanel: () => WelcomePanel.instance };
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
