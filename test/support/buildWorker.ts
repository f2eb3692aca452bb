import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

/** Bundles src/engine/worker.ts into a temp file so unit tests can start real worker threads. */
export async function buildWorkerForTests(): Promise<string> {
  // Inside the repo so the bundle resolves native addons (tokenizers, onnxruntime-node) from node_modules.
  const cache = path.resolve(__dirname, '../../node_modules/.cache');
  fs.mkdirSync(cache, { recursive: true });
  const dir = fs.mkdtempSync(path.join(cache, 'te-worker-'));
  const outfile = path.join(dir, 'engine-worker.js');
  await esbuild.build({
    entryPoints: [path.resolve(__dirname, '../../src/engine/worker.ts')],
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile,
    external: ['tokenizers', 'onnxruntime-node'], logLevel: 'error',
  });
  return outfile;
}
