/**
 * Starts and stops code-server 4.100.3 (VS Code 1.100.3 with a Node extension host) on 127.0.0.1 with a free port,
 * a throw-away user-data dir and settings that keep the workbench quiet. See ../shared/docs/real-vscode-e2e.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CODE_SERVER_BIN, TEST_OUTPUT } from './paths';

export interface CodeServer {
  readonly port: number;
  readonly url: string;
  /** The folder opened as the workspace. */
  readonly workspace: string;
  /** Scratch folder of this run (user data, extensions, logs, TMPDIR). */
  readonly runDir: string;
  readonly extensionsDir: string;
  /** Everything code-server printed (for error messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Folder to open; default: a fresh folder with `files`. */
  workspace?: string;
  /** Files to write into the default workspace: relative path → content. */
  files?: Record<string, string>;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Extensions folder (default: an empty one in the run dir). */
  extensionsDir?: string;
  /** Extra environment for the server and its extension host (e.g. TE_TEST_RESULTS_FILE). */
  env?: Record<string, string>;
  /** Label for the run folder under test-output/runs/. */
  label?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startCodeServer(options: StartOptions = {}): Promise<CodeServer> {
  const runsRoot = path.join(TEST_OUTPUT, 'runs');
  fs.mkdirSync(runsRoot, { recursive: true });
  const runDir = fs.mkdtempSync(path.join(runsRoot, `${options.label ?? 'cs'}-`));
  const userData = path.join(runDir, 'ud');
  const extensionsDir = options.extensionsDir ?? path.join(runDir, 'exts');
  const tmp = path.join(runDir, 'tmp');
  for (const d of [path.join(userData, 'User'), extensionsDir, tmp]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'workbench.tips.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'window.restoreWindows': 'none',
    'window.autoDetectColorScheme': true,
    'workbench.preferredDarkColorTheme': 'Default Dark Modern',
    'workbench.preferredLightColorTheme': 'Default Light Modern',
    'git.openRepositoryInParentFolders': 'never',
    'workbench.enableExperiments': false,
    ...options.settings,
  }, null, 2));
  const config = path.join(runDir, 'config.yaml');
  fs.writeFileSync(config, ''); // keeps code-server from writing ~/.config/code-server

  const workspace = options.workspace ?? path.join(runDir, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  for (const [rel, content] of Object.entries(options.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true });
    fs.writeFileSync(path.join(workspace, rel), content);
  }

  const port = await freePort();
  const args = [
    '--config', config, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--user-data-dir', userData, '--extensions-dir', extensionsDir, workspace,
  ];
  let output = '';
  const child: ChildProcess = spawn(CODE_SERVER_BIN, args, {
    detached: true, // own process group, so stop() ends the server and everything it started
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: tmp, ...options.env },
  });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  fs.writeFileSync(path.join(runDir, 'pid'), String(child.pid));

  const url = `http://127.0.0.1:${port}`;
  const server: CodeServer = {
    port, url, workspace, runDir, extensionsDir,
    output: () => output,
    stop: () => stopProcessGroup(child),
  };
  try {
    await waitForHealth(url, child, () => output);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms:\n${output()}`);
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

/** `code-server --install-extension <vsix> --extensions-dir <dir>`, as a user would install a packaged build. */
export function installVsix(vsix: string, extensionsDir: string): string {
  fs.mkdirSync(extensionsDir, { recursive: true });
  const config = path.join(extensionsDir, '..', 'install-config.yaml');
  fs.writeFileSync(config, '');
  const r = spawnSync(CODE_SERVER_BIN, ['--config', config, '--extensions-dir', extensionsDir, '--install-extension', vsix], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`--install-extension failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
