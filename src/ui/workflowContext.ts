/** What the workflow pieces (commands, picker, hover, status bar, side panel) share. */
import type * as vscode from 'vscode';
import type { ModelStore } from '../models';
import type { ExplorerSession } from '../session/explorerSession';

export interface WorkflowContext {
  readonly extension: vscode.ExtensionContext;
  readonly session: ExplorerSession;
  readonly log: vscode.LogOutputChannel;
  /** A model store for the current settings (endpoint, workspace folder); cheap, created per use. */
  store(): ModelStore;
}

export const HUB_TOKEN_SECRET = 'transformerExplorer.hfToken';
