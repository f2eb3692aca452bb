/**
 * Model store: resolve the `transformerExplorer.model` setting to a folder, list installed models, download
 * from the Hugging Face Hub, remove downloaded models. Plain Node — no `vscode` import; the UI injects:
 *
 * - `storageDir`: where downloads go. Pass `path.join(context.globalStorageUri.fsPath, 'hub')`. Downloads use
 *   the HF cache layout there (`models--org--name/{refs,snapshots}`) but never write to the user's HF cache,
 *   so other tools are never affected; models already in the HF cache are found and used read-only.
 * - `endpointSetting`: the value of a setting such as `transformerExplorer.hubEndpoint` ('' = default).
 *   Precedence: setting → env `HF_ENDPOINT` → https://huggingface.co.
 * - `token`: a TokenProvider backed by SecretStorage, e.g.
 *   `() => context.secrets.get('transformerExplorer.hfToken')`. It is read lazily (only when a download starts),
 *   sent only to the endpoint's origin (never to the CDN a redirect points to), and never logged.
 * - `agentFactory` (optional): the agent for each request URL. Inside VS Code, Node's http/https modules are
 *   already routed through `http.proxy` by VS Code's proxy support (`http.proxySupport`: "override"), so the
 *   UI normally passes nothing. If that is off, pass `(url) => new HttpsProxyAgent(proxyUrl)` (https-proxy-agent
 *   is already in node_modules as a dev dependency; add it with `--save` if shipped).
 * - Progress and cancellation: `onProgress(p: DownloadProgress)` (bytes done/total, speed; report increments to
 *   `vscode.window.withProgress`) and an `AbortSignal` (wire `CancellationToken.onCancellationRequested` to
 *   `AbortController.abort()`).
 * - `workspaceFolder` for relative folder paths; `env` / `homeDir` default to the process's.
 */
import os from 'node:os';
import { downloadModel, type DownloadProgress, type DownloadResult } from './download';
import { hfCacheRoots, type Env } from './hfCache';
import type { AgentFactory } from './http';
import { resolveEndpoint } from './hubClient';
import { listInstalledModels, removeDownloadedModel, type InstalledModel } from './listing';
import { resolveModel, type Resolution } from './resolve';

export { CATALOG, catalogEntry, type CatalogEntry, type ModelFamily } from './catalog';
export { downloadModel, type DownloadOptions, type DownloadProgress, type DownloadResult, type DownloadedFile } from './download';
export { isModelStoreError, ModelStoreError, type ModelStoreErrorCode } from './errors';
export { hfCacheRoots, repoFolderName, repoIdFromFolderName, snapshotFor, type Env } from './hfCache';
export type { AgentFactory } from './http';
export { DEFAULT_ENDPOINT, HubClient, resolveEndpoint, type RepoInfo, type RepoSibling, type TokenSource } from './hubClient';
export { listInstalledModels, removeDownloadedModel, type InstalledModel, type ListOptions } from './listing';
export { checkModelFolder, describeFolderCheck, type FolderCheck } from './modelFolder';
export { DEFAULT_REVISION, parseModelRef, repoIdProblem, revisionProblem, validateRepoId, type ModelRef } from './modelRef';
export { planFiles, REQUIRED_FILES, OPTIONAL_FILES } from './filePlan';
export { resolveModel, type ModelSource, type NotInstalled, type ResolveOptions, type ResolvedModel, type Resolution } from './resolve';

/** Reads the Hub access token, e.g. from VS Code SecretStorage; undefined when none is set. */
export type TokenProvider = () => Promise<string | undefined>;

export interface ModelStoreDeps {
  readonly storageDir: string;
  readonly workspaceFolder?: string;
  readonly endpointSetting?: string;
  readonly token?: TokenProvider;
  readonly agentFactory?: AgentFactory;
  readonly env?: Env;
  readonly homeDir?: string;
}

/** The UI-facing facade: one object per extension activation (recreate it when settings change). */
export class ModelStore {
  constructor(readonly deps: ModelStoreDeps) {}

  private get env(): Env { return this.deps.env ?? process.env; }
  private get homeDir(): string { return this.deps.homeDir ?? os.homedir(); }

  cacheRoots(): string[] { return hfCacheRoots(this.env, this.homeDir); }

  endpoint(): string { return resolveEndpoint(this.deps.endpointSetting, this.env); }

  resolve(setting: string): Resolution {
    return resolveModel(setting, { workspaceFolder: this.deps.workspaceFolder, storageDir: this.deps.storageDir, env: this.env, homeDir: this.homeDir });
  }

  list(): InstalledModel[] {
    return listInstalledModels({ cacheRoots: this.cacheRoots(), storageDir: this.deps.storageDir });
  }

  download(repoId: string, revision: string | undefined, opts: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {}): Promise<DownloadResult> {
    return downloadModel({
      repoId, revision, storageDir: this.deps.storageDir, endpoint: this.endpoint(), token: this.deps.token,
      agentFactory: this.deps.agentFactory, signal: opts.signal, onProgress: opts.onProgress,
    });
  }

  /** Removes a model from our storage only; HF cache entries are never touched. */
  remove(repoId: string): boolean { return removeDownloadedModel(this.deps.storageDir, repoId); }
}
