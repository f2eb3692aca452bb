/**
 * The Hugging Face hub cache layout, shared by huggingface_hub, transformers and our own download storage:
 *
 *   <root>/models--<org>--<name>/refs/<revision>        text file holding a 40-hex commit hash
 *   <root>/models--<org>--<name>/snapshots/<commit>/…   the files, usually symlinks to ../../blobs/<etag>
 *   <root>/models--<org>--<name>/blobs/<etag>           content (git sha1 for small files, sha256 for LFS)
 *
 * On Windows without symlink rights huggingface_hub copies the blobs into snapshots/, so snapshot entries may
 * be regular files; everything here only stats/reads through paths, which handles both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isCommitHash } from './modelRef';

export type Env = Readonly<Record<string, string | undefined>>;

function expandHome(p: string, homeDir: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(homeDir, p.slice(1)) : p;
}

/**
 * The hub cache folders to search, most authoritative first, without duplicates. The first one is where
 * huggingface_hub itself would read and write: `HF_HUB_CACHE` (or the legacy `HUGGINGFACE_HUB_CACHE`), else
 * `HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`. The later entries are the
 * fallbacks, so a model cached under the default location is still found when `HF_HOME` points elsewhere.
 */
export function hfCacheRoots(env: Env = process.env, homeDir: string = os.homedir()): string[] {
  const roots: string[] = [];
  const hubCache = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (hubCache) roots.push(expandHome(hubCache, homeDir));
  if (env.HF_HOME) roots.push(path.join(expandHome(env.HF_HOME, homeDir), 'hub'));
  if (env.XDG_CACHE_HOME) roots.push(path.join(expandHome(env.XDG_CACHE_HOME, homeDir), 'huggingface', 'hub'));
  roots.push(path.join(homeDir, '.cache', 'huggingface', 'hub'));
  return [...new Set(roots.map((r) => path.resolve(r)))];
}

export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/** Inverse of repoFolderName; undefined for folders that are not model repos (datasets, spaces, junk). */
export function repoIdFromFolderName(name: string): string | undefined {
  if (!name.startsWith('models--')) return undefined;
  const parts = name.slice('models--'.length).split('--');
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => p.length === 0)) return undefined;
  return parts.join('/');
}

export function repoDir(root: string, repoId: string): string {
  return path.join(root, repoFolderName(repoId));
}

/** Reads refs/<revision>; undefined when absent or not a commit hash. */
export function readRef(repoPath: string, revision: string): string | undefined {
  try {
    const commit = fs.readFileSync(path.join(repoPath, 'refs', ...revision.split('/')), 'utf8').trim();
    return isCommitHash(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** The snapshot folder a revision points at, if it exists on disk. */
export function snapshotFor(root: string, repoId: string, revision: string): { commit: string; dir: string } | undefined {
  const repoPath = repoDir(root, repoId);
  const commit = isCommitHash(revision) ? revision : readRef(repoPath, revision);
  if (!commit) return undefined;
  const dir = path.join(repoPath, 'snapshots', commit);
  try {
    return fs.statSync(dir).isDirectory() ? { commit, dir } : undefined;
  } catch {
    return undefined;
  }
}

/** All refs of a repo as revision → commit (nested refs such as refs/pr/1 included). */
export function listRefs(repoPath: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, prefix: string): void => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const name = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), name);
      else {
        const commit = readRef(repoPath, name);
        if (commit) out.set(name, commit);
      }
    }
  };
  walk(path.join(repoPath, 'refs'), '');
  return out;
}
