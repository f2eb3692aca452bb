/** What a family adapter provides: config.json → ModelConfig, and checkpoint tensor names → canonical weights. */
import type { ModelConfig } from '../config';
import type { WeightMapping } from '../weights';

export type HfConfig = Record<string, unknown>;

export interface FamilyAdapter {
  /** Short family name shown in model info ("gpt2", "llama", …). */
  readonly family: string;
  /** Reads config.json (+ generation_config.json fields merged in by the caller); throws BAD_CONFIG / UNSUPPORTED_MODEL. */
  config(hf: HfConfig, architecture: string): ModelConfig;
  /** canonical name → checkpoint tensor (renamed, split, transposed). `names` are the checkpoint's tensor names. */
  weights(cfg: ModelConfig, names: readonly string[]): WeightMapping;
  /** Checkpoint tensors that are deliberately not used (non-persistent buffers, tied copies). */
  ignore(cfg: ModelConfig): RegExp[];
  /** Seq2seq only: a SentencePiece model that segments the target side (tokenizer.json covers the source). */
  readonly targetSpm?: string;
}

/** `{ [f(l)]: g(l) }` for l in 0..n-1 — the per-layer rows of a mapping table. */
export function perLayer(n: number, rows: (l: number) => WeightMapping): WeightMapping {
  return Object.assign({}, ...Array.from({ length: n }, (_, l) => rows(l))) as WeightMapping;
}
