/**
 * Turns any failure (EngineError, ModelStoreError, anything else) into one notification with a way forward, and runs
 * the button the user picks. The extension keeps working whatever happens here.
 */
import * as vscode from 'vscode';
import { presentError, type ErrorAction } from './errorActions';

export interface ErrorHandlers {
  /** Re-runs whatever failed (download, analysis). */
  retry?: () => unknown;
  /** Downloads the configured model (offered when it is not installed). */
  download?: () => unknown;
  notInstalledRepo?: string;
}

export async function showError(e: unknown, log: vscode.LogOutputChannel, handlers: ErrorHandlers = {}): Promise<void> {
  const p = presentError(e, { notInstalledRepo: handlers.notInstalledRepo });
  log[p.severity === 'info' ? 'info' : p.severity === 'warning' ? 'warn' : 'error'](p.message + (e instanceof Error && e.stack && p.severity === 'error' ? `\n${e.stack}` : ''));
  const actions = p.actions.filter((a) => (a === 'Retry' ? !!handlers.retry : a === 'Download' ? !!handlers.download : true));
  const show = p.severity === 'error' ? vscode.window.showErrorMessage : p.severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const picked = (await show(p.message, ...actions)) as ErrorAction | undefined;
  switch (picked) {
    case undefined: return;
    case 'Select Model…': await vscode.commands.executeCommand('transformerExplorer.selectModel'); return;
    case 'Download': await handlers.download?.(); return;
    case 'Open Settings': await vscode.commands.executeCommand('workbench.action.openSettings', p.setting ?? 'transformerExplorer'); return;
    case 'Set Hugging Face Token…': await vscode.commands.executeCommand('transformerExplorer.setHubToken'); return;
    case 'Retry': await handlers.retry?.(); return;
    case 'Show Log': log.show(true); return;
  }
}
