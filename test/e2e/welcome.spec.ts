import * as assert from 'node:assert/strict';
import { findWebviewFrame, launchWorkbench, runPaletteCommand, screenshot, type Workbench } from './support/workbench';

describe('Welcome panel (e2e)', function () {
  let wb: Workbench;

  before(async function () {
    wb = await launchWorkbench({
      label: 'e2e-welcome',
      files: { 'notes.md': '# Notes\n\nTransformers read text as tokens.\n' },
      settings: { 'transformerExplorer.model': '/models/example-model' },
    }, { colorScheme: 'dark' });
  });

  after(async () => {
    await wb?.close();
  });

  it('runs "Transformer: Show Welcome" from the palette and renders the panel', async function () {
    await runPaletteCommand(wb.page, 'Transformer: Show Welcome');
    const frame = await findWebviewFrame(wb.page, 'h1');
    assert.equal((await frame.textContent('h1'))?.trim(), 'Transformer Explorer');
    // Filled in by the webview script from the host's `welcome/info` message: proves the round trip in the UI.
    await frame.locator('[data-testid="model"]', { hasNotText: '…' }).waitFor({ timeout: 30_000 });
    assert.equal((await frame.textContent('[data-testid="model"]'))?.trim(), '/models/example-model');
    assert.match((await frame.textContent('[data-testid="extension-version"]')) ?? '', /^v\d+\.\d+\.\d+/);
    // The vscode-elements button upgraded (it has a shadow root) and shows its label.
    const upgraded = await frame.$eval('vscode-button#open-explorer', (el) => el.shadowRoot !== null && el.textContent?.trim());
    assert.equal(upgraded, 'Open Explorer');
    // Theme variables reached the page: body text is not the browser default black on white.
    const colors = await frame.$eval('body', (body) => {
      const s = body.ownerDocument.defaultView!.getComputedStyle(body);
      return { fg: s.color, bg: s.backgroundColor };
    });
    assert.notEqual(colors.bg, 'rgba(0, 0, 0, 0)');
    assert.notEqual(colors.fg, 'rgb(0, 0, 0)');
    await wb.page.waitForTimeout(500); // let fonts and icons settle for the screenshot
    await screenshot(wb.page, 'welcome');
  });

  it('opens the side-panel explorer from the welcome button and shows the configured model', async function () {
    const frame = await findWebviewFrame(wb.page, 'vscode-button#open-explorer');
    await frame.click('vscode-button#open-explorer');
    const explorer = await findWebviewFrame(wb.page, '[data-testid="model-name"]');
    // The configured model is named (full setting as the tooltip); the folder does not exist, so its status says so.
    assert.equal(await explorer.getAttribute('[data-testid="model-name"]', 'title'), '/models/example-model');
    assert.equal((await explorer.textContent('[data-testid="model-name"]'))?.trim(), 'example-model');
    assert.match((await explorer.textContent('[data-testid="model-status"]')) ?? '', /example-model/);
    await screenshot(wb.page, 'explorer');
  });
});
