// npm run bench: bundles the benchmark and the engine worker with esbuild into .bench-tmp/, then runs it.
// Native addons (tokenizers, onnxruntime-node) stay external and load from node_modules.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, '.bench-tmp');
fs.mkdirSync(out, { recursive: true });
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['tokenizers', 'onnxruntime-node', 'onnxruntime-common'], logLevel: 'warning', sourcemap: true };
await esbuild.build({ ...common, entryPoints: [path.join(root, 'src/engine/worker.ts')], outfile: path.join(out, 'engine-worker.js') });
await esbuild.build({ ...common, entryPoints: [path.join(root, 'bench/main.ts')], outfile: path.join(out, 'bench.js') });
const r = spawnSync(process.execPath, ['--enable-source-maps', path.join(out, 'bench.js'), path.join(out, 'engine-worker.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
