// Compiles the integration suite (runs inside the VS Code extension host) and the e2e specs + support (run by Node
// with Playwright) into out/test/, one CommonJS file per source file so mocha can load them by path.
// Usage: node scripts/build-tests.mjs
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function tsFiles(dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.d.ts'))
    .map((d) => path.relative(root, path.join(d.parentPath ?? d.path, d.name)));
}

const entryPoints = [...tsFiles('test/integration'), ...tsFiles('test/e2e'), ...tsFiles('test/electron')];
fs.rmSync(path.join(root, 'out', 'test'), { recursive: true, force: true });
const t0 = Date.now();
await esbuild.build({
  entryPoints,
  outdir: path.join(root, 'out'),
  outbase: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  // Provided at run time: the host's vscode module, and test tools from node_modules.
  external: ['vscode', 'mocha', 'playwright-core', '@vscode/test-electron', 'tokenizers'],
  logLevel: 'warning',
});
console.log(`[build-tests] ${entryPoints.length} test files → out/test in ${Date.now() - t0} ms`);
