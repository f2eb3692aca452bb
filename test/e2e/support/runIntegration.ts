/**
 * Runs the integration suite inside a real VS Code (code-server) extension host: starts the server, opens the
 * workbench with extensionDevelopmentPath + extensionTestsPath, waits for the workbench's `codeAutomationExit`,
 * and writes test-output/results/integration.json ({passed, failed, ...}). Exit code 0 only if all passed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchWorkbench, type Workbench } from './workbench';
import { INTEGRATION_ENTRY, RESULTS } from './paths';

const TIMEOUT_MS = Number(process.env.TE_INTEGRATION_TIMEOUT_MS || 300_000);

async function main(): Promise<number> {
  fs.mkdirSync(RESULTS, { recursive: true });
  const resultsFile = path.join(RESULTS, 'integration.json');
  fs.rmSync(resultsFile, { force: true });
  let exitCode: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exitCode = resolve));
  const t0 = Date.now();
  let wb: Workbench | undefined;
  try {
    wb = await launchWorkbench(
      {
        label: 'integration',
        files: { 'sample.txt': 'The quick brown fox jumps over the lazy dog.\n', 'sample.ts': 'export const answer = 42;\n' },
        env: { TE_TEST_RESULTS_FILE: resultsFile, ...(process.env.TE_TEST_FILTER ? { TE_TEST_FILTER: process.env.TE_TEST_FILTER } : {}) },
      },
      { extensionTestsPath: INTEGRATION_ENTRY, onExit: (c) => exitCode(c) },
    );
    if (process.env.TE_VERBOSE) wb.page.on('console', (m) => console.log(`  [vscode] ${m.text()}`));
    const code = await Promise.race([
      exited,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`integration suite did not finish within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)),
    ]);
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    if (!fs.existsSync(resultsFile)) {
      console.error(`The suite exited with ${code} but wrote no results (did it load?). Console tail:\n${wb.console.slice(-30).join('\n')}`);
      writeResult(resultsFile, { passed: 0, failed: 1, failures: [{ title: 'integration suite', error: 'no results' }] });
      return 1;
    }
    const result = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    for (const t of result.passedTitles ?? []) console.log(`  ✓ ${t}`);
    for (const f of result.failures ?? []) console.error(`  ✗ ${f.title}\n${indent(f.error)}`);
    console.log(`[integration] exit code ${code}: ${result.passed} passed, ${result.failed} failed in ${seconds} s`);
    return code === 0 && result.failed === 0 ? 0 : 1;
  } catch (e) {
    console.error(`[integration] could not run: ${(e as Error).message}`);
    if (wb) console.error(`Console tail:\n${wb.console.slice(-30).join('\n')}`);
    writeResult(resultsFile, { passed: 0, failed: 1, failures: [{ title: 'integration harness', error: String(e) }] });
    return 1;
  } finally {
    await wb?.close();
  }
}

function writeResult(file: string, r: object): void {
  fs.writeFileSync(file, JSON.stringify({ ...r, couldNotRun: true }, null, 2));
}

const indent = (s: string) => s.split('\n').slice(0, 12).map((l) => `      ${l}`).join('\n');

main().then((c) => process.exit(c), (e) => {
  console.error(e);
  process.exit(1);
});
