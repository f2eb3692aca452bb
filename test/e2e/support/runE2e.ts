/**
 * Runs every out/test/e2e/**\/*.spec.js with mocha in plain Node (each spec drives its own code-server + Chromium
 * through ./workbench). Writes test-output/results/e2e.json. $TE_TEST_FILTER narrows by full test title.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS } from './paths';

interface MochaLike {
  addFile(file: string): void;
  loadFilesAsync(): Promise<void>;
  run(done: (failures: number) => void): { on(e: 'pass' | 'fail', l: (t: { fullTitle(): string }, err?: Error) => void): void };
}

async function main(): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('mocha');
  const Mocha = (mod.default ?? mod) as new (options: object) => MochaLike;
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, reporter: 'spec', grep: process.env.TE_TEST_FILTER || undefined });
  const root = path.resolve(__dirname, '..');
  const specs = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.spec.js')).sort();
  for (const f of specs) mocha.addFile(path.join(root, f));
  await mocha.loadFilesAsync();
  const passed: string[] = [];
  const failed: { title: string; error: string }[] = [];
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    runner.on('pass', (t) => passed.push(t.fullTitle()));
    runner.on('fail', (t, err) => failed.push({ title: t.fullTitle(), error: String(err?.stack ?? err) }));
  });
  fs.mkdirSync(RESULTS, { recursive: true });
  const noSpecs = specs.length === 0;
  fs.writeFileSync(path.join(RESULTS, 'e2e.json'), JSON.stringify({
    passed: passed.length, failed: failed.length + (noSpecs ? 1 : 0), passedTitles: passed,
    failures: noSpecs ? [{ title: 'e2e', error: `no *.spec.js under ${root}` }] : failed,
  }, null, 2));
  return failures > 0 || noSpecs ? 1 : 0;
}

main().then((c) => process.exit(c), (e) => {
  console.error(e);
  process.exit(1);
});
