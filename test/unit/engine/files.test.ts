// jsonObjectMembers: the members of a JSON object found without building their values (tokenizer.json's few
// small fields out of ~1.3 MB): each member's raw text parses to exactly what JSON.parse gives for it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset, jsonObjectMembers } from '../../../src/engine/files';
import { modelsDir } from '../../support/fixtures';

const parseMembers = (text: string, start = 0, stopAfter?: string) =>
  Object.fromEntries([...jsonObjectMembers(text, start, stopAfter)].map(([k, [s, e]]) => [k, JSON.parse(text.slice(s, e))]));

describe('jsonObjectMembers', () => {
  const tokenizerFiles = fs.readdirSync(modelsDir()).map((m) => path.join(modelsDir(), m, 'tokenizer.json')).filter((f) => fs.existsSync(f));

  it.each(tokenizerFiles)('splits %s into members equal to JSON.parse, nested objects too', (file) => {
    const text = fs.readFileSync(file, 'utf8');
    const whole = JSON.parse(text) as Record<string, unknown>;
    expect(parseMembers(text)).toEqual(whole);
    const model = jsonObjectMembers(text).get('model')!;
    expect(parseMembers(text, model[0])).toEqual(whole.model);
  });

  it('keeps strings with quotes, backslashes and brackets intact, and stops early when asked', () => {
    const value = { a: 'he said "}" \\', b: ['[', { c: '\\"{' }], d: -1.5e3, e: null, f: true, '"k\\': {} };
    const text = ` \n${JSON.stringify(value, null, 2)}`;
    expect(parseMembers(text)).toEqual(value);
    expect(parseMembers(text, 0, 'b')).toEqual({ a: value.a, b: value.b });
    expect(parseMembers('{}')).toEqual({});
  });

  it.each(['', '[1, 2]', '"x"', '{"a": 1', '{"a": [1, 2}', '{"a" 1}', '{"a": 1 "b": 2}', '{"a": "unterminated}', '{a: 1}', '{"a": }'])(
    'rejects %j', (text) => expect(() => jsonObjectMembers(text)).toThrow(SyntaxError));

  it('agrees with the validator that those texts are broken, so load errors can name the position', () => {
    for (const text of ['{"a": 1', '{"a": [1, 2}', '{"a" 1}']) expect(jsonErrorOffset(text)).toBeGreaterThanOrEqual(0);
  });
});
