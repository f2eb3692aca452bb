/** Where things are: the repository, code-server, Chromium, and the test-output folders. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root (out/test/e2e/support/*.js and test/e2e/support/*.ts both sit 3-4 levels below it). */
export const REPO_ROOT = findRepoRoot(__dirname);
export const CODE_SERVER_BIN = path.join(REPO_ROOT, '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server');
export const CHROMIUM = process.env.TE_CHROMIUM || '/usr/bin/chromium';
export const TEST_OUTPUT = path.join(REPO_ROOT, 'test-output');
export const SCREENSHOTS = path.join(TEST_OUTPUT, 'screenshots');
export const RESULTS = path.join(TEST_OUTPUT, 'results');
/** Compiled integration entry (built by scripts/build-tests.mjs), without the .js suffix as VS Code expects. */
export const INTEGRATION_ENTRY = path.join(REPO_ROOT, 'out', 'test', 'integration', 'index');

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'transformer-explorer') return dir;
    if (path.dirname(dir) === dir) throw new Error(`No transformer-explorer package.json above ${start}`);
  }
}

/** Checks the real-VS-Code prerequisites, with the command that fixes each. */
export function assertPrerequisites(): void {
  const problems: string[] = [];
  if (!fs.existsSync(CODE_SERVER_BIN)) problems.push(`code-server is not installed (${CODE_SERVER_BIN}): run \`npm run install-code-server\``);
  if (!fs.existsSync(CHROMIUM)) problems.push(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set TE_CHROMIUM)`);
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) problems.push('dist/extension.js is missing: run `npm run build`');
  if (problems.length) throw new Error(problems.join('\n'));
}
