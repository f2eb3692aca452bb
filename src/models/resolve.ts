/**
 * Resolution of a model setting to a folder on disk, in this order:
 *   1. a local folder (absolute, ~, or relative to the workspace — also a Hub-id-shaped value that names an
 *      existing workspace folder);
 *   2. the Hugging Face cache (see hfCacheRoots for the precedence of HF_HUB_CACHE / HF_HOME / defaults);
 *   3. the extension's own download storage (same layout, see download.ts);
 *   4. otherwise "not installed": the caller offers a download.
 * A folder that exists but lacks files is an error naming exactly what is missing — never silently skipped
 * for a local folder; for cache/storage snapshots the incomplete ones are reported alongside "not installed".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelStoreError } from './errors';
import { hfCacheRoots, snapshotFor, type Env } from './hfCache';
import { checkModelFolder, describeFolderCheck } from './modelFolder';
import { parseModelRef, type ModelRef } from './modelRef';

export type ModelSource = 'folder' | 'hf-cache' | 'storage';

export interface ResolveOptions {
  /** The first workspace folder, for relative paths. */
  readonly workspaceFolder?: string;
  /** Our download storage root (hub layout), e.g. `<globalStorage>/hub`. */
  readonly storageDir?: string;
  readonly env?: Env;
  readonly homeDir?: string;
}

export interface ResolvedModel {
  readonly status: 'found';
  readonly dir: string;
  readonly source: ModelSource;
  readonly ref: ModelRef;
  /** For cache/storage hits: the snapshot's commit hash. */
  readonly commit?: string;
}

export interface IncompleteCandidate {
  readonly dir: string;
  readonly source: ModelSource;
  readonly missing: readonly string[];
  readonly problems: readonly string[];
}

export interface NotInstalled {
  readonly status: 'not-installed';
  readonly ref: Extract<ModelRef, { kind: 'hub' }>;
  /** Snapshots that exist for this revision but are incomplete (e.g. a partial huggingface-cli download). */
  readonly incomplete: readonly IncompleteCandidate[];
  /** Where we looked, in order, for the message shown to the user. */
  readonly searched: readonly string[];
}

export type Resolution = ResolvedModel | NotInstalled;

function isDir(p: string): boolean {
  try { return fs.statSync(p).isDirectory(); } catch { return false; }
}

function folderOrThrow(dir: string, ref: ModelRef): ResolvedModel {
  if (!isDir(dir)) {
    throw new ModelStoreError('FOLDER_NOT_FOUND', `The model folder ${dir} does not exist.`,
      'Check the path in "transformerExplorer.model", or use a Hugging Face id such as "openai-community/gpt2".');
  }
  const check = checkModelFolder(dir);
  if (!check.usable) {
    throw new ModelStoreError('INCOMPLETE_MODEL', describeFolderCheck(dir, check),
      'A usable folder has config.json, tokenizer.json and model.safetensors (or model.safetensors.index.json with all its shards).',
      [...check.missing]);
  }
  return { status: 'found', dir, source: 'folder', ref };
}

export function resolveModel(setting: string, opts: ResolveOptions = {}): Resolution {
  const env = opts.env ?? process.env;
  const homeDir = opts.homeDir ?? os.homedir();
  const ref = parseModelRef(setting, { workspaceFolder: opts.workspaceFolder, homeDir });
  if (ref.kind === 'folder') return folderOrThrow(ref.path, ref);

  // A Hub-id-shaped value naming an existing workspace folder means that folder (transformers does the same).
  if (opts.workspaceFolder && !ref.text.includes('@')) {
    const local = path.resolve(opts.workspaceFolder, ref.text);
    if (isDir(local)) return folderOrThrow(local, { kind: 'folder', path: local, text: ref.text });
  }

  const places: { root: string; source: ModelSource }[] = hfCacheRoots(env, homeDir).map((root) => ({ root, source: 'hf-cache' }));
  if (opts.storageDir) places.push({ root: opts.storageDir, source: 'storage' });
  const incomplete: IncompleteCandidate[] = [];
  for (const { root, source } of places) {
    const snap = snapshotFor(root, ref.repoId, ref.revision);
    if (!snap) continue;
    const check = checkModelFolder(snap.dir);
    if (check.usable) return { status: 'found', dir: snap.dir, source, ref, commit: snap.commit };
    incomplete.push({ dir: snap.dir, source, missing: check.missing, problems: check.problems });
  }
  return { status: 'not-installed', ref, incomplete, searched: places.map((p) => p.root) };
}
