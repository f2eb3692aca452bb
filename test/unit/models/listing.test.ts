import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelStoreError } from '../../../src/models/errors';
import { listInstalledModels, removeDownloadedModel } from '../../../src/models/listing';
import { makeCacheRepo, minimalModelFiles, tempDir } from '../../support/hubCacheFixture';

const dirs: string[] = [];
function tmp(p: string): string { const d = tempDir(p); dirs.push(d); return d; }
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

describe('listInstalledModels', () => {
  it('lists cache and storage snapshots with distinct-file sizes, architecture and refs', () => {
    const cache = tmp('cache');
    const storage = tmp('storage');
    const files = minimalModelFiles('LlamaForCausalLM', 5000);
    // Two files with identical content share one blob: it must be counted once.
    const withDup = { ...files, 'tokenizer_config.json': '{"version":"1.0"}' };
    const snap = makeCacheRepo(cache, 'HuggingFaceTB/SmolLM2-135M', withDup);
    const expectedCache = [...new Set(Object.values(withDup).map((v) => Buffer.from(v).toString('base64')))]
      .reduce((s, b64) => s + Buffer.from(b64, 'base64').length, 0);
    makeCacheRepo(storage, 'openai-community/gpt2', minimalModelFiles('GPT2LMHeadModel', 3000), { symlinks: false });
    fs.mkdirSync(path.join(cache, 'datasets--x--y/snapshots'), { recursive: true }); // not a model repo
    const list = listInstalledModels({ cacheRoots: [cache], storageDir: storage });
    expect(list.map((m) => [m.repoId, m.source])).toEqual([['HuggingFaceTB/SmolLM2-135M', 'hf-cache'], ['openai-community/gpt2', 'storage']]);
    expect(list[0]).toMatchObject({ dir: snap, refs: ['main'], architecture: 'LlamaForCausalLM', modelType: 'llama', usable: true, sizeBytes: expectedCache });
    const gpt2Size = Object.values(minimalModelFiles('GPT2LMHeadModel', 3000)).reduce((s, v) => s + Buffer.from(v).length, 0);
    expect(list[1]).toMatchObject({ architecture: 'GPT2LMHeadModel', sizeBytes: gpt2Size, usable: true });
  });

  it('counts a blob shared by two revisions once per snapshot and flags incomplete snapshots', () => {
    const cache = tmp('cache');
    makeCacheRepo(cache, 'org/m', minimalModelFiles(), { commit: 'a'.repeat(40) });
    makeCacheRepo(cache, 'org/m', { 'config.json': '{}' }, { commit: 'b'.repeat(40), revision: 'dev' });
    const list = listInstalledModels({ cacheRoots: [cache] });
    expect(list).toHaveLength(2);
    expect(list[1]).toMatchObject({ commit: 'b'.repeat(40), refs: ['dev'], usable: false, missing: ['tokenizer.json', 'model.safetensors'], sizeBytes: 2 });
  });
});

describe('removeDownloadedModel', () => {
  it('removes only the model folder inside storage, never the HF cache', () => {
    const cache = tmp('cache');
    const storage = tmp('storage');
    makeCacheRepo(cache, 'org/m', minimalModelFiles());
    const snap = makeCacheRepo(storage, 'org/m', minimalModelFiles(), { symlinks: false });
    fs.mkdirSync(path.join(storage, 'models--org--m/.staging/x'), { recursive: true });
    expect(removeDownloadedModel(storage, 'org/m')).toBe(true);
    expect(fs.existsSync(snap)).toBe(false);
    expect(fs.readdirSync(storage)).toEqual([]);
    expect(listInstalledModels({ cacheRoots: [cache] })).toHaveLength(1);
    expect(removeDownloadedModel(storage, 'org/m')).toBe(false);
    expect(() => removeDownloadedModel(storage, '../x')).toThrow(ModelStoreError);
  });
});
