// Builds every runtime's bundle with esbuild: extension host (CJS), engine worker, CLI, and browser bundles for webviews.
// Usage: node scripts/build.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const dist = path.join(root, 'dist');

/** Node bundles. `vscode` is provided by the host; `tokenizers` is a native addon copied beside the bundles. */
const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'tokenizers', 'onnxruntime-node', 'onnxruntime-common'],
  logLevel: 'warning',
};

const nodeEntries = [
  { in: 'src/extension.ts', out: 'extension' },
  { in: 'src/engine/worker.ts', out: 'engine-worker' },
  { in: 'src/cli.ts', out: 'cli' },
].filter((e) => fs.existsSync(path.join(root, e.in)));

/** One browser bundle per webview entry (webview/<name>/main.ts or webview/<name>.ts with a top-level entry list). */
const webviewEntries = fs.existsSync(path.join(root, 'webview'))
  ? fs.readdirSync(path.join(root, 'webview'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, 'webview', d.name, 'main.ts')))
      .map((d) => ({ in: `webview/${d.name}/main.ts`, out: d.name }))
  : [];

const builds = [
  { ...nodeCommon, entryPoints: nodeEntries, outdir: dist },
];
if (webviewEntries.length > 0) {
  builds.push({
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    sourcemap: !production,
    minify: production,
    entryPoints: webviewEntries,
    outdir: path.join(dist, 'webview'),
    loader: { '.css': 'css', '.ttf': 'file', '.woff2': 'file' },
    logLevel: 'warning',
  });
}

/** Copies the tokenizer's JS loader and the native binary for this platform into dist/node_modules. */
export function copyNativeTokenizer(targets = [currentNapiTarget()]) {
  const src = path.join(root, 'node_modules', 'tokenizers');
  const dst = path.join(dist, 'node_modules', 'tokenizers');
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ['index.js', 'package.json', 'LICENSE']) fs.copyFileSync(path.join(src, f), path.join(dst, f));
  for (const t of targets) fs.copyFileSync(path.join(src, `tokenizers.${t}.node`), path.join(dst, `tokenizers.${t}.node`));
}

/**
 * Copies onnxruntime-node (the engine's fast CPU kernels; src/engine/kernels/README.md) for the given tokenizer
 * N-API targets into dist/node_modules: its JS loader, onnxruntime-common, and only those platforms' binaries.
 * Targets without an ORT build (darwin-x64, musl, armhf) get none; the engine then uses its WebAssembly kernels.
 */
export function copyNativeOnnxruntime(targets = [currentNapiTarget()]) {
  const modules = path.join(root, 'node_modules');
  const dst = path.join(dist, 'node_modules');
  for (const pkg of ['onnxruntime-node', 'onnxruntime-common']) fs.rmSync(path.join(dst, pkg), { recursive: true, force: true });
  const dirs = targets.map((t) => /^(linux|darwin|win32)-(x64|arm64)(-gnu|-msvc)?$/.exec(t)).filter(Boolean).map((m) => `${m[1]}/${m[2]}`)
    .filter((d) => fs.existsSync(path.join(modules, 'onnxruntime-node', 'bin', 'napi-v6', d)) && d !== 'darwin/x64');
  if (dirs.length === 0) return;
  // Only what runs: the CommonJS build (the worker bundle require()s it), no source maps, typings or TS sources.
  const runs = (f) => !/\.(map|d\.ts)$/.test(f) && !/[\\/]onnxruntime-common[\\/](lib|dist[\\/]esm)$/.test(f);
  fs.cpSync(path.join(modules, 'onnxruntime-common'), path.join(dst, 'onnxruntime-common'), { recursive: true, filter: runs });
  const ort = path.join(dst, 'onnxruntime-node');
  fs.mkdirSync(ort, { recursive: true });
  for (const f of ['package.json', 'LICENSE', 'README.md']) if (fs.existsSync(path.join(modules, 'onnxruntime-node', f))) fs.copyFileSync(path.join(modules, 'onnxruntime-node', f), path.join(ort, f));
  fs.cpSync(path.join(modules, 'onnxruntime-node', 'dist'), path.join(ort, 'dist'), { recursive: true, filter: runs });
  for (const d of dirs) {
    // The versioned .dylib is a byte-identical duplicate of libonnxruntime.1.dylib (the name the binding loads).
    fs.cpSync(path.join(modules, 'onnxruntime-node', 'bin', 'napi-v6', d), path.join(ort, 'bin', 'napi-v6', d), { recursive: true, filter: (f) => !/libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(f) });
  }
}

/** The codicon font + stylesheet, loaded by webviews as <link id="vscode-codicon-stylesheet"> (vscode-elements looks for that id). */
function copyCodicons() {
  const src = path.join(root, 'node_modules', '@vscode', 'codicons', 'dist');
  const dst = path.join(dist, 'webview');
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(src, f), path.join(dst, f));
}

export function currentNapiTarget() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const musl = !process.report?.getReport?.().header?.glibcVersionRuntime;
    return `linux-${arch === 'arm' ? 'arm-gnueabihf' : arch}-${arch === 'arm' ? '' : musl ? 'musl' : 'gnu'}`.replace(/-$/, '');
  }
  if (platform === 'darwin') return `darwin-${arch}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  throw new Error(`No tokenizer binary for ${platform}-${arch}`);
}

async function main() {
  fs.mkdirSync(dist, { recursive: true });
  if (!process.env.TE_SKIP_NATIVE_COPY) copyNativeTokenizer((process.env.TE_NAPI_TARGETS || currentNapiTarget()).split(','));
  if (!process.env.TE_SKIP_NATIVE_COPY) copyNativeOnnxruntime((process.env.TE_NAPI_TARGETS || currentNapiTarget()).split(','));
  copyCodicons();
  if (watch) {
    for (const b of builds) await (await esbuild.context(b)).watch();
    console.log('[build] watching…');
    return;
  }
  const t0 = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`[build] ${production ? 'production' : 'development'} build of ${nodeEntries.length} node + ${webviewEntries.length} webview bundles in ${Date.now() - t0} ms`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
