import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installVsix } from './support/codeServer';
import { REPO_ROOT, TEST_OUTPUT } from './support/paths';
import { findWebviewFrame, launchWorkbench, runPaletteCommand, screenshot, type Workbench } from './support/workbench';

describe('Packaged .vsix (e2e)', function () {
  const vsix = path.join(TEST_OUTPUT, 'vsix', 'transformer-explorer.vsix');
  const extensionsDir = path.join(TEST_OUTPUT, 'vsix', `exts-${process.pid}`);
  let wb: Workbench | undefined;

  before(function () {
    this.timeout(180_000);
    fs.rmSync(extensionsDir, { recursive: true, force: true });
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package.mjs'), '--out', vsix], { cwd: REPO_ROOT, stdio: 'pipe' });
  });

  after(async () => {
    await wb?.close();
    fs.rmSync(extensionsDir, { recursive: true, force: true });
  });

  it('contains only what runs', () => {
    const listing = execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls', '--no-dependencies'], { cwd: REPO_ROOT, encoding: 'utf8' });
    const files = listing.split('\n').map((l) => l.trim()).filter(Boolean);
    const outside = files.filter((f) => !/^(dist\/|media\/|README\.md$|LICENSE$|package\.json$)/.test(f));
    assert.deepEqual(outside, []);
    assert.ok(files.includes('dist/extension.js') && files.includes('dist/engine-worker.js') && files.includes('dist/webview/welcome.js'));
    // Native code for this one platform only: Hugging Face's tokenizer and onnxruntime's binding (+ its library).
    const native = files.filter((f) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(f)).sort();
    assert.deepEqual(native.filter((f) => f.includes('/tokenizers/')).length, 1, `exactly one tokenizer binary: ${native.join(', ')}`);
    assert.deepEqual(native.filter((f) => f.endsWith('onnxruntime_binding.node')).length, 1, `exactly one onnxruntime binding: ${native.join(', ')}`);
    assert.ok(native.every((f) => f.includes('/tokenizers/') || f.includes('/onnxruntime-node/bin/napi-v6/')), `no other native code: ${native.join(', ')}`);
    assert.equal(new Set(native.filter((f) => f.includes('/onnxruntime-node/')).map((f) => path.dirname(f))).size, 1, 'onnxruntime binaries for one platform');
    assert.ok(!files.some((f) => f.endsWith('.map')), 'no source maps');
  });

  it('installs with code-server --install-extension and its command works', async function () {
    const out = installVsix(vsix, extensionsDir);
    assert.match(out, /successfully installed/i);
    assert.ok(fs.readdirSync(extensionsDir).some((d) => d.startsWith('transformer-explorer.transformer-explorer-')));
    wb = await launchWorkbench({ label: 'e2e-vsix', extensionsDir, files: { 'a.txt': 'hello\n' } }, { developmentExtension: false });
    await runPaletteCommand(wb.page, 'Transformer: Show Welcome');
    const frame = await findWebviewFrame(wb.page, 'h1');
    assert.equal((await frame.textContent('h1'))?.trim(), 'Transformer Explorer');
    await frame.locator('[data-testid="extension-version"]', { hasText: /^v\d/ }).waitFor({ timeout: 30_000 });
    await screenshot(wb.page, 'vsix-welcome');
  });
});
