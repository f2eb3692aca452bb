/**
 * Entry of the integration suite inside the VS Code extension host (the `extensionTestsPath` contract shared by
 * code-server's URL payload and @vscode/test-electron): runs every out/test/integration/suite/**\/*.test.js with
 * mocha, resolves when all pass, rejects otherwise. Results also go to $TE_TEST_RESULTS_FILE (JSON) when set, and a
 * `TE_INTEGRATION_RESULT {...}` line on the console. $TE_TEST_FILTER narrows to tests whose full title matches.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface MochaLike {
  addFile(file: string): void;
  loadFilesAsync(): Promise<void>;
  run(done: (failures: number) => void): RunnerLike;
}
interface RunnerLike {
  on(event: 'pass' | 'fail', listener: (test: { fullTitle(): string }, err?: Error) => void): void;
}

export async function run(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('mocha');
  const Mocha = (mod.default ?? mod) as new (options: object) => MochaLike;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec', grep: process.env.TE_TEST_FILTER || undefined });
  const suiteDir = path.join(__dirname, 'suite');
  const files = (fs.readdirSync(suiteDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(path.join(suiteDir, f));
  await mocha.loadFilesAsync();

  const passed: string[] = [];
  const failed: { title: string; error: string }[] = [];
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    runner.on('pass', (t) => passed.push(t.fullTitle()));
    runner.on('fail', (t, err) => failed.push({ title: t.fullTitle(), error: String(err?.stack ?? err) }));
  });
  const result = { passed: passed.length, failed: failed.length, passedTitles: passed, failures: failed };
  if (process.env.TE_TEST_RESULTS_FILE) fs.writeFileSync(process.env.TE_TEST_RESULTS_FILE, JSON.stringify(result, null, 2));
  console.log(`TE_INTEGRATION_RESULT ${JSON.stringify({ passed: result.passed, failed: result.failed })}`);
  if (failures > 0 || files.length === 0) throw new Error(files.length === 0 ? `No test files in ${suiteDir}` : `${failures} integration test(s) failed`);
}
