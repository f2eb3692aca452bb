import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { threadId, Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { EnginePool } from '../../../src/engine-host/pool';
import { EngineError } from '../../../src/engine/errors';
import { buildWorkerForTests } from '../../support/buildWorker';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tryKernels } from '../../../src/engine/kernels/select';
import { modelDir } from '../../support/fixtures';

let workerScript = '';
beforeAll(async () => { workerScript = await buildWorkerForTests(); });

let pool: EnginePool | undefined;
afterEach(async () => { await pool?.dispose(); pool = undefined; });

function make(opts: Partial<ConstructorParameters<typeof EnginePool>[0]> = {}) {
  pool = new EnginePool({ workerScript, debugOps: true, ...opts });
  return pool;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try { await p; return 'resolved'; } catch (e) { return e instanceof EngineError ? e.code : `non-engine error: ${String(e)}`; }
}

describe('EnginePool', () => {
  // The workers pick their kernels themselves (TE_KERNELS applies there): only the onnx path keeps weights.
  it.skipIf(typeof tryKernels('onnx', 1) === 'string' || !['', 'auto', 'onnx'].includes(process.env.TE_KERNELS ?? ''))('keeps weights for fast loading where it is configured to, from the next load on', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'te-pool-cache-'));
    try {
      const entries = (name: string) => (fs.existsSync(path.join(root, name)) ? fs.readdirSync(path.join(root, name)).flatMap((f) => fs.readdirSync(path.join(root, name, f))) : []);
      const p = make({ packCache: path.join(root, 'a') });
      await p.request('model.load', { dir: modelDir('stories260K') });
      expect(entries('a')).toContain('unembed.W_U.probe'); // [512, 64]: packed, so kept
      p.configure({ packCache: path.join(root, 'b') });
      await p.request('model.load', { dir: modelDir('tiny-random-gpt2') });
      expect(entries('b')).toContain('unembed.W_U.probe');
      p.configure({});
      await p.request('model.load', { dir: modelDir('stories260K') });
      expect(fs.readdirSync(root).sort()).toEqual(['a', 'b']);
      expect(fs.readdirSync(path.join(root, 'a'))).toHaveLength(1);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it.skipIf(typeof tryKernels('onnx', 1) === 'string' || !['', 'auto', 'onnx'].includes(process.env.TE_KERNELS ?? ''))('packs weights opened fast from kept files between requests, or all at once when asked', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'te-pool-pack-'));
    try {
      const dir = modelDir('stories260K');
      await make({ packCache: root }).request('model.load', { dir });
      await pool!.dispose(); // stopped while packing between requests: the worker exits by itself
      const p = make({ packCache: root });
      await p.request('model.load', { dir }); // opens the kept files unpacked
      const [a, b] = await Promise.all([p.request<{ steps: number }>('model.finishPacking', {}), p.request<{ steps: number }>('model.finishPacking', {})]);
      // stories260K: 5 fused blocks (2 halves each) and a 512-row unembedding, some of it done while idle
      expect(a.steps).toBeGreaterThanOrEqual(0);
      expect(a.steps).toBeLessThanOrEqual(11);
      expect(b.steps).toBe(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a worker asked to stop releases its model and exits by itself', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'te-pool-stop-'));
    const w = new Worker(workerScript, { workerData: { packCache: root } });
    try {
      const reply = (id: number) => new Promise<{ kind: string }>((resolve) => {
        const on = (m: { kind: string; inReplyTo?: number }) => {
          if (m.inReplyTo === id && m.kind !== 'progress') { w.off('message', on); resolve(m); }
        };
        w.on('message', on);
      });
      w.postMessage({ v: 1, kind: 'init', cancelFlags: new SharedArrayBuffer(4096) });
      for (const id of [1, 2]) { // the second load opens the kept files, leaving packing steps queued
        w.postMessage({ v: 1, kind: 'request', id, op: 'model.load', args: { dir: modelDir('tiny-random-gpt2') }, cancelSlot: -1 });
        expect((await reply(id)).kind).toBe('result');
      }
      w.postMessage({ v: 1, kind: 'stop' });
      const [code] = (await once(w, 'exit')) as [number];
      expect(code).toBe(0); // terminate() would give 1
    } finally {
      await w.terminate();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('answers ping from a separate thread', async () => {
    const r = await make().ping();
    expect(r.threadId).not.toBe(threadId);
    expect(r.pid).toBe(process.pid);
  });

  it('runs separate lanes in separate workers', async () => {
    const p = make();
    const [a, b] = await Promise.all([p.ping('model'), p.ping('tokenize')]);
    expect(a.threadId).not.toBe(b.threadId);
  });

  it('streams progress and returns results', async () => {
    const events: number[] = [];
    const r = await make().request<{ spunMs: number }>('debug.spin', { ms: 60 }, { onProgress: (e) => events.push(e.done) });
    expect(r.spunMs).toBeGreaterThanOrEqual(60);
    expect(events.length).toBeGreaterThan(0);
  });

  it('a newer request on the same channel cancels the older one, and the worker stops it', async () => {
    const p = make();
    const first = p.request('debug.spin', { ms: 20_000 }, { channel: 'attention' });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const second = p.request<{ spunMs: number }>('debug.spin', { ms: 10 }, { channel: 'attention' });
    expect(await codeOf(first)).toBe('CANCELLED');
    await expect(second).resolves.toMatchObject({});
    expect(Date.now() - t0).toBeLessThan(3000); // the 20 s spin really stopped
    expect(p.generation()).toBe(1); // no restart was needed
  });

  it('AbortSignal cancels', async () => {
    const p = make();
    const ac = new AbortController();
    const run = p.request('debug.spin', { ms: 20_000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    expect(await codeOf(run)).toBe('CANCELLED');
    await expect(p.ping()).resolves.toBeTruthy();
  });

  it('a crashed worker fails its requests clearly and is restarted on the next request', async () => {
    const p = make();
    const before = await p.ping();
    const pendingPing = p.ping(); // queued behind the crash
    const crash = p.request('debug.crash', null);
    expect(await codeOf(crash)).toBe('WORKER_CRASHED');
    const queued = await codeOf(pendingPing);
    expect(['resolved', 'WORKER_CRASHED']).toContain(queued);
    const after = await p.ping();
    expect(after.threadId).not.toBe(before.threadId);
    expect(p.generation()).toBe(2);
  });

  it('a worker that ignores cancellation is replaced after the grace period', async () => {
    const p = make({ cancelGraceMs: 100 });
    const before = await p.ping();
    const run = p.request('debug.block', { ms: 20_000 }, { channel: 'x' });
    await new Promise((r) => setTimeout(r, 30));
    const t0 = Date.now();
    p.cancel('x');
    expect(await codeOf(run)).toBe('CANCELLED');
    await new Promise((r) => setTimeout(r, 300));
    const after = await p.ping();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(after.threadId).not.toBe(before.threadId);
    expect(p.generation()).toBe(2);
  });

  it('engine errors keep their code; unknown ops are rejected', async () => {
    const p = make();
    expect(await codeOf(p.request('debug.throw', null))).toBe('BAD_INPUT');
    expect(await codeOf(p.request('no.such.op', null))).toBe('BAD_INPUT');
  });

  it('debug operations are absent unless enabled', async () => {
    const p = make({ debugOps: false });
    expect(await codeOf(p.request('debug.crash', null))).toBe('BAD_INPUT');
  });

  it('the host event loop keeps running while a worker is busy', async () => {
    const p = make();
    const run = p.request('debug.spin', { ms: 400 });
    let maxGap = 0;
    let last = Date.now();
    const timer = setInterval(() => { const now = Date.now(); maxGap = Math.max(maxGap, now - last); last = now; }, 10);
    await run;
    clearInterval(timer);
    expect(maxGap).toBeLessThan(50);
  });

  it('rejects after dispose', async () => {
    const p = make();
    await p.dispose();
    expect(await codeOf(p.ping())).toBe('INTERNAL');
  });
});
