/** Helpers for integration tests (they run inside the extension host with the real vscode API). */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TransformerExplorerApi } from '../../../src/extension';

export const EXTENSION_ID = 'transformer-explorer.transformer-explorer';

export function getExtension(): vscode.Extension<TransformerExplorerApi> {
  const ext = vscode.extensions.getExtension<TransformerExplorerApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext;
}

/** Activates the extension under test and returns its API (`activate`'s return value). */
export async function activateExtension(): Promise<TransformerExplorerApi> {
  return getExtension().activate();
}

/** Polls `probe` until it returns a truthy value (UI state in VS Code settles asynchronously). */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A webview panel tab whose viewType ends with `viewType` (VS Code prefixes it internally). */
export function findWebviewTab(viewType: string): vscode.Tab | undefined {
  return webviewTabs(viewType)[0];
}

export function countWebviewTabs(viewType: string): number {
  return webviewTabs(viewType).length;
}

function webviewTabs(viewType: string): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** `contributes` of our package.json. */
export function contributes(): { commands: { command: string; title: string }[]; menus?: Record<string, { command: string; when?: string }[]> } {
  return getExtension().packageJSON.contributes;
}
