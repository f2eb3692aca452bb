import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelStoreError } from '../../../src/models/errors';
import { parseModelRef, repoIdProblem, revisionProblem } from '../../../src/models/modelRef';
import { resolveEndpoint } from '../../../src/models/hubClient';

function code(f: () => unknown): string {
  try { f(); return 'ok'; } catch (e) { return e instanceof ModelStoreError ? e.code : `other: ${String(e)}`; }
}

describe('model ids', () => {
  it.each(['openai-community/gpt2', 'gpt2', 'HuggingFaceTB/SmolLM2-135M', 'google-t5/t5-small', 'a/b', 'Org_1/model.v2'])('accepts %s', (id) => {
    expect(repoIdProblem(id)).toBeUndefined();
  });
  it.each([
    ['', 'empty'], ['a/b/c', 'at most one'], ['/gpt2', 'must not be empty'], ['org/', 'must not be empty'],
    ['-org/x', 'must start'], ['.org/x', 'must start'], ['org/x.', 'must not end'], ['org/x-', 'must not end'],
    ['org/a..b', '".."'], ['org/a--b', '"--"'], ['org/na me', 'may only contain'], ['org/naïve', 'may only contain'],
    [`org/${'x'.repeat(100)}`, 'longer than 96'],
  ])('rejects %j (%s)', (id, why) => {
    expect(repoIdProblem(id)).toContain(why);
  });
  it('checks revisions', () => {
    expect(revisionProblem('main')).toBeUndefined();
    expect(revisionProblem('refs/pr/1')).toBeUndefined();
    expect(revisionProblem('a'.repeat(40))).toBeUndefined();
    expect(revisionProblem('../x')).toBeDefined();
    expect(revisionProblem('a b')).toBeDefined();
    expect(revisionProblem('')).toBeDefined();
  });
});

describe('parseModelRef', () => {
  const ctx = { workspaceFolder: '/ws', homeDir: '/home/u' };
  it('parses hub ids with and without a revision', () => {
    expect(parseModelRef('openai-community/gpt2', ctx)).toEqual({ kind: 'hub', repoId: 'openai-community/gpt2', revision: 'main', text: 'openai-community/gpt2' });
    expect(parseModelRef('  org/m@v1.0 ', ctx)).toMatchObject({ kind: 'hub', repoId: 'org/m', revision: 'v1.0' });
  });
  it('parses folders: absolute, ~, relative, Windows-style', () => {
    expect(parseModelRef('/models/gpt2', ctx)).toMatchObject({ kind: 'folder', path: path.normalize('/models/gpt2') });
    expect(parseModelRef('~/m/x', ctx)).toMatchObject({ kind: 'folder', path: path.join('/home/u', 'm/x') });
    expect(parseModelRef('./models/x', ctx)).toMatchObject({ kind: 'folder', path: path.resolve('/ws', 'models/x') });
    expect(parseModelRef('../x', ctx)).toMatchObject({ kind: 'folder', path: path.resolve('/ws', '../x') });
    expect(parseModelRef('C:\\models\\gpt2', ctx).kind).toBe('folder');
  });
  it('gives clear errors', () => {
    expect(code(() => parseModelRef('', ctx))).toBe('INVALID_REFERENCE');
    expect(code(() => parseModelRef('./x', {}))).toBe('INVALID_REFERENCE');
    expect(code(() => parseModelRef('org/a b', ctx))).toBe('INVALID_REFERENCE');
    expect(code(() => parseModelRef('org/m@', ctx))).toBe('INVALID_REFERENCE');
    try { parseModelRef('a/b/c', ctx); } catch (e) {
      expect((e as ModelStoreError).message).toContain('"a/b/c" is not a valid Hugging Face model id');
      expect((e as ModelStoreError).hint).toContain('openai-community/gpt2');
    }
  });
});

describe('resolveEndpoint', () => {
  it('prefers the setting, then HF_ENDPOINT, then huggingface.co', () => {
    expect(resolveEndpoint('', {})).toBe('https://huggingface.co');
    expect(resolveEndpoint(undefined, { HF_ENDPOINT: 'https://hf-mirror.example/' })).toBe('https://hf-mirror.example');
    expect(resolveEndpoint('http://127.0.0.1:9/', { HF_ENDPOINT: 'https://hf-mirror.example' })).toBe('http://127.0.0.1:9');
  });
  it('rejects non-http endpoints and embedded credentials', () => {
    expect(code(() => resolveEndpoint('ftp://x', {}))).toBe('INVALID_REFERENCE');
    expect(code(() => resolveEndpoint('not a url', {}))).toBe('INVALID_REFERENCE');
    expect(code(() => resolveEndpoint('https://u:p@x.org', {}))).toBe('INVALID_REFERENCE');
  });
});
