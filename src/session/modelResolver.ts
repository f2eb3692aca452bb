/**
 * Default model resolution for the session: the `transformerExplorer.model` setting through the model store
 * (local folder → Hugging Face cache → our storage). When the model is not installed it fails with a hint; the
 * workflow layer wraps this to offer a download.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ModelStore } from '../models';
import { EngineError } from '../engine/errors';
import type { ResolvedModelDir } from './explorerSession';

export function modelStoreFor(context: vscode.ExtensionContext): ModelStore {
  const cfg = vscode.workspace.getConfiguration('transformerExplorer');
  return new ModelStore({
    storageDir: path.join(context.globalStorageUri.fsPath, 'hub'),
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    endpointSetting: cfg.get<string>('hubEndpoint') ?? '',
    token: async () => context.secrets.get('transformerExplorer.hfToken'),
  });
}

export function configuredModel(): string {
  return (vscode.workspace.getConfiguration('transformerExplorer').get<string>('model') ?? '').trim();
}

export function resolveConfiguredModel(store: ModelStore, setting = configuredModel()): ResolvedModelDir {
  if (!setting) throw new EngineError('BAD_INPUT', 'No model is configured.', 'Run "Transformer: Select Model…".');
  const r = store.resolve(setting);
  if (r.status === 'found') return { dir: r.dir, label: r.ref.kind === 'hub' ? r.ref.repoId : path.basename(r.dir) };
  throw new EngineError('MISSING_FILE', `The model "${setting}" is not installed.`, 'Run "Transformer: Download Model…" or "Transformer: Select Model…".');
}
