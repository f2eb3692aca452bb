/**
 * Activation: construct and register, nothing else. The engine pool (worker threads) starts on its first use, so
 * opening VS Code costs nothing until a Transformer command runs.
 */
import * as vscode from 'vscode';
import { EngineClient } from './engine-host/client';
import { EnginePool } from './engine-host/pool';
import { ExplorerSession } from './session/explorerSession';
import { modelStoreFor, resolveConfiguredModel } from './session/modelResolver';
import { registerWorkflow } from './ui/commands';
import { registerViews } from './ui/panels/registerViews';
import { WelcomePanel } from './ui/welcomePanel';

/** What `activate` returns: for other extensions and for the integration tests (`extension.exports`). */
export interface TransformerExplorerApi {
  /** The open welcome panel, if any (tests use its `ready` and `ping()`). */
  welcomePanel(): WelcomePanel | undefined;
  /** The analysis session shared by every view, hover and the side panel. */
  readonly session: ExplorerSession;
}

export function activate(context: vscode.ExtensionContext): TransformerExplorerApi {
  const log = vscode.window.createOutputChannel('Transformer Explorer', { log: true });
  let pool: EnginePool | undefined;
  // Weights kept for fast loading live in the extension's global storage (see src/engine/packCache.ts).
  const packCache = (): string | undefined =>
    vscode.workspace.getConfiguration('transformerExplorer').get<boolean>('keepWeightsForFastLoading', true)
      ? vscode.Uri.joinPath(context.globalStorageUri, 'weights-for-fast-loading').fsPath
      : undefined;
  const enginePool = (): EnginePool =>
    (pool ??= new EnginePool({
      workerScript: vscode.Uri.joinPath(context.extensionUri, 'dist', 'engine-worker.js').fsPath,
      idleTimeoutMs: 10 * 60_000,
      packCache: packCache(),
      log: (m) => log.info(`[engine] ${m}`),
    }));
  let client: EngineClient | undefined;
  const engine = (): EngineClient => (client ??= new EngineClient(enginePool()));
  const settings = () => {
    const cfg = vscode.workspace.getConfiguration('transformerExplorer');
    return { maxTokens: cfg.get<number>('maxTokens') ?? 0, maxCharacters: cfg.get<number>('maxCharacters') ?? 200_000 };
  };
  const session = new ExplorerSession(engine, async () => resolveConfiguredModel(modelStoreFor(context)), settings);

  context.subscriptions.push(
    log,
    session,
    { dispose: () => void pool?.dispose() },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('transformerExplorer.keepWeightsForFastLoading')) pool?.configure({ packCache: packCache() });
    }),
    vscode.commands.registerCommand('transformerExplorer.showWelcome', () => {
      WelcomePanel.createOrShow(context, log);
    }),
    // Hidden from the palette; proves a worker thread started from the extension host answers.
    vscode.commands.registerCommand('transformerExplorer.internal.pingWorker', () => enginePool().ping()),
  );
  registerWorkflow(context, session, log); // commands, hover, status bar, side panel, model picker
  registerViews(context, session, engine, log); // tokens/attention/positional/predictions panels, editor links, export
  return { welcomePanel: () => WelcomePanel.instance, session };
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
