/**
 * Which repo files the engine needs. A whitelist: config, tokenizer, generation config, safetensors weights
 * (single file or index + shards) and the Marian SentencePiece/vocab files. Pickle (*.bin), TensorFlow (*.h5),
 * Flax (*.msgpack), ONNX and anything in subfolders are never downloaded.
 */
import { ModelStoreError } from './errors';
import type { RepoSibling } from './hubClient';
import { SINGLE_WEIGHTS, WEIGHTS_INDEX } from './modelFolder';

export const REQUIRED_FILES = ['config.json', 'tokenizer.json'] as const;
export const OPTIONAL_FILES = [
  'generation_config.json', 'tokenizer_config.json', 'special_tokens_map.json',
  // Marian keeps its SentencePiece models and vocabulary next to tokenizer.json.
  'source.spm', 'target.spm', 'vocab.json',
] as const;

export interface FilePlan {
  /** Files to download first, in order (the index, when sharded, is among them). */
  readonly files: readonly RepoSibling[];
  /** True when the weights are sharded: the shards are added after the index is read. */
  readonly sharded: boolean;
}

export function planFiles(repoId: string, siblings: readonly RepoSibling[]): FilePlan {
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  const missing = REQUIRED_FILES.filter((f) => !byName.has(f));
  const sharded = !byName.has(SINGLE_WEIGHTS) && byName.has(WEIGHTS_INDEX);
  if (!byName.has(SINGLE_WEIGHTS) && !sharded) missing.push(SINGLE_WEIGHTS as never);
  if (missing.length > 0) {
    const other = siblings.map((s) => s.rfilename).filter((n) => /\.(bin|h5|msgpack|onnx|ot|gguf)$/.test(n));
    throw new ModelStoreError('UNSUPPORTED_REPO',
      `"${repoId}" cannot be used by the engine: the repo has no ${missing.join(', ')}` +
      (other.length > 0 ? ` (it has ${other.slice(0, 4).join(', ')}${other.length > 4 ? ', …' : ''}, which the engine does not read)` : '') + '.',
      'Pick a model that ships model.safetensors and tokenizer.json, or convert this one locally and point the setting at the folder.',
      missing);
  }
  const names = [...REQUIRED_FILES, ...OPTIONAL_FILES.filter((f) => byName.has(f)), sharded ? WEIGHTS_INDEX : SINGLE_WEIGHTS];
  return { files: names.map((n) => byName.get(n)!), sharded };
}

/** The shard entries named by an index, each of which must exist in the repo listing. */
export function shardSiblings(repoId: string, shards: readonly string[], siblings: readonly RepoSibling[]): RepoSibling[] {
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  const absent = shards.filter((s) => !byName.has(s));
  if (absent.length > 0) {
    throw new ModelStoreError('UNSUPPORTED_REPO', `"${repoId}": ${WEIGHTS_INDEX} names shards that are not in the repo: ${absent.join(', ')}.`,
      undefined, absent);
  }
  return shards.map((s) => byName.get(s)!);
}
