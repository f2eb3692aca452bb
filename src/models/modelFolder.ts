/**
 * Whether a folder holds a model the engine can load: config.json + tokenizer.json + safetensors weights
 * (a single model.safetensors, or model.safetensors.index.json with every shard it names). Symlinks are
 * followed, so Hugging Face cache snapshots (symlinks into blobs/) and plain copies both work.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SINGLE_WEIGHTS = 'model.safetensors';
export const WEIGHTS_INDEX = 'model.safetensors.index.json';

export interface FolderCheck {
  readonly usable: boolean;
  /** Files that are required but absent (or dangling symlinks), relative to the folder. */
  readonly missing: readonly string[];
  /** Other problems (malformed index, only pickle weights…), as sentences. */
  readonly problems: readonly string[];
  /** The safetensors files the engine would read (relative), when known. */
  readonly weightFiles: readonly string[];
}

function isFile(p: string): boolean {
  try { return fs.statSync(p).isFile(); } catch { return false; }
}

/** Shard names from a safetensors index's `weight_map`, validated to stay inside the folder. */
export function shardsFromIndex(indexJson: unknown): string[] {
  if (typeof indexJson !== 'object' || indexJson === null) throw new Error('the index is not a JSON object');
  const map = (indexJson as { weight_map?: unknown }).weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error('the index has no "weight_map" object');
  const shards = new Set<string>();
  for (const v of Object.values(map as Record<string, unknown>)) {
    if (typeof v !== 'string' || v.length === 0) throw new Error('a weight_map entry is not a file name');
    if (v.includes('..') || path.isAbsolute(v) || v.includes('\\')) throw new Error(`shard name "${v}" leaves the folder`);
    shards.add(v);
  }
  if (shards.size === 0) throw new Error('the index names no shard files');
  return [...shards].sort();
}

export function checkModelFolder(dir: string): FolderCheck {
  const missing: string[] = [];
  const problems: string[] = [];
  let weightFiles: string[] = [];
  for (const f of ['config.json', 'tokenizer.json']) if (!isFile(path.join(dir, f))) missing.push(f);
  if (!missing.includes('config.json')) {
    try {
      const cfg: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) problems.push('config.json is not a JSON object');
    } catch (e) {
      problems.push(`config.json is not valid JSON (${(e as Error).message})`);
    }
  }
  if (isFile(path.join(dir, SINGLE_WEIGHTS))) {
    weightFiles = [SINGLE_WEIGHTS];
  } else if (isFile(path.join(dir, WEIGHTS_INDEX))) {
    try {
      const shards = shardsFromIndex(JSON.parse(fs.readFileSync(path.join(dir, WEIGHTS_INDEX), 'utf8')));
      weightFiles = shards;
      for (const s of shards) if (!isFile(path.join(dir, s))) missing.push(s);
    } catch (e) {
      problems.push(`${WEIGHTS_INDEX} is malformed: ${(e as Error).message}`);
    }
  } else {
    missing.push(SINGLE_WEIGHTS);
    const pickles = ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'tf_model.h5', 'flax_model.msgpack']
      .filter((f) => isFile(path.join(dir, f)));
    if (pickles.length > 0) {
      problems.push(`only ${pickles.join(', ')} found; the engine reads safetensors weights only`);
    }
  }
  return { usable: missing.length === 0 && problems.length === 0, missing, problems, weightFiles };
}

/** One readable sentence about what is wrong with a folder, for notifications. */
export function describeFolderCheck(dir: string, check: FolderCheck): string {
  const parts: string[] = [];
  if (check.missing.length > 0) parts.push(`missing ${check.missing.join(', ')}`);
  parts.push(...check.problems);
  return `The model folder ${dir} is not usable: ${parts.join('; ')}.`;
}
