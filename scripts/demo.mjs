/* global fetch */
// `npm run demo`: builds the extension, installs code-server if needed, writes a sample workspace (a prose file and
// a TypeScript file), installs the built extension into the demo's extensions folder, starts code-server on
// 127.0.0.1 and prints the URL. Runs until Ctrl+C.
// Env: TE_DEMO_MODEL (model folder or id; default ../shared/models/stories260K when it exists), TE_DEMO_PORT,
//      TE_DEMO_DIR (scratch folder, default .demo/).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const demo = path.resolve(process.env.TE_DEMO_DIR || path.join(root, '.demo'));
const codeServer = path.join(root, '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server');

const step = (m) => console.log(`[demo] ${m}`);

step('building');
execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (!fs.existsSync(codeServer)) step('installing code-server (first run only, about a minute)');
execFileSync('bash', [path.join(root, 'scripts', 'install-code-server.sh')], { cwd: root, stdio: 'inherit' });

// --- the sample workspace
const workspace = path.join(demo, 'workspace');
fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
fs.writeFileSync(path.join(workspace, 'story.md'), `# A short story

Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog, Max.
One day, Lily saw a big red ball under a tree. She ran to the ball and kicked it high into the sky.
Max barked and ran after the ball. Lily laughed and said, "Good boy, Max!"
`);
fs.writeFileSync(path.join(workspace, 'tokens.ts'), `/** Splits text into words with their character offsets. */
export interface Span {
  text: string;
  start: number;
  end: number;
}

export function words(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(/\\S+/g)) {
    spans.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return spans;
}
`);
const sharedModel = path.resolve(root, '..', 'shared', 'models', 'stories260K');
const model = process.env.TE_DEMO_MODEL
  ? (fs.existsSync(process.env.TE_DEMO_MODEL) ? path.resolve(process.env.TE_DEMO_MODEL) : process.env.TE_DEMO_MODEL)
  : fs.existsSync(sharedModel) ? sharedModel : undefined;
const settingsFile = path.join(workspace, '.vscode', 'settings.json');
const settings = fs.existsSync(settingsFile) ? JSON.parse(fs.readFileSync(settingsFile, 'utf8')) : {};
if (model) settings['transformerExplorer.model'] = model;
else delete settings['transformerExplorer.model']; // the extension's default model, offered for download
fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));

// --- user data, and the built extension "installed" by copying it where code-server looks for extensions
const userData = path.join(demo, 'user-data');
fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
const userSettings = path.join(userData, 'User', 'settings.json');
if (!fs.existsSync(userSettings)) {
  fs.writeFileSync(userSettings, JSON.stringify({
    'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'telemetry.telemetryLevel': 'off',
    'git.openRepositoryInParentFolders': 'never',
  }, null, 2));
}
const exts = path.join(demo, 'extensions');
const extDir = path.join(exts, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
fs.rmSync(extDir, { recursive: true, force: true });
fs.mkdirSync(extDir, { recursive: true });
for (const f of ['package.json', 'README.md', 'LICENSE']) if (fs.existsSync(path.join(root, f))) fs.copyFileSync(path.join(root, f), path.join(extDir, f));
for (const d of ['dist', 'media']) fs.cpSync(path.join(root, d), path.join(extDir, d), { recursive: true });
fs.rmSync(path.join(exts, 'extensions.json'), { force: true }); // let code-server rescan the folder

const port = Number(process.env.TE_DEMO_PORT) || (await freePort());
const config = path.join(demo, 'config.yaml');
fs.writeFileSync(config, '');
const tmp = path.join(demo, 'tmp');
fs.mkdirSync(tmp, { recursive: true });
const child = spawn(codeServer, ['--config', config, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
  '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
  '--user-data-dir', userData, '--extensions-dir', exts, workspace], {
  detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp },
});
const log = fs.createWriteStream(path.join(demo, 'code-server.log'));
child.stdout.pipe(log);
child.stderr.pipe(log);

const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
await waitForHealth(`http://127.0.0.1:${port}/healthz`);
console.log(`
[demo] Transformer Explorer ${pkg.version} is running in code-server.
[demo] Model: ${model ?? `${pkg.contributes.configuration.properties['transformerExplorer.model'].default} (default; the extension offers to download it)`}
[demo] Open:  ${url}
[demo] Then press F1 and run "Transformer: Show Welcome", or click the Transformer Explorer icon in the activity bar.
[demo] Logs: ${path.join(demo, 'code-server.log')}. Press Ctrl+C to stop.
`);

const stop = () => {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already stopped
  }
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => {
  console.error(`[demo] code-server exited (${code}); see ${path.join(demo, 'code-server.log')}`);
  process.exit(code ?? 1);
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
  });
}

async function waitForHealth(healthUrl) {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(healthUrl)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not start; see ${path.join(demo, 'code-server.log')}`);
}
