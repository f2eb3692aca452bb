import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadModel, type DownloadOptions, type DownloadProgress } from '../../../src/models/download';
import { ModelStoreError } from '../../../src/models/errors';
import { resolveModel } from '../../../src/models/resolve';
import { listInstalledModels } from '../../../src/models/listing';
import { minimalModelFiles, tempDir, writeFolder } from '../../support/hubCacheFixture';
import { modelsDir, startLocalHub, type LocalHub } from '../../support/localHub';

const GPT2 = 'te/tiny-random-gpt2';
const MARIAN = 'te/tiny-random-marian';
const SHARDED = 'te/sharded';
const PICKLE = 'te/pickle-only';
const GATED = 'te/gated';

let hub: LocalHub;
const dirs: string[] = [];
function tmp(p: string): string { const d = tempDir(p); dirs.push(d); return d; }
let storage = '';

beforeAll(async () => {
  const sharded = tmp('sharded');
  writeFolder(sharded, {
    ...minimalModelFiles('LlamaForCausalLM', 10),
    'model.safetensors': Buffer.alloc(0), // replaced below: a sharded repo has no single file
    'model.safetensors.index.json': JSON.stringify({ metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    'model-00001-of-00002.safetensors': Buffer.alloc(70_000, 1),
    'model-00002-of-00002.safetensors': Buffer.alloc(50_000, 2),
    'pytorch_model.bin': Buffer.alloc(1000, 3),
    'flax_model.msgpack': Buffer.alloc(1000, 4),
    'onnx/model.onnx': Buffer.alloc(1000, 5),
  });
  fs.rmSync(path.join(sharded, 'model.safetensors'));
  const pickle = tmp('pickle');
  writeFolder(pickle, { 'config.json': '{}', 'tokenizer.json': '{}', 'pytorch_model.bin': Buffer.alloc(100) });
  hub = await startLocalHub({
    repos: {
      [GPT2]: path.join(modelsDir(), 'tiny-random-gpt2'),
      [MARIAN]: path.join(modelsDir(), 'tiny-random-marian'),
      [GATED]: path.join(modelsDir(), 'stories260K'),
      [SHARDED]: sharded,
      [PICKLE]: pickle,
    },
    idleTimeoutMs: 300_000,
  });
});
afterAll(async () => {
  await hub.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
beforeEach(() => {
  hub.faults = {};
  hub.requests.length = 0;
  storage = tempDir('storage');
});
afterEach(() => fs.rmSync(storage, { recursive: true, force: true }));

function opts(repoId: string, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { repoId, storageDir: storage, endpoint: hub.url, retries: 3, retryBaseDelayMs: 5, timeoutMs: 5000, ...extra };
}

async function failure(p: Promise<unknown>): Promise<ModelStoreError> {
  try { await p; } catch (e) { if (e instanceof ModelStoreError) return e; throw e; }
  throw new Error('expected the download to fail');
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every path under `dir`, relative. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).sort();
}

function expectNothingInstalled(repoId: string): void {
  const leftovers = tree(storage);
  expect(leftovers.filter((p) => p.endsWith('.incomplete'))).toEqual([]);
  expect(leftovers.filter((p) => p.includes('snapshots') || p.includes('refs'))).toEqual([]);
  expect(resolveModel(repoId, { storageDir: storage, env: { HF_HUB_CACHE: storage + '-nocache' }, homeDir: storage }).status).toBe('not-installed');
}

function rangeRequests(file: string): string[] {
  return hub.requests.filter((r) => r.range && r.status === 206 && (r.path.endsWith(file) || r.path === `/cdn/${hub.file(GPT2, file)?.sha256}`))
    .map((r) => r.range!);
}

describe('downloadModel against the local Hub', () => {
  it('downloads exactly the needed files, byte-identical, verified, with progress', async () => {
    const events: DownloadProgress[] = [];
    const r = await downloadModel(opts(GPT2, { onProgress: (p) => events.push(p), progressIntervalMs: 0 }));
    const src = path.join(modelsDir(), 'tiny-random-gpt2');
    const expected = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json'];
    expect(r.commit).toBe(hub.commitOf(GPT2));
    expect(r.dir).toBe(path.join(storage, 'models--te--tiny-random-gpt2', 'snapshots', r.commit));
    expect(tree(r.dir)).toEqual(expected);
    for (const f of expected) expect(sha256(path.join(r.dir, f)), f).toBe(sha256(path.join(src, f)));
    expect(r.files.find((f) => f.path === 'model.safetensors')).toMatchObject({ lfs: true, size: fs.statSync(path.join(src, 'model.safetensors')).size });
    expect(fs.readFileSync(path.join(storage, 'models--te--tiny-random-gpt2/refs/main'), 'utf8')).toBe(r.commit);
    expect(tree(storage).filter((p) => p.includes('.staging') || p.endsWith('.incomplete'))).toEqual([]);
    // The LFS file went through the 302 → /cdn redirect; nothing outside the plan was requested.
    const paths = hub.requests.map((q) => q.path);
    expect(paths).toContain(`/${GPT2}/resolve/${r.commit}/model.safetensors`);
    expect(paths).toContain(`/cdn/${hub.file(GPT2, 'model.safetensors').sha256}`);
    expect(paths.some((p) => /merges\.txt|SOURCE\.md|reference\//.test(p))).toBe(false);
    // Progress: monotone, ends at the total, which is the sum of the planned files.
    const total = expected.reduce((s, f) => s + fs.statSync(path.join(src, f)).size, 0);
    expect(events.at(-1)).toMatchObject({ bytesDone: total, bytesTotal: total, fileCount: 6, fileIndex: 6 });
    for (let i = 1; i < events.length; i++) expect(events[i]!.bytesDone).toBeGreaterThanOrEqual(events[i - 1]!.bytesDone);
    expect(events.some((e) => e.bytesPerSecond > 0)).toBe(true);
    // Now installed: resolution finds it in storage, listing shows it, a second download is a no-op.
    expect(resolveModel(GPT2, { storageDir: storage, env: { HF_HUB_CACHE: storage + '-none' }, homeDir: storage })).toMatchObject({ status: 'found', source: 'storage', dir: r.dir });
    expect(listInstalledModels({ cacheRoots: [], storageDir: storage })).toMatchObject([{ repoId: GPT2, source: 'storage', sizeBytes: total, architecture: 'GPT2LMHeadModel', usable: true }]);
    hub.requests.length = 0;
    const again = await downloadModel(opts(GPT2));
    expect(again.alreadyInstalled).toBe(true);
    expect(hub.requests.filter((q) => q.path.includes('/resolve/'))).toEqual([]);
  });

  it('includes the Marian SentencePiece and vocab files', async () => {
    const r = await downloadModel(opts(MARIAN));
    expect(tree(r.dir)).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'source.spm', 'special_tokens_map.json', 'target.spm', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json']);
    expect(sha256(path.join(r.dir, 'target.spm'))).toBe(sha256(path.join(modelsDir(), 'tiny-random-marian/target.spm')));
  });

  it('downloads an index with all its shards and never pickle/flax/onnx files', async () => {
    const r = await downloadModel(opts(SHARDED));
    expect(tree(r.dir)).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json']);
    expect(hub.requests.some((q) => /\.bin|msgpack|onnx/.test(q.path))).toBe(false);
    expect(fs.statSync(path.join(r.dir, 'model-00001-of-00002.safetensors')).size).toBe(70_000);
  });

  it('refuses a repo without safetensors, naming what it has', async () => {
    const e = await failure(downloadModel(opts(PICKLE)));
    expect(e.code).toBe('UNSUPPORTED_REPO');
    expect(e.message).toContain('no model.safetensors');
    expect(e.message).toContain('pytorch_model.bin');
    expect(hub.requests.filter((q) => q.path.includes('/resolve/'))).toEqual([]);
    expectNothingInstalled(PICKLE);
  });

  it('resumes an LFS file after the connection drops mid-file (Range requests counted on the server)', async () => {
    hub.faults.dropAfter = { file: 'model.safetensors', bytes: 3_000_000, times: 2 };
    const r = await downloadModel(opts(GPT2));
    // The client resumes from what reached its disk (≤ what the server flushed before closing).
    const starts = rangeRequests('model.safetensors').map((r) => Number(/^bytes=(\d+)-$/.exec(r)![1]));
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBeGreaterThan(2_500_000);
    expect(starts[0]).toBeLessThanOrEqual(3_000_000);
    expect(starts[1]).toBeGreaterThan(starts[0]! + 2_500_000);
    expect(starts[1]).toBeLessThanOrEqual(starts[0]! + 3_000_000);
    expect(r.resumedRequests).toBe(2);
    expect(sha256(path.join(r.dir, 'model.safetensors'))).toBe(hub.file(GPT2, 'model.safetensors').sha256);
    // Only the bytes that were missing were transferred again.
    const size = hub.file(GPT2, 'model.safetensors').size;
    expect(r.bytesTransferred).toBeLessThan(size + 3_500_000);
  });

  it('drops that still deliver data do not use up the retries (6 drops, retries=1)', async () => {
    hub.faults.dropAfter = { file: 'model.safetensors', bytes: 1_500_000, times: 6 };
    const r = await downloadModel(opts(GPT2, { retries: 1 }));
    expect(r.resumedRequests).toBe(6);
    expect(sha256(path.join(r.dir, 'model.safetensors'))).toBe(hub.file(GPT2, 'model.safetensors').sha256);
  });

  it('a trickling server (less than 1 MiB per attempt) does use up the retries', async () => {
    hub.faults.dropAfter = { file: 'model.safetensors', bytes: 100_000, times: 100 };
    const e = await failure(downloadModel(opts(GPT2, { retries: 2 })));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toContain('after 3 attempts');
  });

  it('resumes a small (non-LFS) file served directly', async () => {
    hub.faults.dropAfter = { file: 'tokenizer.json', bytes: 500_000, times: 1 };
    const r = await downloadModel(opts(GPT2));
    const resumed = hub.requests.filter((q) => q.path.endsWith('/tokenizer.json') && q.status === 206);
    expect(resumed).toHaveLength(1);
    const start = Number(/^bytes=(\d+)-$/.exec(resumed[0]!.range!)![1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(500_000);
    expect(sha256(path.join(r.dir, 'tokenizer.json'))).toBe(hub.file(GPT2, 'tokenizer.json').sha256);
  });

  it('restarts cleanly when the server ignores Range and answers 200', async () => {
    hub.faults.dropAfter = { file: 'model.safetensors', bytes: 2_000_000, times: 1 };
    hub.faults.ignoreRange = true;
    const r = await downloadModel(opts(GPT2));
    expect(r.resumedRequests).toBe(0);
    const ranged = hub.requests.filter((q) => q.range && q.path.startsWith('/cdn/'));
    expect(ranged.map((q) => q.status)).toEqual([200]);
    expect(Number(/^bytes=(\d+)-$/.exec(ranged[0]!.range!)![1])).toBeGreaterThan(1_000_000);
    expect(sha256(path.join(r.dir, 'model.safetensors'))).toBe(hub.file(GPT2, 'model.safetensors').sha256);
  });

  it('rejects a corrupt LFS file (sha256 ≠ X-Linked-Etag) and leaves nothing behind', async () => {
    hub.faults.corrupt = { file: 'model.safetensors' };
    const e = await failure(downloadModel(opts(GPT2)));
    expect(e.code).toBe('INTEGRITY');
    expect(e.message).toContain(`the Hub reports ${hub.file(GPT2, 'model.safetensors').sha256}`);
    expect(tree(storage)).toEqual([]);
    expectNothingInstalled(GPT2);
  });

  it('rejects a corrupt small file (git blob id ≠ ETag) and leaves nothing behind', async () => {
    hub.faults.corrupt = { file: 'tokenizer.json' };
    const e = await failure(downloadModel(opts(GPT2)));
    expect(e.code).toBe('INTEGRITY');
    expect(e.message).toContain('git blob id');
    expect(tree(storage)).toEqual([]);
  });

  it('401 on a gated repo → AUTH_REQUIRED with a way forward; the token then works and is never in messages', async () => {
    hub.faults.requireToken = 'hf_secret_123';
    const e = await failure(downloadModel(opts(GATED)));
    expect(e.code).toBe('AUTH_REQUIRED');
    expect(e.message).toContain('gated or private');
    expect(e.hint).toContain('Set Hugging Face Token');
    expectNothingInstalled(GATED);
    const bad = await failure(downloadModel(opts(GATED, { token: async () => 'wrong' })));
    expect(bad.code).toBe('AUTH_REQUIRED');
    expect(bad.message).toContain('token was rejected');
    expect(bad.message + bad.hint).not.toContain('wrong');
    hub.requests.length = 0;
    const r = await downloadModel(opts(GATED, { token: async () => 'hf_secret_123' }));
    expect(sha256(path.join(r.dir, 'model.safetensors'))).toBe(sha256(path.join(modelsDir(), 'stories260K/model.safetensors')));
    expect(hub.requests.filter((q) => !q.path.startsWith('/cdn/')).every((q) => q.hasAuth)).toBe(true);
  });

  it('rejects a token that cannot be sent, without echoing it', async () => {
    const e = await failure(downloadModel(opts(GATED, { token: 'hf_abc def\n' })));
    expect(e.code).toBe('AUTH_REQUIRED');
    expect(e.message).not.toContain('hf_abc');
    expect(hub.requests).toEqual([]);
    expect(tree(storage)).toEqual([]);
  });

  it('404 → NOT_FOUND for an unknown repo or revision', async () => {
    const e = await failure(downloadModel(opts('te/does-not-exist')));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('te/does-not-exist');
    expect((await failure(downloadModel(opts(GPT2, { revision: 'no-such-branch' })))).code).toBe('NOT_FOUND');
    expect(tree(storage)).toEqual([]);
  });

  it('404 on one file → NOT_FOUND, nothing installed', async () => {
    hub.faults.status = { code: 404, target: 'model.safetensors' };
    const e = await failure(downloadModel(opts(GPT2)));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('te/tiny-random-gpt2/model.safetensors');
    expectNothingInstalled(GPT2);
  });

  it('500 is retried a bounded number of times, then SERVER_ERROR', async () => {
    hub.faults.status = { code: 500, target: 'api' };
    const e = await failure(downloadModel(opts(GPT2, { retries: 2 })));
    expect(e.code).toBe('SERVER_ERROR');
    expect(e.message).toContain('HTTP 500');
    expect(hub.requests.filter((q) => q.path.startsWith('/api/'))).toHaveLength(3);
  });

  it('transient 500s on a file are retried and the download succeeds', async () => {
    hub.faults.status = { code: 503, target: 'model.safetensors', times: 2 };
    const retries: number[] = [];
    const r = await downloadModel(opts(GPT2, { onRetry: (_f, n) => retries.push(n) }));
    expect(retries).toEqual([1, 2]);
    expect(sha256(path.join(r.dir, 'model.safetensors'))).toBe(hub.file(GPT2, 'model.safetensors').sha256);
  });

  it('slow server: progress events arrive, cancelling mid-file leaves no partial model', async () => {
    hub.faults.slow = { chunkBytes: 64 * 1024, delayMs: 15 };
    const controller = new AbortController();
    const seen: DownloadProgress[] = [];
    const e = await failure(downloadModel(opts(GPT2, {
      signal: controller.signal, progressIntervalMs: 0,
      onProgress: (p) => {
        seen.push(p);
        if (p.file === 'model.safetensors' && p.fileBytesDone > 1_000_000) controller.abort();
      },
    })));
    expect(e.code).toBe('CANCELLED');
    const mid = seen.filter((p) => p.file === 'model.safetensors');
    expect(mid.length).toBeGreaterThan(5);
    expect(mid.at(-1)!.fileBytesDone).toBeLessThan(mid.at(-1)!.fileBytesTotal!);
    expect(mid.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    expect(tree(storage)).toEqual([]);
    expectNothingInstalled(GPT2);
  });

  it('a stalled server times out; partials are kept and the next attempt resumes them', async () => {
    hub.faults.dropAfter = { file: 'model.safetensors', bytes: 4_000_000, times: 1 };
    // After the drop, every request for the file stalls longer than the timeout.
    const e = await failure(downloadModel(opts(GPT2, {
      retries: 1, timeoutMs: 600,
      onRetry: () => { hub.faults.slow = { chunkBytes: 1024, delayMs: 2500 }; },
    })));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toContain('no data');
    const staging = path.join(storage, 'models--te--tiny-random-gpt2/.staging', hub.commitOf(GPT2));
    const partialSize = fs.statSync(path.join(staging, 'model.safetensors.incomplete')).size;
    expect(partialSize).toBeGreaterThan(3_500_000);
    // ≤ the 4 MB sent before the drop plus the one 1 KiB chunk each stalled attempt delivered before stalling.
    expect(partialSize).toBeLessThanOrEqual(4_000_000 + 2 * 1024);
    expect(resolveModel(GPT2, { storageDir: storage, env: { HF_HUB_CACHE: storage + '-none' }, homeDir: storage }).status).toBe('not-installed');
    hub.faults = {};
    hub.requests.length = 0;
    const r = await downloadModel(opts(GPT2));
    expect(r.resumedRequests).toBe(1);
    expect(hub.requests.find((q) => q.range)?.range).toBe(`bytes=${partialSize}-`);
    // Files verified in the first attempt were not fetched again.
    expect(hub.requests.filter((q) => q.path.endsWith('/config.json'))).toEqual([]);
    expect(sha256(path.join(r.dir, 'model.safetensors'))).toBe(hub.file(GPT2, 'model.safetensors').sha256);
    expect(tree(storage).filter((p) => p.includes('.staging'))).toEqual([]);
  });

  it('drops partials left by an older commit of the branch', async () => {
    const old = path.join(storage, 'models--te--tiny-random-gpt2/.staging', 'f'.repeat(40));
    fs.mkdirSync(old, { recursive: true });
    fs.writeFileSync(path.join(old, 'model.safetensors.incomplete'), Buffer.alloc(1000));
    await downloadModel(opts(GPT2));
    expect(fs.existsSync(path.join(storage, 'models--te--tiny-random-gpt2/.staging'))).toBe(false);
  });

  it('an unreachable endpoint → NETWORK after the retries', async () => {
    const closed = await startLocalHub({ repos: {} });
    const url = closed.url;
    await closed.close();
    const e = await failure(downloadModel(opts(GPT2, { endpoint: url, retries: 1 })));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.hint).toContain('http.proxy');
  });

  it('a cancelled signal before start does nothing', async () => {
    const c = new AbortController();
    c.abort();
    expect((await failure(downloadModel(opts(GPT2, { signal: c.signal })))).code).toBe('CANCELLED');
    expect(hub.requests).toEqual([]);
  });
});

describe('transport details', () => {
  it('never sends the token to a CDN on another origin, and uses the agent factory for every request', async () => {
    const cdn = await startLocalHub({ repos: { [GATED]: path.join(modelsDir(), 'stories260K') } });
    try {
      hub.cdnBase = cdn.url;
      hub.faults.requireToken = 'hf_tok';
      const agentUrls: string[] = [];
      const r = await downloadModel(opts(GATED, {
        token: 'hf_tok',
        agentFactory: (u) => { agentUrls.push(u.origin); return new http.Agent({ keepAlive: false }); },
      }));
      expect(sha256(path.join(r.dir, 'model.safetensors'))).toBe(sha256(path.join(modelsDir(), 'stories260K/model.safetensors')));
      expect(cdn.requests.map((q) => [q.path.startsWith('/cdn/'), q.hasAuth])).toEqual([[true, false]]);
      expect(hub.requests.every((q) => q.hasAuth)).toBe(true);
      expect(new Set(agentUrls)).toEqual(new Set([hub.url, cdn.url]));
      expect(agentUrls.length).toBe(hub.requests.length + cdn.requests.length);
    } finally {
      hub.cdnBase = '';
      await cdn.close();
    }
  });

  it('works from headers alone when the API gives no sizes or hashes (and still catches corruption)', async () => {
    hub.faults.apiWithoutBlobs = true;
    const events: DownloadProgress[] = [];
    const r = await downloadModel(opts(GPT2, { onProgress: (p) => events.push(p) }));
    expect(events.every((e) => e.bytesTotal === undefined)).toBe(true);
    expect(r.files.find((f) => f.path === 'model.safetensors')).toMatchObject({ lfs: true, sha256: hub.file(GPT2, 'model.safetensors').sha256 });
    fs.rmSync(storage, { recursive: true, force: true });
    hub.faults.corrupt = { file: 'config.json' };
    const e = await failure(downloadModel(opts(GPT2)));
    expect(e.code).toBe('INTEGRITY');
    expect(e.message).toContain('config.json');
  });

  it('refuses a second concurrent download of the same model', async () => {
    hub.faults.slow = { chunkBytes: 256 * 1024, delayMs: 5 };
    const first = downloadModel(opts(GPT2));
    const e = await failure(downloadModel(opts(GPT2)));
    expect(e.code).toBe('IO');
    expect(e.message).toContain('already being downloaded');
    await first;
  });

  it('respects another live process\'s download lock and takes over a stale one', async () => {
    const repoPath = path.join(storage, 'models--te--tiny-random-gpt2');
    fs.mkdirSync(repoPath, { recursive: true });
    fs.writeFileSync(path.join(repoPath, '.download.lock'), JSON.stringify({ pid: process.ppid }));
    const e = await failure(downloadModel(opts(GPT2)));
    expect(e.code).toBe('IO');
    expect(e.message).toContain('another VS Code window');
    expect(fs.existsSync(path.join(repoPath, '.download.lock'))).toBe(true); // not ours: left alone
    fs.writeFileSync(path.join(repoPath, '.download.lock'), JSON.stringify({ pid: 2 ** 22 + 12345 }));
    const r = await downloadModel(opts(GPT2));
    expect(fs.existsSync(path.join(repoPath, '.download.lock'))).toBe(false);
    expect(tree(r.dir)).toContain('model.safetensors');
  });

  it('follows the relative redirect of a renamed repo and still checks sha256 from the CDN hop\'s X-Linked-Etag', async () => {
    const renamedHub = await startLocalHub({ repos: { [GPT2]: path.join(modelsDir(), 'tiny-random-gpt2') }, renamed: { 'old/gpt2': GPT2 } });
    try {
      const r = await downloadModel(opts('old/gpt2', { endpoint: renamedHub.url }));
      expect(r.dir).toContain('models--old--gpt2');
      expect(sha256(path.join(r.dir, 'model.safetensors'))).toBe(renamedHub.file(GPT2, 'model.safetensors').sha256);
      expect(renamedHub.requests.filter((q) => q.status === 307).length).toBeGreaterThan(1);
      fs.rmSync(storage, { recursive: true, force: true });
      // Without API metadata the only sha256 source is X-Linked-Etag on the second hop.
      renamedHub.faults = { apiWithoutBlobs: true, corrupt: { file: 'model.safetensors' } };
      const e = await failure(downloadModel(opts('old/gpt2', { endpoint: renamedHub.url })));
      expect(e.code).toBe('INTEGRITY');
      expect(e.message).toContain('sha256');
    } finally {
      await renamedHub.close();
    }
  });

  it('the local Hub answers HEAD like huggingface.co (302 + X-Linked-* for LFS, ETag for small files)', async () => {
    const commit = hub.commitOf(GPT2);
    const head = (p: string) => new Promise<http.IncomingMessage>((resolve, reject) => {
      http.request(`${hub.url}${p}`, { method: 'HEAD' }, (res) => { res.resume(); resolve(res); }).on('error', reject).end();
    });
    const lfs = await head(`/${GPT2}/resolve/main/model.safetensors`);
    expect(lfs.statusCode).toBe(302);
    expect(lfs.headers['x-linked-size']).toBe(String(hub.file(GPT2, 'model.safetensors').size));
    expect(lfs.headers['x-linked-etag']).toBe(`"${hub.file(GPT2, 'model.safetensors').sha256}"`);
    expect(lfs.headers['x-repo-commit']).toBe(commit);
    const small = await head(`/${GPT2}/resolve/main/config.json`);
    expect(small.statusCode).toBe(200);
    expect(small.headers.etag).toBe(`"${hub.file(GPT2, 'config.json').gitSha1}"`);
    expect(Number(small.headers['content-length'])).toBe(hub.file(GPT2, 'config.json').size);
  });
});
