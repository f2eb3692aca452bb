import * as assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import * as vscode from 'vscode';
import { activateExtension, closeAllEditors, contributes, countWebviewTabs, findWebviewTab, getExtension, waitFor } from '../support/helpers';

describe('Extension', () => {
  it('is not activated at startup and activates on demand', async () => {
    const ext = getExtension();
    const events: string[] = ext.packageJSON.activationEvents ?? [];
    assert.ok(!events.includes('*') && !events.includes('onStartupFinished'), `eager activation events: ${events.join(', ')}`);
    assert.equal(ext.isActive, false, 'nothing should have activated the extension before the first test');
    const api = await activateExtension();
    assert.equal(ext.isActive, true);
    assert.equal(typeof api.welcomePanel, 'function');
  });

  it('registers every command contributed in package.json', async () => {
    await activateExtension();
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = contributes().commands.map((c) => c.command);
    assert.ok(contributed.length >= 2);
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  // Here, in the first suite file, because later suites analyse text and the session keeps its current analysis.
  it('context keys say there is no analysis before the first one', async () => {
    await activateExtension();
    const s = await vscode.commands.executeCommand<{ contextKeys: Record<string, unknown> }>('transformerExplorer.internal.workflowState');
    assert.equal(s.contextKeys['transformerExplorer.hasAnalysis'], false);
    assert.equal(s.contextKeys['transformerExplorer.analysisStale'], false);
    assert.equal(s.contextKeys['transformerExplorer.busy'], false);
  });

  it('hides internal commands from the command palette', () => {
    const hidden = new Set((contributes().menus?.commandPalette ?? []).filter((m) => m.when === 'false').map((m) => m.command));
    const internal = contributes().commands.map((c) => c.command).filter((c) => c.includes('.internal.'));
    assert.ok(internal.length > 0);
    for (const c of internal) assert.ok(hidden.has(c), `${c} is not hidden from the palette`);
  });
});

describe('Welcome panel', () => {
  afterEach(closeAllEditors);

  it('opens, and its webview answers a typed ping with the heading it rendered', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('transformerExplorer.showWelcome');
    await waitFor(() => findWebviewTab('transformerExplorer.welcome'), 'the welcome tab');
    const panel = await waitFor(() => api.welcomePanel(), 'the welcome panel object');
    await Promise.race([panel.ready, new Promise((_, reject) => setTimeout(() => reject(new Error('webview never sent ready')), 30_000))]);
    const pong = await panel.ping();
    assert.equal(pong.heading, 'Transformer Explorer');
    assert.ok(pong.roundTripMs >= 0 && pong.roundTripMs < 10_000, `round trip ${pong.roundTripMs} ms`);
  });

  it('reveals the existing panel instead of opening a second one', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('transformerExplorer.showWelcome');
    const first = await waitFor(() => api.welcomePanel(), 'the welcome panel');
    await vscode.commands.executeCommand('transformerExplorer.showWelcome');
    assert.equal(api.welcomePanel(), first);
    await waitFor(() => findWebviewTab('transformerExplorer.welcome'), 'the welcome tab');
    assert.equal(countWebviewTabs('transformerExplorer.welcome'), 1);
  });

  it('forgets the panel when its tab is closed', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('transformerExplorer.showWelcome');
    await waitFor(() => findWebviewTab('transformerExplorer.welcome'), 'the welcome tab');
    await closeAllEditors();
    await waitFor(() => api.welcomePanel() === undefined || undefined, 'the panel to be disposed');
  });
});

describe('Engine worker', () => {
  it('answers a ping from a worker thread of the extension host process', async () => {
    await activateExtension();
    const pong = await vscode.commands.executeCommand<{ threadId: number; pid: number }>('transformerExplorer.internal.pingWorker');
    assert.ok(pong, 'no answer');
    assert.equal(typeof pong.threadId, 'number');
    assert.notEqual(pong.threadId, threadId, 'answered from the host thread, not a worker');
    assert.ok(pong.threadId > 0);
    assert.equal(pong.pid, process.pid, 'a worker thread lives in the extension host process');
  });
});
