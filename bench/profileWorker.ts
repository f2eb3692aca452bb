/** Profiles the worker path at one length: `node --cpu-prof` writes one profile per thread. Build it and the worker with esbuild (as bench/run.mjs does), then: node --cpu-prof .bench-tmp/profileWorker.js $PWD/.bench-tmp/engine-worker.js 512 */
import * as path from 'node:path';
import { EngineClient } from '../src/engine-host/client';
import { EnginePool } from '../src/engine-host/pool';

async function main(): Promise<void> {
  const [workerScript, nArg] = process.argv.slice(2);
  const dir = path.resolve(__dirname, '..', '.bench-tmp', 'gpt2-small-random');
  const pool = new EnginePool({ workerScript, log: () => undefined });
  const client = new EngineClient(pool);
  await client.loadModel(dir);
  const n = Number(nArg ?? 128);
  const text = Array.from({ length: n - 1 }, (_, i) => ['the', 'cat', 'sat', 'on', 'a', 'mat'][i % 6]).join(' ');
  for (let r = 0; r < 8; r++) {
    const a0 = performance.now();
    const res = await client.analyze({ dir, text });
    const a1 = performance.now();
    await client.slice(res.traceId, { slice: 'predictions', query: { k: 5, temperature: 1 } });
    const a2 = performance.now();
    client.release(res.traceId);
    console.log(`${res.tokens.length} tokens: analyze ${(a1 - a0).toFixed(0)} (worker ${res.elapsedMs.toFixed(0)}) predictions ${(a2 - a1).toFixed(0)}`);
  }
  await pool.dispose();
}
const keep = setInterval(() => undefined, 1 << 30);
void main().then(() => clearInterval(keep));
