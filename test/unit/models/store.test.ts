import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, ModelStore, repoIdProblem } from '../../../src/models/index';
import { makeCacheRepo, minimalModelFiles, tempDir } from '../../support/hubCacheFixture';
import { modelsDir, startLocalHub, type LocalHub } from '../../support/localHub';

let hub: LocalHub;
const dirs: string[] = [];
beforeAll(async () => { hub = await startLocalHub({ repos: { 'te/stories': path.join(modelsDir(), 'stories260K') } }); });
afterAll(async () => { await hub.close(); for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

describe('ModelStore (the facade the UI uses)', () => {
  it('resolve → not installed → download (HF_ENDPOINT, lazy token) → found → listed → removed', async () => {
    const home = tempDir('home'); const storage = path.join(tempDir('gs'), 'hub');
    dirs.push(home, path.dirname(storage));
    const cacheRoot = path.join(home, '.cache/huggingface/hub');
    makeCacheRepo(cacheRoot, 'openai-community/gpt2', minimalModelFiles());
    const cacheBefore = fs.readdirSync(cacheRoot, { recursive: true }).sort();
    let tokenReads = 0;
    const store = new ModelStore({ storageDir: storage, env: { HF_ENDPOINT: hub.url }, homeDir: home, token: async () => { tokenReads++; return undefined; } });
    expect(store.endpoint()).toBe(hub.url);
    expect(store.resolve('te/stories').status).toBe('not-installed');
    expect(tokenReads).toBe(0);
    const r = await store.download('te/stories', undefined);
    expect(tokenReads).toBe(1);
    expect(store.resolve('te/stories')).toMatchObject({ status: 'found', source: 'storage', dir: r.dir });
    expect(store.list().map((m) => [m.repoId, m.source, m.architecture])).toEqual([
      ['openai-community/gpt2', 'hf-cache', 'GPT2LMHeadModel'],
      ['te/stories', 'storage', 'LlamaForCausalLM'],
    ]);
    expect(store.remove('te/stories')).toBe(true);
    expect(store.resolve('te/stories').status).toBe('not-installed');
    // The HF cache entry is never touched by remove.
    expect(store.remove('openai-community/gpt2')).toBe(false);
    expect(store.resolve('openai-community/gpt2')).toMatchObject({ status: 'found', source: 'hf-cache' });
    expect(fs.readdirSync(cacheRoot, { recursive: true }).sort()).toEqual(cacheBefore); // the HF cache was never written
  });
});

describe('catalog', () => {
  it('has valid, unique ids, families and honest download flags', () => {
    const ids = CATALOG.map((e) => e.repoId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of CATALOG) {
      expect(repoIdProblem(e.repoId), e.repoId).toBeUndefined();
      expect(['gpt2', 'llama', 'bert', 'marian', 't5']).toContain(e.family);
      if (!e.downloadable) expect(e.note, e.repoId).toBeTruthy();
    }
    expect(ids).toContain('openai-community/gpt2');
    expect(ids.some((id) => id.startsWith('roneneldan/'))).toBe(false); // GPT-Neo: not supported by the engine
    expect(CATALOG.find((e) => e.repoId === 'Helsinki-NLP/opus-mt-en-de')?.downloadable).toBe(false);
  });
});
