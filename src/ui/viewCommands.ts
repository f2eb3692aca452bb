/**
 * The one place that calls the views' commands (registered by the views, src/ui/panels). Every call site of the
 * workflow (Analyze Selection, the hover's links, the side panel's head tree) goes through here, so a change of
 * their ids or arguments is a change in this file only.
 *
 * Contract assumed: `executeCommand(id, { token?, layer?, head? })` opens (or reveals) the view and focuses it on
 * that token / layer / head of the current analysis.
 */
import * as vscode from 'vscode';

export const VIEW_COMMAND_IDS = {
  tokens: 'transformerExplorer.showTokens',
  attention: 'transformerExplorer.showAttention',
  positional: 'transformerExplorer.showPositionalEncodings',
  predictions: 'transformerExplorer.showPredictions',
  clearHighlights: 'transformerExplorer.clearHighlights',
  exportTrace: 'transformerExplorer.exportTrace',
} as const;

export type ViewName = 'tokens' | 'attention' | 'positional' | 'predictions';

export interface ViewFocus {
  readonly token?: number;
  readonly layer?: number;
  readonly head?: number;
}

/** Calls made through here, newest last (integration tests check what the side panel and the hover asked for). */
export const viewCommandLog: { view: ViewName; focus: ViewFocus }[] = [];

async function isRegistered(id: string): Promise<boolean> {
  return (await vscode.commands.getCommands(true)).includes(id);
}

/** Opens a view focused on a token/head. Returns false (after telling the user) when the views are not available. */
export async function openView(view: ViewName, focus: ViewFocus = {}): Promise<boolean> {
  viewCommandLog.push({ view, focus });
  if (viewCommandLog.length > 50) viewCommandLog.shift();
  const id = VIEW_COMMAND_IDS[view];
  if (!(await isRegistered(id))) {
    void vscode.window.showWarningMessage(`The ${view} view is not available in this build (command ${id} is missing).`);
    return false;
  }
  await vscode.commands.executeCommand(id, focus);
  return true;
}

/** True when at least one analysis view (a webview panel of ours other than the welcome page) is open. */
export function anyViewOpen(): boolean {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) =>
    t.input instanceof vscode.TabInputWebview && /transformerExplorer\.(?!welcome)/.test(t.input.viewType));
}
