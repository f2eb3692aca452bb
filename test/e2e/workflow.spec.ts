/**
 * The everyday workflow in the real workbench (code-server + Chromium): select text, run "Transformer: Analyze
 * Selection" from the palette, hover a token and read the hover, open the side panel, expand a layer and click a head,
 * and screenshot the hover and the side panel in light, dark and high-contrast themes.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { REPO_ROOT, SCREENSHOTS } from './support/paths';
import { findWebviewFrame, launchWorkbench, runPaletteCommand, type Workbench } from './support/workbench';

const MODELS = process.env.TE_MODELS_DIR ?? path.resolve(REPO_ROOT, '..', 'shared', 'models');
const STORIES = path.join(MODELS, 'stories260K');
const STORY = 'Once upon a time, there was a little girl named Lily.';
const FILE = `Notes before the story.\n${STORY}\nThe end.\n`;

async function shot(page: Page, name: string, clip?: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  if (clip) await page.locator(clip).first().screenshot({ path: file });
  else await page.screenshot({ path: file });
}

/** Screen position of a character of an editor line (monospace: from the line's box and length). */
async function charPoint(page: Page, lineText: string, column: number): Promise<{ x: number; y: number }> {
  const line = page.locator('.monaco-editor .view-line', { hasText: lineText }).first();
  await line.waitFor({ timeout: 15_000 });
  const span = line.locator('span > span').first();
  const box = (await span.boundingBox())!;
  const text = (await span.textContent()) ?? '';
  const w = box.width / text.length;
  return { x: box.x + w * (column + 0.5), y: box.y + box.height / 2 };
}

async function setTheme(wb: Workbench, theme: string): Promise<void> {
  // Through the theme picker, as a user would (the workbench.colorTheme setting it writes is the same).
  await wb.page.keyboard.press('Escape');
  await wb.page.keyboard.press('Control+K');
  await wb.page.keyboard.press('Control+T');
  // The picker shows labels; the setting ids add "Default " (and "Default High Contrast" is "Dark High Contrast").
  const label = theme === 'Default High Contrast' ? 'Dark High Contrast' : theme.replace(/^Default /, '');
  const input = wb.page.locator('.quick-input-widget input');
  await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Modern' }).first().waitFor({ timeout: 10_000 });
  await input.fill(label);
  try {
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 10_000 });
  } catch (e) {
    await shot(wb.page, 'workflow-theme-failure');
    throw e;
  }
  await wb.page.keyboard.press('Enter');
  const cls = theme.includes('High Contrast') ? 'hc-black' : theme.includes('Light') ? 'vs' : 'vs-dark';
  await wb.page.locator(`.monaco-workbench.${cls}`).waitFor({ state: 'attached', timeout: 20_000 });
  await wb.page.waitForTimeout(1200);
}

describe('Workflow (e2e)', function () {
  let wb: Workbench;
  let explorer: Frame;

  before(async function () {
    wb = await launchWorkbench({
      label: 'e2e-workflow',
      files: { 'story.txt': FILE, 'blank.txt': '   \n\n' },
      settings: { 'transformerExplorer.model': STORIES, 'workbench.colorTheme': 'Default Light Modern', 'window.autoDetectColorScheme': false, 'editor.hover.delay': 200 },
    }, { colorScheme: 'light' });
  });

  after(async () => {
    await wb?.close();
  });

  it('analyses the selection from the palette, and hovering a token names it with its predictions', async function () {
    const { page } = wb;
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('story.txt');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'story.txt' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor .view-line', { hasText: 'Once upon' }).waitFor();
    // Select line 2 (the story) with the keyboard; VS Code's status bar confirms the selection before we go on.
    for (let attempt = 0; ; attempt++) {
      await page.locator('.monaco-editor .view-lines').click();
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Home');
      await page.keyboard.press('Shift+End');
      try {
        await page.locator('.statusbar', { hasText: `(${STORY.length} selected)` }).waitFor({ timeout: 3000 });
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
      }
    }
    await runPaletteCommand(page, 'Transformer: Analyze Selection');
    // The first command activates the extension; no key may reach the editor before it has read the selection
    // (Escape would cancel it). The first analysis opens the Tokens view (or says the views are missing).
    await Promise.race([
      page.locator('.tab', { hasText: 'Tokens' }).first().waitFor({ timeout: 60_000 }),
      page.locator('.notifications-toasts', { hasText: 'transformerExplorer.showTokens' }).first().waitFor({ timeout: 60_000 }),
    ]);

    // Hover "upon" (column 7 of the story line) until our hover shows (the first analysis loads the model).
    const hover = page.locator('.monaco-hover:visible', { hasText: ' · id ' });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const p = await charPoint(page, 'Once upon', 7);
      await page.mouse.move(p.x, p.y - 30);
      await page.mouse.move(p.x, p.y, { steps: 3 });
      try {
        await hover.first().waitFor({ timeout: 3000 });
        break;
      } catch (e) {
        if (Date.now() > deadline) {
          await shot(page, 'workflow-hover-failure');
          throw e;
        }
      }
    }
    const text = (await hover.first().innerText()).replace(/\s+/g, ' ');
    assert.match(text, /▁upon/, text);
    assert.match(text, /id 407/, text);
    assert.match(text, /token 3 of 16/, text);
    // The reference's most likely next token after "upon" is "▁a" (p = 0.988).
    assert.match(text, /Next token: ▁a 99%/, text);
    assert.match(text, /Surprisal: [\d.]+ bits/, text);
    await page.waitForTimeout(600); // the hover fades in
    await shot(page, 'workflow-hover');
  });

  it('analysing a blank file gives one clear notification and keeps the analysis', async function () {
    const { page } = wb;
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('blank.txt');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'blank.txt' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'blank.txt' }).waitFor();
    await runPaletteCommand(page, 'Transformer: Analyze Selection');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'There is no text to analyse here.' });
    await toast.first().waitFor({ timeout: 30_000 });
    assert.equal(await toast.count(), 1);
    assert.match(await toast.first().innerText(), /Select some text, or open a file that has some/);
    await page.waitForTimeout(800); // the toast slides in
    await shot(page, 'workflow-blank-file');
    await page.keyboard.press('Escape');
    // Back to the story: the tab is still there, and the explorer still describes the story's analysis (next test).
    await page.locator('.tab', { hasText: 'story.txt' }).first().click();
  });

  it('the side panel shows model and analysis; a head in the tree opens the attention view on it', async function () {
    const { page } = wb;
    await page.keyboard.press('Escape');
    await page.locator('.activitybar .action-item a[aria-label*="Transformer Explorer"]').first().click();
    explorer = await findWebviewFrame(page, '[data-testid="head-tree"]', 60_000);
    assert.equal((await explorer.textContent('[data-testid="model-layers"]'))?.trim(), '5');
    assert.equal((await explorer.textContent('[data-testid="analysis-tokens"]'))?.trim(), '16');
    await explorer.click('[data-testid="layer-1"]');
    await explorer.locator('[data-testid="head-1-2"]').waitFor({ state: 'visible' });
    await explorer.click('[data-testid="head-1-2"]');
    // The session's controls follow: the panel re-renders with head 1/2 marked and the Head control at 2.
    await explorer.locator('[data-testid="head-1-2"] [slot="description"]', { hasText: 'selected' }).waitFor({ timeout: 10_000 });
    // The attention view (views issue) opens on that head, or — if this build lacks it — the workflow says which command it called.
    const opened = await Promise.race([
      page.locator('.tab', { hasText: /Attention/i }).first().waitFor({ timeout: 15_000 }).then(() => 'tab'),
      page.locator('.notifications-toasts', { hasText: 'transformerExplorer.showAttention' }).first().waitFor({ timeout: 15_000 }).then(() => 'missing'),
    ]);
    console.log(`  [e2e] head click → attention view: ${opened}`);
    assert.ok(opened === 'tab' || opened === 'missing');
    if (opened === 'tab') {
      // The attention view (views issue) says what it draws: layer 1, head 2.
      await findWebviewFrame(page, 'text=/layer 1, heads? 2\\b/', 30_000);
      await page.mouse.move(640, 780);
      await shot(page, 'workflow-head-opens-attention');
    }
  });

  it('screenshots the side panel in light, dark and high-contrast themes', async function () {
    const { page } = wb;
    // A narrow sidebar (~250 px): drag the sash between the sidebar and the editor.
    const sidebar = (await page.locator('.part.sidebar').boundingBox())!;
    const sashX = sidebar.x + sidebar.width;
    await page.mouse.move(sashX, 400);
    await page.mouse.down();
    await page.mouse.move(sashX - (sidebar.width - 250) / 2, 400, { steps: 4 });
    await page.mouse.move(sidebar.x + 250, 400, { steps: 4 });
    await page.mouse.up();
    const narrowed = (await page.locator('.part.sidebar').boundingBox())!;
    console.log(`  [e2e] sidebar width ${narrowed.width}px`);
    for (const [theme, name] of [['Default Light Modern', 'light'], ['Default Dark Modern', 'dark'], ['Default High Contrast', 'hc']] as const) {
      await setTheme(wb, theme);
      explorer = await findWebviewFrame(page, '[data-testid="head-tree"]');
      // Theme variables reached the page (text is not the browser default on an unset background).
      const colors = await explorer.$eval('body', (b) => {
        const s = b.ownerDocument.defaultView!.getComputedStyle(b);
        return { fg: s.color, bg: s.backgroundColor };
      });
      assert.notEqual(colors.fg, colors.bg);
      await page.mouse.move(640, 780);
      await explorer.locator('[data-testid="model-section"]').scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
      await shot(page, `workflow-sidepanel-${name}`, '.part.sidebar');
      await explorer.locator('[data-testid="recent-section"]').scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
      await shot(page, `workflow-sidepanel-tree-${name}`, '.part.sidebar');
      await shot(page, `workflow-workbench-${name}`);
    }
  });
});
