/**
 * Access to the team's shared model fixtures (read-only, see ../shared/models/README.md): where they are,
 * the reference cases of a model, and a case's reference tensors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SafetensorsFile } from '../../src/engine/safetensors';
import { pickCase } from './caseRoles';

/** The fixtures root: $TE_MODELS_DIR, default `<repo>/../shared/models`. */
export function modelsDir(): string {
  return path.resolve(process.env.TE_MODELS_DIR ?? path.resolve(__dirname, '../../../shared/models'));
}

/** One model's folder, e.g. modelDir('stories260K'). Throws if it is not there, so a typo fails loudly. */
export function modelDir(name: string): string {
  const dir = path.join(modelsDir(), name);
  if (!fs.existsSync(dir)) throw new Error(`fixture model folder not found: ${dir} (set TE_MODELS_DIR?)`);
  return dir;
}

/** Models that have reference cases (a `reference/cases.json`). */
export const REFERENCE_MODELS = ['stories260K', 'tiny-random-gpt2', 'tiny-random-bert', 'tiny-random-marian', 'tiny-random-t5'] as const;
export type ReferenceModel = (typeof REFERENCE_MODELS)[number];

export interface TopToken { id: number; token: string; prob: number }

/** One entry of `reference/cases.json`; model-specific fields are optional (see the fixtures README). */
export interface ReferenceCase {
  name: string;
  text: string;
  input_ids: number[];
  tokens: string[];
  offsets: [number, number][];
  logits_positions: number[];
  attn_query_positions: number[] | null;
  file: string;
  tensors: Record<string, number[]>;
  top_next?: TopToken[][];
  generate_greedy?: { prompt_ids: number[]; new_ids: number[]; new_tokens: string[]; new_text: string; full_text: string };
  sentencepiece_ids_match?: boolean;
  sentencepiece_input_ids?: number[];
  mask_positions?: number[];
  top_mask?: { position: number; top5: TopToken[] }[];
  target_text?: string;
  decoder_input_ids?: number[];
  decoder_tokens?: string[];
  marian_tokenizer_ids_match?: boolean;
  marian_tokenizer_input_ids?: number[];
  [extra: string]: unknown;
}

export function referenceDir(model: string): string {
  return path.join(modelDir(model), 'reference');
}

export function loadCases(model: string): ReferenceCase[] {
  const file = path.join(referenceDir(model), 'cases.json');
  const cases = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(cases)) throw new Error(`${file} is not a JSON list`);
  return cases as ReferenceCase[];
}

export function loadCase(model: string, caseName: string): ReferenceCase {
  return pickCase(loadCases(model), caseName);
}

export interface ReferenceTensor { shape: number[]; data: Float32Array }

/** Every tensor of a case's `<case>.safetensors`, read with the engine's own (separately tested) reader. */
export function readReferenceTensors(model: string, caseName: string): Map<string, ReferenceTensor> {
  const f = SafetensorsFile.open(path.join(referenceDir(model), `${caseName}.safetensors`));
  try {
    const out = new Map<string, ReferenceTensor>();
    for (const [name, info] of f.tensors) out.set(name, { shape: [...info.shape], data: f.read(name) });
    return out;
  } finally {
    f.close();
  }
}
