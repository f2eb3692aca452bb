/**
 * Curated small models for the "Select Model…" quick pick. Each entry was checked against the Hub's file
 * listings (huggingface.co tree pages seen through the search index, 2026-11): whether the repo ships
 * model.safetensors and tokenizer.json, which our engine needs. Sizes are the model.safetensors sizes shown
 * there (approximate).
 */
export type ModelFamily = 'gpt2' | 'llama' | 'bert' | 'marian' | 't5';

export interface CatalogEntry {
  readonly repoId: string;
  readonly label: string;
  readonly family: ModelFamily;
  readonly description: string;
  /** Approximate download size in bytes (weights + tokenizer). */
  readonly approxBytes: number;
  /** False when the Hub repo lacks files the engine needs; `note` says which and what to do. */
  readonly downloadable: boolean;
  readonly note?: string;
}

const MB = 1_000_000;

export const CATALOG: readonly CatalogEntry[] = [
  { repoId: 'openai-community/gpt2', label: 'GPT-2 (124M)', family: 'gpt2', approxBytes: 550 * MB, downloadable: true,
    description: 'The model most interpretability work uses; 12 layers × 12 heads, learned positions.' },
  { repoId: 'distilbert/distilgpt2', label: 'DistilGPT2 (82M)', family: 'gpt2', approxBytes: 355 * MB, downloadable: true,
    description: 'A 6-layer distilled GPT-2 with the same tokenizer.' },
  { repoId: 'HuggingFaceTB/SmolLM2-135M', label: 'SmolLM2-135M', family: 'llama', approxBytes: 271 * MB, downloadable: true,
    description: 'Llama architecture: RoPE, grouped-query attention (9 q / 3 kv heads), 30 layers.' },
  { repoId: 'nickypro/tinyllama-15M', label: 'TinyStories Llama 15M', family: 'llama', approxBytes: 33 * MB, downloadable: true,
    description: "Karpathy's llama2.c stories15M converted to the HF Llama layout (fp16); trained on TinyStories.",
    note: 'roneneldan/TinyStories-* are GPT-Neo models, which the engine does not support; this Llama conversion is used instead.' },
  { repoId: 'google-bert/bert-base-uncased', label: 'BERT base (uncased)', family: 'bert', approxBytes: 441 * MB, downloadable: true,
    description: 'Bidirectional encoder with masked-token predictions; WordPiece tokenizer.' },
  { repoId: 'google-t5/t5-small', label: 'T5-small', family: 't5', approxBytes: 244 * MB, downloadable: true,
    description: 'Encoder–decoder with relative position buckets.' },
  { repoId: 'Helsinki-NLP/opus-mt-en-de', label: 'OPUS-MT English→German', family: 'marian', approxBytes: 300 * MB, downloadable: false,
    description: 'Marian encoder–decoder with sinusoidal positions.',
    note: 'The Hub repo has pytorch_model.bin, TensorFlow/Rust weights, source.spm/target.spm and vocab.json, but neither model.safetensors nor tokenizer.json, which the engine needs. Convert it locally and point the setting at that folder.' },
];

export function catalogEntry(repoId: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.repoId.toLowerCase() === repoId.toLowerCase());
}
