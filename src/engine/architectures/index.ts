/**
 * The one registry of supported architectures, keyed by HF config.json `architectures[0]`.
 * Adding a family = one adapter file + one row here + fixtures.
 */
import { EngineError } from '../errors';
import type { FamilyAdapter, HfConfig } from './family';
import { bert } from './bert';
import { gpt2 } from './gpt2';
import { llama } from './llama';
import { marian } from './marian';
import { t5 } from './t5';

export const ARCHITECTURES: Readonly<Record<string, FamilyAdapter>> = {
  GPT2LMHeadModel: gpt2,
  LlamaForCausalLM: llama,
  BertForMaskedLM: bert,
  MarianMTModel: marian,
  T5ForConditionalGeneration: t5,
};

export function supportedArchitectures(): string[] {
  return Object.keys(ARCHITECTURES);
}

/** The architecture name a config declares (architectures[0]); BAD_CONFIG when it declares none. */
export function architectureOf(hf: HfConfig): string {
  const list = hf.architectures;
  if (Array.isArray(list) && typeof list[0] === 'string') return list[0];
  const type = typeof hf.model_type === 'string' ? ` (model_type "${hf.model_type}")` : '';
  throw new EngineError('BAD_CONFIG', `config.json has no "architectures" entry${type}; supported: ${supportedArchitectures().join(', ')}.`);
}

export function adapterFor(architecture: string): FamilyAdapter {
  const adapter = Object.hasOwn(ARCHITECTURES, architecture) ? ARCHITECTURES[architecture] : undefined;
  if (!adapter) {
    throw new EngineError('UNSUPPORTED_MODEL', `not supported yet: ${architecture}; supported: ${supportedArchitectures().join(', ')}.`);
  }
  return adapter;
}

export type { FamilyAdapter, HfConfig } from './family';
