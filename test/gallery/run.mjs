// Builds the view bundle, the gallery's fake host and its Node driver, then runs the driver (screenshots or --serve).
// Usage: node test/gallery/run.mjs [--only <name>] [--serve] [--no-build]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.join(root, 'test-output', 'gallery');
const args = process.argv.slice(2);

if (!args.includes('--no-build')) {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, TE_SKIP_NATIVE_COPY: '1' } });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
await esbuild.build({ entryPoints: [path.join(root, 'test/gallery/browser/fixtureHost.ts')], bundle: true, platform: 'browser', format: 'iife', target: 'es2022', outfile: path.join(outDir, 'fixture-host.js'), logLevel: 'warning' });
await esbuild.build({
  entryPoints: [path.join(root, 'test/gallery/shoot.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: path.join(outDir, 'shoot.cjs'),
  external: ['tokenizers', 'playwright-core', 'onnxruntime-node'], logLevel: 'warning', sourcemap: true,
  define: { __dirname: JSON.stringify(path.join(root, 'test', 'gallery')) },
});
const r = spawnSync(process.execPath, ['--enable-source-maps', path.join(outDir, 'shoot.cjs'), ...args], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
