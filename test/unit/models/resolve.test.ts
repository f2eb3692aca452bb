import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelStoreError } from '../../../src/models/errors';
import { hfCacheRoots } from '../../../src/models/hfCache';
import { checkModelFolder } from '../../../src/models/modelFolder';
import { resolveModel } from '../../../src/models/resolve';
import { makeCacheRepo, minimalModelFiles, tempDir, writeFolder } from '../../support/hubCacheFixture';

const dirs: string[] = [];
function tmp(p: string): string { const d = tempDir(p); dirs.push(d); return d; }
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

function storeError(f: () => unknown): ModelStoreError {
  try { f(); } catch (e) { if (e instanceof ModelStoreError) return e; throw e; }
  throw new Error('expected a ModelStoreError');
}

describe('hfCacheRoots', () => {
  const home = '/home/u';
  it('follows HF_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME > ~/.cache', () => {
    expect(hfCacheRoots({}, home)).toEqual([path.resolve('/home/u/.cache/huggingface/hub')]);
    expect(hfCacheRoots({ HF_HOME: '/hf' }, home)).toEqual([path.resolve('/hf/hub'), path.resolve('/home/u/.cache/huggingface/hub')]);
    expect(hfCacheRoots({ HF_HUB_CACHE: '/c', HF_HOME: '/hf', XDG_CACHE_HOME: '/x' }, home))
      .toEqual(['/c', '/hf/hub', '/x/huggingface/hub', '/home/u/.cache/huggingface/hub'].map((p) => path.resolve(p)));
    expect(hfCacheRoots({ HUGGINGFACE_HUB_CACHE: '/legacy' }, home)[0]).toBe(path.resolve('/legacy'));
    expect(hfCacheRoots({ HF_HOME: '~/hfhome' }, home)[0]).toBe(path.resolve('/home/u/hfhome/hub'));
  });
});

describe('checkModelFolder', () => {
  it('accepts config + tokenizer + single weights', () => {
    const d = tmp('folder');
    writeFolder(d, minimalModelFiles());
    expect(checkModelFolder(d)).toMatchObject({ usable: true, missing: [], weightFiles: ['model.safetensors'] });
  });
  it('names exactly the missing files, including absent shards of an index', () => {
    const d = tmp('folder');
    writeFolder(d, {
      'config.json': '{}',
      'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } }),
      'model-00001-of-00002.safetensors': 'x',
    });
    const c = checkModelFolder(d);
    expect(c.usable).toBe(false);
    expect(c.missing).toEqual(['tokenizer.json', 'model-00002-of-00002.safetensors']);
  });
  it('explains pickle-only folders and malformed indexes', () => {
    const d = tmp('folder');
    writeFolder(d, { 'config.json': '{}', 'tokenizer.json': '{}', 'pytorch_model.bin': 'x' });
    const c = checkModelFolder(d);
    expect(c.missing).toEqual(['model.safetensors']);
    expect(c.problems[0]).toContain('only pytorch_model.bin found');
    const e = tmp('folder');
    writeFolder(e, { 'config.json': '{}', 'tokenizer.json': '{}', 'model.safetensors.index.json': '{"weight_map": {"a": "../../etc/passwd"}}' });
    expect(checkModelFolder(e).problems[0]).toContain('leaves the folder');
    const f = tmp('folder');
    writeFolder(f, { ...minimalModelFiles(), 'config.json': '{"architectures": [' });
    expect(checkModelFolder(f)).toMatchObject({ usable: false, missing: [] });
    expect(checkModelFolder(f).problems[0]).toContain('config.json is not valid JSON');
  });
});

describe('resolveModel', () => {
  it('uses a local folder (absolute or workspace-relative) and reports missing files', () => {
    const ws = tmp('ws');
    writeFolder(path.join(ws, 'models/mine'), minimalModelFiles());
    expect(resolveModel('./models/mine', { workspaceFolder: ws, env: {}, homeDir: ws })).toMatchObject({ status: 'found', source: 'folder', dir: path.join(ws, 'models/mine') });
    expect(resolveModel(path.join(ws, 'models/mine'), { env: {}, homeDir: ws })).toMatchObject({ status: 'found', source: 'folder' });
    fs.rmSync(path.join(ws, 'models/mine/tokenizer.json'));
    const e = storeError(() => resolveModel('./models/mine', { workspaceFolder: ws, env: {}, homeDir: ws }));
    expect(e.code).toBe('INCOMPLETE_MODEL');
    expect(e.missing).toEqual(['tokenizer.json']);
    expect(e.message).toContain('missing tokenizer.json');
    expect(storeError(() => resolveModel('./nope', { workspaceFolder: ws, env: {}, homeDir: ws })).code).toBe('FOLDER_NOT_FOUND');
  });

  it('prefers a workspace folder whose relative path looks like a Hub id', () => {
    const ws = tmp('ws');
    const home = tmp('home');
    writeFolder(path.join(ws, 'org/model'), minimalModelFiles());
    makeCacheRepo(path.join(home, '.cache/huggingface/hub'), 'org/model', minimalModelFiles());
    expect(resolveModel('org/model', { workspaceFolder: ws, env: {}, homeDir: home })).toMatchObject({ source: 'folder', dir: path.join(ws, 'org/model') });
  });

  it('finds a snapshot through refs/main and blob symlinks in the default cache', () => {
    const home = tmp('home');
    const snap = makeCacheRepo(path.join(home, '.cache/huggingface/hub'), 'openai-community/gpt2', minimalModelFiles());
    expect(fs.lstatSync(path.join(snap, 'config.json')).isSymbolicLink()).toBe(true);
    const r = resolveModel('openai-community/gpt2', { env: {}, homeDir: home });
    expect(r).toMatchObject({ status: 'found', source: 'hf-cache', dir: snap, commit: path.basename(snap) });
  });

  it('handles copies without symlinks (Windows) and explicit revisions / commit hashes', () => {
    const home = tmp('home');
    const root = path.join(home, '.cache/huggingface/hub');
    const commit = 'c'.repeat(40);
    const snap = makeCacheRepo(root, 'org/m', minimalModelFiles(), { symlinks: false, revision: 'v1', commit });
    expect(fs.lstatSync(path.join(snap, 'model.safetensors')).isSymbolicLink()).toBe(false);
    expect(resolveModel('org/m@v1', { env: {}, homeDir: home })).toMatchObject({ status: 'found', dir: snap });
    expect(resolveModel(`org/m@${commit}`, { env: {}, homeDir: home })).toMatchObject({ status: 'found', dir: snap });
    expect(resolveModel('org/m', { env: {}, homeDir: home }).status).toBe('not-installed'); // no refs/main
  });

  it('honours env precedence: HF_HUB_CACHE before HF_HOME before the default', () => {
    const home = tmp('home');
    const hubCache = tmp('hubcache');
    const hfHome = tmp('hfhome');
    const files = minimalModelFiles();
    const inDefault = makeCacheRepo(path.join(home, '.cache/huggingface/hub'), 'org/m', files, { commit: 'a'.repeat(40) });
    const inHome = makeCacheRepo(path.join(hfHome, 'hub'), 'org/m', files, { commit: 'b'.repeat(40) });
    const inHubCache = makeCacheRepo(hubCache, 'org/m', files, { commit: 'd'.repeat(40) });
    expect(resolveModel('org/m', { env: { HF_HUB_CACHE: hubCache, HF_HOME: hfHome }, homeDir: home })).toMatchObject({ dir: inHubCache });
    expect(resolveModel('org/m', { env: { HF_HOME: hfHome }, homeDir: home })).toMatchObject({ dir: inHome });
    expect(resolveModel('org/m', { env: {}, homeDir: home })).toMatchObject({ dir: inDefault });
  });

  it('falls back to our storage, then reports not-installed with incomplete snapshots listed', () => {
    const home = tmp('home');
    const storage = tmp('storage');
    const cacheSnap = makeCacheRepo(path.join(home, '.cache/huggingface/hub'), 'org/m', { 'config.json': '{}', 'tokenizer.json': '{}' });
    const stored = makeCacheRepo(storage, 'org/m', minimalModelFiles(), { symlinks: false });
    expect(resolveModel('org/m', { env: {}, homeDir: home, storageDir: storage })).toMatchObject({ status: 'found', source: 'storage', dir: stored });
    fs.rmSync(storage, { recursive: true });
    const r = resolveModel('org/m', { env: {}, homeDir: home, storageDir: storage });
    expect(r.status).toBe('not-installed');
    if (r.status !== 'not-installed') return;
    expect(r.ref.repoId).toBe('org/m');
    expect(r.incomplete).toEqual([{ dir: cacheSnap, source: 'hf-cache', missing: ['model.safetensors'], problems: [] }]);
    expect(r.searched).toEqual([path.join(home, '.cache/huggingface/hub'), storage]);
  });

  it('treats a dangling blob symlink as missing', () => {
    const home = tmp('home');
    const snap = makeCacheRepo(path.join(home, '.cache/huggingface/hub'), 'org/m', minimalModelFiles());
    fs.rmSync(fs.realpathSync(path.join(snap, 'model.safetensors')));
    const r = resolveModel('org/m', { env: {}, homeDir: home });
    expect(r.status === 'not-installed' && r.incomplete[0]?.missing).toEqual(['model.safetensors']);
  });
});
