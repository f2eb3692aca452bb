import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError, isEngineError } from '../../../src/engine/errors';
import { codePointToUtf16, loadTokenizer } from '../../../src/engine/tokenizer';
import { modelDir } from '../../support/fixtures';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'te-tokenizer-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
function folder(files: Record<string, string>): string {
  const dir = path.join(root, `t${n++}`);
  fs.mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}
function errorOf(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (isEngineError(e)) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}
const BERT_JSON = fs.readFileSync(path.join(modelDir('tiny-random-bert'), 'tokenizer.json'), 'utf8');

describe('special tokens and limits from the config files', () => {
  it.each([
    ['stories260K', { bos: 1, eos: 2, unk: 0 }, 512],
    ['tiny-random-gpt2', { bos: 50256, eos: 50256, unk: 50256 }, 256],
    ['gpt2-tokenizer', { bos: 50256, eos: 50256, unk: 50256 }, 1024],
    ['tiny-random-bert', { cls: 101, sep: 102, mask: 103, pad: 0, unk: 100 }, 128],
    ['tiny-random-marian', { eos: 0, unk: 1, pad: 54687 }, undefined],
    ['tiny-random-t5', { eos: 1, unk: 2, pad: 0 }, undefined],
  ] as const)('%s', (model, roles, maxLen) => {
    const tok = loadTokenizer(modelDir(model));
    expect(tok.specialTokens).toEqual(roles);
    expect(tok.modelMaxLength).toBe(maxLen);
  });

  it('vocab sizes include added tokens; idToToken/tokenToId round-trip and reject nonsense', () => {
    const bert = loadTokenizer(modelDir('tiny-random-bert'));
    expect(bert.vocabSize).toBe(30522);
    expect(bert.idToToken(1996)).toBe('the');
    expect(bert.tokenToId('the')).toBe(1996);
    expect(bert.idToToken(30522)).toBeUndefined();
    expect(bert.idToToken(-1)).toBeUndefined();
    expect(bert.idToToken(1.5)).toBeUndefined();
    expect(bert.tokenToId('definitely-not-a-token')).toBeUndefined();
    expect(loadTokenizer(modelDir('tiny-random-t5')).vocabSize).toBe(32100);
  });

  it('marks post-processor tokens and special tokens typed in the text as special, but not [UNK]/<unk> for unknown text', async () => {
    const bert = loadTokenizer(modelDir('tiny-random-bert'));
    const e = await bert.encode('The capital ☃ is [MASK].');
    expect(e.tokens).toEqual(['[CLS]', 'the', 'capital', '[UNK]', 'is', '[MASK]', '.', '[SEP]']);
    expect(e.special).toEqual([true, false, false, false, false, true, false, true]);
    expect(e.offsets[5]).toEqual([17, 23]);
    const t5 = await loadTokenizer(modelDir('tiny-random-t5')).encode('Hi 😀 <extra_id_0>');
    expect(t5.tokens.at(-2)).toBe('<extra_id_0>');
    expect(t5.special).toEqual(t5.tokens.map((t) => t === '<extra_id_0>' || t === '</s>'));
    expect(t5.tokens).toContain('😀'); // Unigram <unk> shows the surface text
    const plain = await bert.encode('hello', { addSpecialTokens: false });
    expect(plain.tokens).toEqual(['hello']);
  });

  it('decode honours skipSpecialTokens and rejects ids outside the vocabulary', async () => {
    const llama = loadTokenizer(modelDir('stories260K'));
    const ids = (await llama.encode('Once upon a time')).ids;
    expect(await llama.decode(ids)).toBe('<s> Once upon a time');
    expect(await llama.decode(ids, { skipSpecialTokens: true })).toBe('Once upon a time');
    await expect(llama.decode([1, 512])).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(llama.decode([1, -3])).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('malformed or missing tokenizer files', () => {
  it('no tokenizer.json is MISSING_FILE with the path', () => {
    const dir = folder({});
    const e = errorOf(() => loadTokenizer(dir));
    expect(e.code).toBe('MISSING_FILE');
    expect(e.message).toContain(path.join(dir, 'tokenizer.json'));
  });

  it('tokenizer.json that is not JSON is BAD_TOKENIZER with the position', () => {
    const e = errorOf(() => loadTokenizer(folder({ 'tokenizer.json': BERT_JSON.slice(0, 5000) })));
    expect(e.code).toBe('BAD_TOKENIZER');
    expect(e.message).toMatch(/position 5000/);
  });

  it.each([
    ['an array', '[]', 'JSON object'],
    ['a model of the wrong type', '{"model":5}', 'expected struct Model'],
    ['a WordPiece model without vocab', '{"model":{"type":"WordPiece"}}', 'missing field'],
    ['a merge of unknown tokens', '{"model":{"type":"BPE","vocab":{"a":0},"merges":["a zz"]}}', 'out of vocabulary'],
    ['an unknown normalizer', '{"normalizer":{"type":"Bogus"},"model":{"type":"WordLevel","vocab":{"a":0},"unk_token":"a"}}', 'NormalizerUntagged'],
    ['a non-numeric added token id', BERT_JSON.replace('"id": 0,', '"id": "zero",'), 'expected u32'],
  ])('tokenizer.json with %s is BAD_TOKENIZER (the addon error is rewrapped)', (_what, text, detail) => {
    expect(text).not.toBe(BERT_JSON);
    const dir = folder({ 'tokenizer.json': text });
    const e = errorOf(() => loadTokenizer(dir));
    expect(e.code).toBe('BAD_TOKENIZER');
    expect(e.message).toContain(path.join(dir, 'tokenizer.json'));
    expect(e.message).toContain(detail);
  });

  it('a malformed tokenizer_config.json is BAD_TOKENIZER', () => {
    const e = errorOf(() => loadTokenizer(folder({ 'tokenizer.json': BERT_JSON, 'tokenizer_config.json': '{"cls_token": }' })));
    expect(e.code).toBe('BAD_TOKENIZER');
    expect(e.message).toContain('tokenizer_config.json');
  });
});

describe('codePointToUtf16', () => {
  it('maps code point indices to UTF-16 indices across astral characters and lone surrogates', () => {
    expect([...codePointToUtf16('a😀b')]).toEqual([0, 1, 3, 4]);
    expect([...codePointToUtf16('')]).toEqual([0]);
    expect([...codePointToUtf16('\ud800x\udc00')]).toEqual([0, 1, 2, 3]);
    expect([...codePointToUtf16('👨‍👩')]).toEqual([0, 2, 3, 5]);
  });
});
