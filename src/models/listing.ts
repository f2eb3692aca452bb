/**
 * Listing of installed models (HF cache + our storage) with sizes, and removal of models we downloaded.
 * Sizes follow each snapshot entry to its real file once and count every real file once, so blobs shared by
 * several snapshot entries (or several revisions) are not double-counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ModelStoreError } from './errors';
import { listRefs, repoDir, repoIdFromFolderName } from './hfCache';
import { checkModelFolder } from './modelFolder';
import { validateRepoId } from './modelRef';
import { isDownloading } from './download';
import type { ModelSource } from './resolve';

export interface InstalledModel {
  readonly repoId: string;
  readonly commit: string;
  /** Branch/tag names whose refs point at this snapshot (e.g. ["main"]). */
  readonly refs: readonly string[];
  readonly dir: string;
  readonly source: Exclude<ModelSource, 'folder'>;
  /** Bytes of the distinct real files this snapshot uses. */
  readonly sizeBytes: number;
  readonly architecture?: string;
  readonly modelType?: string;
  readonly usable: boolean;
  readonly missing: readonly string[];
}

export interface ListOptions {
  readonly cacheRoots: readonly string[];
  readonly storageDir?: string;
}

function snapshotFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p); // files and symlinks (to blobs)
    }
  };
  walk(dir);
  return out;
}

/** Sum of the sizes of the distinct real files behind `files`; dangling links count 0. */
export function distinctSize(files: readonly string[], seen: Set<string> = new Set()): number {
  let total = 0;
  for (const f of files) {
    let real: string;
    try { real = fs.realpathSync(f); } catch { continue; }
    if (seen.has(real)) continue;
    seen.add(real);
    try { total += fs.statSync(real).size; } catch { /* vanished meanwhile */ }
  }
  return total;
}

function readConfig(dir: string): { architecture?: string; modelType?: string } {
  try {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { architectures?: unknown; model_type?: unknown };
    const architecture = Array.isArray(cfg.architectures) && typeof cfg.architectures[0] === 'string' ? cfg.architectures[0] : undefined;
    const modelType = typeof cfg.model_type === 'string' ? cfg.model_type : undefined;
    return { architecture, modelType };
  } catch {
    return {};
  }
}

function scanRoot(root: string, source: InstalledModel['source']): InstalledModel[] {
  let repos: fs.Dirent[];
  try { repos = fs.readdirSync(root, { withFileTypes: true }); } catch { return []; }
  const out: InstalledModel[] = [];
  for (const r of repos) {
    const repoId = r.isDirectory() ? repoIdFromFolderName(r.name) : undefined;
    if (!repoId) continue;
    const repoPath = path.join(root, r.name);
    const refs = listRefs(repoPath);
    let snaps: fs.Dirent[];
    try { snaps = fs.readdirSync(path.join(repoPath, 'snapshots'), { withFileTypes: true }); } catch { continue; }
    for (const s of snaps) {
      if (!s.isDirectory()) continue;
      const dir = path.join(repoPath, 'snapshots', s.name);
      let files: string[];
      try { files = snapshotFiles(dir); } catch { continue; }
      const check = checkModelFolder(dir);
      out.push({
        repoId, commit: s.name, dir, source,
        refs: [...refs].filter(([, c]) => c === s.name).map(([name]) => name).sort(),
        sizeBytes: distinctSize(files),
        ...readConfig(dir),
        usable: check.usable,
        missing: check.missing,
      });
    }
  }
  return out;
}

/** Every snapshot in the HF cache roots and our storage, sorted by repo id then source. */
export function listInstalledModels(opts: ListOptions): InstalledModel[] {
  const all = opts.cacheRoots.flatMap((root) => scanRoot(root, 'hf-cache'));
  if (opts.storageDir) all.push(...scanRoot(opts.storageDir, 'storage'));
  return all.sort((a, b) => a.repoId.localeCompare(b.repoId) || a.source.localeCompare(b.source) || a.commit.localeCompare(b.commit));
}

/**
 * Deletes a model we downloaded: the whole `models--org--name` folder inside our storage, including any
 * partial download. Only ever touches `storageDir`; models in the HF cache belong to other tools.
 * Returns false when there was nothing to remove.
 */
export function removeDownloadedModel(storageDir: string, repoId: string): boolean {
  validateRepoId(repoId);
  const root = path.resolve(storageDir);
  const target = repoDir(root, repoId);
  if (path.dirname(target) !== root) {
    throw new ModelStoreError('INVALID_REFERENCE', `Refusing to remove ${target}: it is not inside ${root}.`);
  }
  if (isDownloading(root, repoId)) {
    throw new ModelStoreError('IO', `"${repoId}" is being downloaded right now.`, 'Cancel the download first, then remove the model.');
  }
  if (!fs.existsSync(target)) return false;
  try {
    // Rename first so a crash midway never leaves a half-deleted folder that still looks like a model.
    const doomed = path.join(root, `.removing-${path.basename(target)}-${process.pid}-${Date.now()}`);
    fs.renameSync(target, doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
  } catch (e) {
    throw new ModelStoreError('IO', `Could not remove ${target}: ${(e as Error).message}`);
  }
  return true;
}
