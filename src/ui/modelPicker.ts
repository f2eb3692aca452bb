/**
 * "Select Model…", "Download Model…", "Remove Downloaded Model…" and the setting they change.
 *
 * Where the choice is saved: in the user (global) settings, because a model is a personal tool choice and its
 * download lives in the extension's global storage, shared by every workspace. The exception: when the workspace
 * already sets `transformerExplorer.model`, that value would shadow a global change, so the workspace value is
 * updated instead (and the message says so).
 */
import * as vscode from 'vscode';
import { CATALOG, checkModelFolder, describeFolderCheck, ModelStoreError, parseModelRef } from '../models';
import { downloadWithProgress } from './downloads';
import { showError } from './errors';
import { buildModelPickItems, removableModels, type PickAction } from './modelPickerItems';
import type { WorkflowContext } from './workflowContext';

const SETTING = 'transformerExplorer.model';

export function settingTarget(): vscode.ConfigurationTarget {
  const inspected = vscode.workspace.getConfiguration('transformerExplorer').inspect<string>('model');
  if (inspected?.workspaceFolderValue !== undefined) return vscode.ConfigurationTarget.WorkspaceFolder;
  if (inspected?.workspaceValue !== undefined) return vscode.ConfigurationTarget.Workspace;
  return vscode.ConfigurationTarget.Global;
}

export async function setConfiguredModel(value: string): Promise<void> {
  await vscode.workspace.getConfiguration('transformerExplorer').update('model', value, settingTarget());
}

export function configuredModelSetting(): string {
  return (vscode.workspace.getConfiguration('transformerExplorer').get<string>('model') ?? '').trim();
}

/** The quick pick. Resolves with the action taken (undefined when dismissed). */
export async function selectModel(wf: WorkflowContext): Promise<PickAction | undefined> {
  const store = wf.store();
  let installed: ReturnType<typeof store.list> = [];
  try {
    installed = store.list();
  } catch (e) {
    wf.log.warn(`Listing installed models failed: ${(e as Error).message}`);
  }
  const items = buildModelPickItems(installed, CATALOG, configuredModelSetting()).map((i) => ({
    label: i.label, description: i.description, detail: i.detail, action: i.action,
    kind: i.separator ? vscode.QuickPickItemKind.Separator : vscode.QuickPickItemKind.Default,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Transformer: Select Model', placeHolder: `Current: ${configuredModelSetting() || '(none)'}`, matchOnDescription: true, matchOnDetail: true,
  });
  if (!picked?.action) return undefined;
  await applyPick(wf, picked.action);
  return picked.action;
}

/** Carries out a quick-pick choice (tests call this directly with the same actions the picker produces). */
export async function applyPick(wf: WorkflowContext, action: PickAction): Promise<boolean> {
  switch (action.kind) {
    case 'use':
      await setConfiguredModel(action.setting);
      void vscode.window.setStatusBarMessage(`Transformer Explorer: model set to ${action.setting}`, 4000);
      return true;
    case 'download':
      return downloadAndUse(wf, action.repoId);
    case 'unavailable':
      void vscode.window.showInformationMessage(`${action.repoId} cannot be downloaded for the engine. ${action.note}`, 'Browse local folder…')
        .then((b) => (b ? applyPick(wf, { kind: 'browse' }) : undefined));
      return false;
    case 'browse': {
      const uris = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Use this model folder', title: 'Select a model folder' });
      if (!uris?.[0]) return false;
      return useFolder(wf, uris[0].fsPath);
    }
    case 'remove':
      return removeDownloaded(wf);
  }
}

/** Sets a local folder as the model after checking it has the files the engine needs (nothing is written there). */
export async function useFolder(wf: WorkflowContext, dir: string): Promise<boolean> {
  const check = checkModelFolder(dir);
  if (!check.usable) {
    void showError(new ModelStoreError('INCOMPLETE_MODEL', describeFolderCheck(dir, check),
      'Pick a folder with config.json, tokenizer.json and model.safetensors (a Hugging Face model saved with save_pretrained, safetensors format).', check.missing), wf.log);
    return false;
  }
  await setConfiguredModel(dir);
  void vscode.window.setStatusBarMessage(`Transformer Explorer: model set to ${dir}`, 4000);
  return true;
}

/** Downloads a Hub model with progress, then makes it the configured model. */
export async function downloadAndUse(wf: WorkflowContext, repoId: string, revision?: string): Promise<boolean> {
  try {
    const r = await downloadWithProgress(wf.store(), repoId, revision);
    wf.log.info(`Downloaded ${repoId}@${r.commit} to ${r.dir} (${r.alreadyInstalled ? 'already installed' : 'new'})`);
    await setConfiguredModel(revision ? `${repoId}@${revision}` : repoId);
    void vscode.window.showInformationMessage(r.alreadyInstalled ? `${repoId} is already installed; it is now the model.` : `Downloaded ${repoId}; it is now the model.`);
    return true;
  } catch (e) {
    void showError(e, wf.log, { retry: () => downloadAndUse(wf, repoId, revision) });
    return false;
  }
}

/** "Download Model…": the catalog, or any Hub id typed in. */
export async function pickAndDownload(wf: WorkflowContext): Promise<boolean> {
  const items: (vscode.QuickPickItem & { repoId?: string })[] = [
    ...CATALOG.filter((e) => e.downloadable).map((e) => ({ label: e.label, description: `${e.family} · ${e.repoId}`, detail: e.description, repoId: e.repoId })),
    { label: '$(edit) Enter a Hugging Face model id…' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Transformer: Download Model', placeHolder: 'A model to download from the Hugging Face Hub' });
  if (!picked) return false;
  let repoId = picked.repoId;
  if (!repoId) {
    repoId = (await vscode.window.showInputBox({
      title: 'Hugging Face model id', prompt: 'e.g. openai-community/gpt2 (optionally @revision)', placeHolder: 'org/name',
      validateInput: (v) => {
        try {
          return parseModelRef(v.trim()).kind === 'hub' ? undefined : 'Enter a Hub id such as org/name, not a folder path';
        } catch (e) {
          return (e as Error).message;
        }
      },
    }))?.trim();
    if (!repoId) return false;
  }
  const ref = parseModelRef(repoId);
  if (ref.kind !== 'hub') return false;
  return downloadAndUse(wf, ref.repoId, repoId.includes('@') ? ref.revision : undefined);
}

/** "Remove Downloaded Model…": only models in our storage; the HF cache is never touched. */
export async function removeDownloaded(wf: WorkflowContext, repoId?: string): Promise<boolean> {
  const store = wf.store();
  const removable = removableModels(store.list());
  if (removable.length === 0) {
    void vscode.window.showInformationMessage('No models downloaded by Transformer Explorer. (Models in the Hugging Face cache belong to other tools and are never removed from here.)');
    return false;
  }
  let target = repoId;
  if (!target) {
    const picked = await vscode.window.showQuickPick(removable.map((m) => ({ label: m.repoId, description: m.dir })), { title: 'Remove a downloaded model' });
    if (!picked) return false;
    const sure = await vscode.window.showWarningMessage(`Delete the downloaded files of ${picked.label}?`, { modal: true }, 'Delete');
    if (sure !== 'Delete') return false;
    target = picked.label;
  }
  try {
    const removed = store.remove(target);
    void vscode.window.showInformationMessage(removed ? `Removed ${target}.` : `${target} was not in the download folder.`);
    return removed;
  } catch (e) {
    void showError(e, wf.log);
    return false;
  }
}

export { SETTING as MODEL_SETTING };
