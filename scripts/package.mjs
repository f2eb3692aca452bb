// `npm run package [-- --target <vsce target>] [--out <file.vsix>]`: a production build with the tokenizer binary
// of the target platform only, then `vsce package`. Prints the .vsix path, size and contents.
// Targets (vsce → tokenizers binary): see PLATFORMS below; default = this machine.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentNapiTarget } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** vsce platform target → the N-API binary of `tokenizers` it needs. */
export const PLATFORMS = {
  'linux-x64': 'linux-x64-gnu',
  'linux-arm64': 'linux-arm64-gnu',
  'linux-armhf': 'linux-arm-gnueabihf',
  'alpine-x64': 'linux-x64-musl',
  'alpine-arm64': 'linux-arm64-musl',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64-msvc',
  'win32-arm64': 'win32-arm64-msvc',
};

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const here = Object.entries(PLATFORMS).find(([, napi]) => napi === currentNapiTarget())?.[0];
const target = arg('--target') ?? here;
if (!target || !PLATFORMS[target]) {
  console.error(`Unknown target '${target}'. Choose one of: ${Object.keys(PLATFORMS).join(', ')}`);
  process.exit(1);
}
const { name, version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.resolve(arg('--out') ?? path.join(root, `${name}-${target}-${version}.vsix`));
fs.mkdirSync(path.dirname(out), { recursive: true });

// Start from an empty dist/ so no development leftovers (source maps, stale bundles) end up in the package.
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
// vsce runs `vscode:prepublish` (the production build), which reads TE_NAPI_TARGETS.
// --no-dependencies: the only runtime dependency (tokenizers) is already copied into dist/node_modules.
execFileSync(process.execPath, [path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package',
  '--target', target, '--no-dependencies', '--out', out], {
  cwd: root, stdio: 'inherit', env: { ...process.env, TE_NAPI_TARGETS: PLATFORMS[target] },
});

const size = fs.statSync(out).size;
console.log(`[package] ${path.relative(process.cwd(), out)}: ${(size / 1024 / 1024).toFixed(2)} MB (${size} bytes), target ${target} (tokenizers.${PLATFORMS[target]}.node)`);
