/**
 * Where a model's weights are kept for fast loading (kernels that support it, see Kernels.restoreWeight and
 * kernels/onnx/savedWeights.ts). One folder per model under a cache root, named by a digest of everything the
 * kept bytes depend on: the model folder's real path; the names, sizes and modification times of its config and
 * weight files; how the adapter maps checkpoint tensors to canonical ones; and the kernels' layout id (runtime
 * version, CPU). An edited or replaced checkpoint, a new engine mapping, another runtime or another CPU so gets a
 * new folder and never meets stale weights. The least recently used folders beyond KEEP_MODELS are removed.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PackedWeightSlot } from './kernels/types';
import type { WeightMapping } from './weights';

/** Bump when the kept files or the canonical tensors a mapping produces change meaning (the mapping is in the digest). */
const PACK_CACHE_FORMAT = 4;
/** Model folders kept (a GPT-2-small folder is ~0.5 GB: its linear weights and unembedding in float32). */
export const KEEP_MODELS = 3;

export interface PackCache {
  readonly folder: string;
  slot(canonical: string): PackedWeightSlot;
}

function modelFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => /\.(json|safetensors)$/.test(f)).sort();
}

export function openPackCache(root: string, modelDir: string, layoutId: string, mapping: WeightMapping): PackCache {
  const h = createHash('sha256');
  h.update(JSON.stringify({ format: PACK_CACHE_FORMAT, layoutId, dir: fs.realpathSync(modelDir), mapping }));
  for (const f of modelFiles(modelDir)) {
    const st = fs.statSync(path.join(modelDir, f));
    h.update(`\n${f}\t${st.size}\t${st.mtimeMs}`);
  }
  const folder = path.join(root, h.digest('hex').slice(0, 24));
  fs.mkdirSync(folder, { recursive: true });
  const now = new Date();
  fs.utimesSync(folder, now, now); // marks it used, for pruning
  prune(root, folder);
  return {
    folder,
    slot: (canonical) => ({ dir: folder, key: canonical.replace(/[^A-Za-z0-9._-]/g, '_') }),
  };
}

/** Removes all but the KEEP_MODELS most recently used model folders (never `keep`); errors are ignored. */
function prune(root: string, keep: string): void {
  try {
    const folders = fs.readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^[0-9a-f]{24}$/.test(e.name))
      .map((e) => ({ p: path.join(root, e.name), t: fs.statSync(path.join(root, e.name)).mtimeMs }))
      .filter((f) => f.p !== keep)
      .sort((a, b) => b.t - a.t);
    for (const f of folders.slice(KEEP_MODELS - 1)) fs.rmSync(f.p, { recursive: true, force: true });
  } catch {
    // another window may be pruning too
  }
}
