// Second runner for machines with internet access: @vscode/test-electron downloads VS Code (desktop, Electron)
// and runs the same integration suite (out/test/integration/index.js, built by scripts/build-tests.mjs).
// `npm run test:electron`. Env: TE_VSCODE_VERSION (default 'stable'), TE_TEST_FILTER. Cannot run on machines
// without access to update.code.visualstudio.com; there `npm test` uses code-server instead.
import { runTests } from '@vscode/test-electron';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'te-electron-ws-'));
fs.writeFileSync(path.join(workspace, 'sample.txt'), 'The quick brown fox jumps over the lazy dog.\n');
fs.writeFileSync(path.join(workspace, 'sample.ts'), 'export const answer = 42;\n');

try {
  await runTests({
    version: process.env.TE_VSCODE_VERSION || 'stable',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out', 'test', 'integration', 'index'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: process.env.TE_TEST_FILTER ? { TE_TEST_FILTER: process.env.TE_TEST_FILTER } : {},
  });
} catch (e) {
  console.error(`test:electron failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
