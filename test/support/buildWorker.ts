import * as esbuild from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Bundles src/engine/worker.ts into a temp file so unit tests can start real worker threads. */
export async function buildWorkerForTests(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'te-worker-'));
  const outfile = path.join(dir, 'engine-worker.js');
  await esbuild.build({
    entryPoints: [path.resolve(__dirname, '../../src/engine/worker.ts')],
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile,
    external: ['tokenizers'], logLevel: 'error',
  });
  return outfile;
}
