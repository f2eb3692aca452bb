// The one test command (`npm test`, called by .ci/run): build, typecheck, lint, unit tests (vitest), integration
// tests inside a real VS Code (code-server), then Playwright e2e specs. Prints a summary per stage and one final
// line `N passed, N failed` (unit + integration + e2e tests; a check stage that fails, or a test stage that could
// not run, counts as one failure). Exits non-zero on any failure.
// Usage: node scripts/test-all.mjs [--only build,typecheck,lint,unit,integration,e2e]   env TE_TEST_FILTER=<pattern>
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'test-output', 'results');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1].split(',')) : undefined;
// The VS Code stages load dist/ and out/test/: build first whenever they run.
if (only && (only.has('integration') || only.has('e2e'))) only.add('build');
const filter = process.env.TE_TEST_FILTER;

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Each stage returns {ok, passed?, failed?, note}. */
const stages = [
  ['build', 'check', () => ({ ok: run('node', ['scripts/build.mjs']) === 0 && run('node', ['scripts/build-tests.mjs']) === 0 })],
  ['typecheck', 'check', () => ({ ok: run('npm', ['run', '-s', 'typecheck']) === 0 })],
  ['lint', 'check', () => ({ ok: run('npx', ['eslint', '.']) === 0 })],
  ['unit', 'tests', () => {
    const out = path.join(results, 'unit.json');
    fs.rmSync(out, { force: true });
    const code = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...(filter ? ['-t', filter] : [])]);
    const r = readJson(out);
    if (!r) return { ok: false, passed: 0, failed: 1, note: 'vitest wrote no results' };
    // Files that fail to load count as failures too (numFailedTestSuites covers them).
    const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
    return { ok: code === 0, passed: r.numPassedTests, failed: r.numFailedTests + brokenFiles };
  }],
  ['integration', 'tests', () => runnerStage('integration', 'out/test/e2e/support/runIntegration.js')],
  ['e2e', 'tests', () => runnerStage('e2e', 'out/test/e2e/support/runE2e.js')],
];

function runnerStage(name, script) {
  const out = path.join(results, `${name}.json`);
  fs.rmSync(out, { force: true });
  if (!fs.existsSync(path.join(root, script))) return { ok: false, passed: 0, failed: 1, note: `${script} is missing (the build stage failed?)` };
  const code = run('node', [script]);
  const r = readJson(out);
  if (!r) return { ok: false, passed: 0, failed: 1, note: 'could not run (no results)' };
  return { ok: code === 0 && r.failed === 0, passed: r.passed, failed: r.failed, note: r.couldNotRun ? 'could not run' : '' };
}

fs.mkdirSync(results, { recursive: true });
const t0 = Date.now();
const summary = [];
for (const [name, kind, fn] of stages) {
  if (only && !only.has(name)) continue;
  console.log(`\n━━━ ${name} ━━━`);
  const s0 = Date.now();
  let r;
  try {
    r = fn();
  } catch (e) {
    r = { ok: false, passed: 0, failed: 1, note: String(e) };
  }
  if (kind === 'check' && !r.ok) r.failed = 1;
  if (kind === 'tests' && !r.ok && !r.failed) r.failed = 1; // non-zero exit without a counted failure
  summary.push({ name, kind, ...r, seconds: (Date.now() - s0) / 1000 });
}

console.log('\n━━━ summary ━━━');
let passed = 0;
let failed = 0;
for (const s of summary) {
  passed += s.passed ?? 0;
  failed += s.failed ?? 0;
  const counts = s.kind === 'tests' ? ` ${s.passed ?? 0} passed, ${s.failed ?? 0} failed` : '';
  console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name.padEnd(12)}${counts}${s.note ? ` (${s.note})` : ''}  [${s.seconds.toFixed(1)} s]`);
}
console.log(`total time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(summary.every((s) => s.ok) && failed === 0 ? 0 : 1);
