/**
 * Parity with the fixtures: for every case of every model, ids, token strings and UTF-16 offsets must equal
 * what cases.json records (computed by HF tokenizers and converted to UTF-16 by the fixture generator).
 */
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../../src/engine/tokenizer';
import { loadCases, modelDir, REFERENCE_MODELS } from '../../support/fixtures';

describe.each(REFERENCE_MODELS)('%s tokenizer vs reference/cases.json', (model) => {
  const tok = loadTokenizer(modelDir(model));
  const cases = loadCases(model);

  it.each(cases.map((c) => [c.name, c] as const))('case %s: ids, tokens and offsets are exact', async (_name, c) => {
    const got = await tok.encode(c.text);
    expect(got.ids).toEqual(c.input_ids);
    expect(got.tokens).toEqual(c.tokens);
    expect(got.offsets).toEqual(c.offsets);
    expect(got.special.length).toBe(c.input_ids.length);
  });

  if (model === 'tiny-random-t5') {
    // T5's decoder prefix comes from the same tokenizer.json without special tokens (Marian's comes from
    // target.spm → vocab.json, which tokenizer.json cannot reproduce).
    it.each(cases.map((c) => [c.name, c] as const))('case %s: decoder_input_ids = [0] + ids(target_text)', async (_name, c) => {
      const got = await tok.encode(c.target_text!, { addSpecialTokens: false });
      expect([0, ...got.ids]).toEqual(c.decoder_input_ids);
      expect(['<pad>', ...got.tokens]).toEqual(c.decoder_tokens);
    });
  }
});
