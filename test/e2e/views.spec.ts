/**
 * The analysis views in the real workbench (code-server + Chromium) with stories260K: analyse a selection from the
 * palette, read the token chips (text and count equal the fixture's reference), click a chip and check the editor's
 * selection, open the attention view, hover a heatmap cell and compare its value with the reference tensor, switch
 * layer/head by keyboard, paint attention on the editor and clear it, open the positional and predictions views,
 * switch theme, and screenshot every view into test-output/screenshots/views-*.png.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { SafetensorsFile } from '../../src/engine/safetensors';
import { REPO_ROOT, SCREENSHOTS } from './support/paths';
import { findWebviewFrame, launchWorkbench, runPaletteCommand, type Workbench } from './support/workbench';

const MODELS = process.env.TE_MODELS_DIR ?? path.resolve(REPO_ROOT, '..', 'shared', 'models');
const STORIES = path.join(MODELS, 'stories260K');
interface RefCase { name: string; text: string; input_ids: number[]; tokens: string[]; offsets: [number, number][] }
const CASES: RefCase[] = JSON.parse(fs.readFileSync(path.join(STORIES, 'reference', 'cases.json'), 'utf8'));
const SHORT = CASES.find((c) => c.name === 'short_english')!;
const FILE = `Notes before the story.\n${SHORT.text}\nThe end.\n`;

/** The whole workbench as `<name>.png`, and the views' editor group alone as `<name>-panel.png`. */
async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  const group = page.locator('.editor-group-container').last();
  if (await group.count()) await group.screenshot({ path: path.join(SCREENSHOTS, `${name}-panel.png`) });
  return file;
}

/** Screenshot of just the webview panel that holds `frame` (its iframe element in the workbench). */
async function shotPanel(frame: Frame, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  const el = await (await frame.parentFrame())?.frameElement() ?? await frame.frameElement();
  await el.screenshot({ path: file });
  return file;
}

async function setTheme(wb: Workbench, theme: 'Light Modern' | 'Dark Modern' | 'Dark High Contrast'): Promise<void> {
  const { page } = wb;
  await page.keyboard.press('Escape');
  await page.locator('.monaco-editor .view-lines').first().click(); // the keybinding needs the workbench, not a webview, focused
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+T');
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Modern' }).first().waitFor({ timeout: 10_000 });
  await input.fill(theme);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  const cls = theme.includes('High Contrast') ? 'hc-black' : theme.includes('Light') ? 'vs' : 'vs-dark';
  await page.locator(`.monaco-workbench.${cls}`).waitFor({ state: 'attached', timeout: 20_000 });
  await page.waitForTimeout(1500);
}

/** Text of the status bar's cursor item ("Ln 2, Col 30 (7 selected)"). */
async function cursorStatus(page: Page): Promise<string> {
  return (await page.locator('.statusbar-item[id="status.editor.selection"]').first().innerText()).trim();
}

/** Decorations Monaco renders for our editor decorations (inline backgrounds). */
async function decorationCount(page: Page): Promise<number> {
  return page.locator('.monaco-editor .view-overlays .cdr, .monaco-editor .view-lines span[class*="ced-"]').count();
}

describe('Views (e2e)', function () {
  this.timeout(240_000);
  let wb: Workbench;
  let tokens: Frame;
  let attention: Frame;

  before(async function () {
    wb = await launchWorkbench({
      label: 'e2e-views',
      files: { 'story.txt': FILE },
      settings: { 'transformerExplorer.model': STORIES, 'workbench.colorTheme': 'Default Light Modern', 'window.autoDetectColorScheme': false, 'transformerExplorer.hover.enabled': false },
    }, { colorScheme: 'light' });
  });

  after(async () => {
    await wb?.close();
  });

  it('analyse a selection: the tokens view shows the reference tokens with their offsets', async function () {
    const { page } = wb;
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('story.txt');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'story.txt' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor .view-line', { hasText: 'Once upon' }).waitFor();
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
    await runPaletteCommand(page, 'Transformer: Analyze Selection');
    tokens = await findWebviewFrame(page, '#root[data-view="tokens"] .te-chip', 90_000);
    const chips = await tokens.$$eval('.te-chip', (els) => els.map((e) => ({ text: e.querySelector('.te-chip-text')?.textContent ?? '', start: Number(e.getAttribute('data-start')), end: Number(e.getAttribute('data-end')) })));
    assert.equal(chips.length, SHORT.tokens.length);
    assert.deepEqual(chips.map((c) => [c.start, c.end]), SHORT.offsets);
    // "▁Once" is shown as "·Once" (the marker is the space it stands for); <s> as spelled.
    assert.deepEqual(chips.map((c) => c.text), SHORT.tokens.map((t) => (t === '<s>' ? t : t.replace(/▁/g, '·'))));
    const stats = await tokens.textContent('.te-stats');
    assert.match(stats ?? '', new RegExp(`^${SHORT.tokens.length} tokens \\(${SHORT.tokens.length - 1} from the text, 1 special\\)`));
    await shot(page, 'views-tokens-light');
    await shotPanel(tokens, 'views-tokens-panel-light');
  });

  it('clicking a chip selects its characters; hovering one decorates them', async function () {
    const { page } = wb;
    const i = SHORT.tokens.indexOf('▁little');
    const [s, e] = SHORT.offsets[i];
    await tokens.click(`.te-chip[data-start="${s}"][data-end="${e}"]`);
    // The story is line 2; the token's characters are columns s+1 … e (1-based) and e − s characters long.
    await page.locator('.statusbar-item', { hasText: `(${e - s} selected)` }).first().waitFor({ timeout: 10_000 });
    assert.match(await cursorStatus(page), new RegExp(`Ln 2, Col ${e + 1} \\(${e - s} selected\\)`));
    await tokens.hover('.te-stats'); // off the chips: the hover highlight of "little" goes away
    await page.waitForTimeout(300);
    const before = await decorationCount(page);
    const j = SHORT.tokens.indexOf('▁named');
    await tokens.hover(`.te-chip[data-start="${SHORT.offsets[j][0]}"]`);
    await page.waitForTimeout(800);
    const after = await decorationCount(page);
    if (after <= before) {
      await shot(page, 'views-hover-failure');
      console.log(`  [e2e] decorations before ${before}, after ${after}: ${(await page.locator('.monaco-editor .view-overlays').first().innerHTML()).slice(0, 1500)}`);
    }
    assert.ok(after > before, 'hovering a chip decorates the editor');
    await shot(page, 'views-tokens-hover-light');
  });

  it('attention: lines, then a heatmap cell whose hover value equals the reference tensor; keyboard layer/head', async function () {
    const { page } = wb;
    await runPaletteCommand(page, 'Transformer: Show Attention');
    attention = await findWebviewFrame(page, '#root[data-view="attention"] .te-headview-svg line', 60_000);
    await shot(page, 'views-attention-lines-light');
    await attention.click('vscode-tab-header:has-text("Heatmap")');
    await attention.waitForSelector('canvas.te-heatmap-canvas[data-cell-h]');
    // layer 0 → 1 and head 0 → 2 with the keyboard (] next layer, . next head), typed into the focused heatmap
    const canvas = attention.locator('canvas.te-heatmap-canvas');
    await canvas.press(']');
    await attention.locator('.te-caption', { hasText: 'layer 1, head 0' }).waitFor({ timeout: 15_000 });
    await canvas.press('.');
    await attention.locator('.te-caption', { hasText: 'layer 1, head 1' }).waitFor({ timeout: 15_000 });
    await canvas.press('.');
    await attention.locator('.te-caption', { hasText: 'layer 1, head 2' }).waitFor({ timeout: 15_000 });
    const g = await canvas.evaluate((c) => ({ ...(c as unknown as { dataset: Record<string, string> }).dataset }));
    const q = 12, k = 9;
    const x = Number(g.left) + (k + 0.5) * Number(g.cellW) - Number(g.scrollX);
    const y = Number(g.top) + (q + 0.5) * Number(g.cellH) - Number(g.scrollY);
    await canvas.hover({ position: { x, y } });
    const tip = attention.locator('.te-tooltip:not([hidden])');
    await tip.waitFor({ timeout: 10_000 });
    const text = (await tip.textContent()) ?? '';
    const m = /query #(\d+) .* → key #(\d+) .*: ([\d.]+)$/.exec(text);
    assert.ok(m, `tooltip: ${text}`);
    assert.deepEqual([Number(m[1]), Number(m[2])], [q, k]);
    const ref = SafetensorsFile.open(path.join(STORIES, 'reference', `${SHORT.name}.safetensors`));
    try {
      const n = SHORT.tokens.length;
      const want = ref.read('attn.1')[(2 * n + q) * n + k];
      assert.ok(Math.abs(Number(m[3]) - want) <= 5e-5, `cell ${m[3]} vs reference ${want}`);
    } finally {
      ref.close();
    }
    await shot(page, 'views-attention-heatmap-light');
  });

  it('paints attention from a chosen query on the editor, and Clear Highlights removes it', async function () {
    const { page } = wb;
    const before = await decorationCount(page);
    await attention.click('.te-query-chips .te-chip >> nth=12');
    await attention.click('vscode-button[data-action="paint"]');
    await attention.locator('.te-paint-legend:not([hidden])').waitFor({ timeout: 10_000 });
    await page.waitForTimeout(500);
    const painted = await decorationCount(page);
    assert.ok(painted > before, `painted decorations ${painted} > ${before}`);
    await shot(page, 'views-attention-paint-light');
    await runPaletteCommand(page, 'Transformer: Clear Highlights');
    await attention.locator('.te-paint-legend[hidden]').waitFor({ state: 'attached', timeout: 10_000 });
    await page.waitForTimeout(500);
    assert.ok((await decorationCount(page)) < painted);
  });

  it('all heads grid and the math of one head', async function () {
    const { page } = wb;
    await attention.click('vscode-tab-header:has-text("All heads")');
    await attention.waitForSelector('.te-headgrid .te-thumb');
    assert.equal(await attention.locator('.te-headgrid-cell').count(), 5 * 8);
    await shot(page, 'views-attention-grid-light');
    await attention.click('vscode-tab-header:has-text("Math of one head")');
    await attention.waitForSelector('.te-math-table tbody tr');
    const sum = await attention.locator('.te-steps').innerText();
    assert.match(sum, /Σ weights = (1\.0000|0\.9999)/);
    await shot(page, 'views-attention-math-light');
  });

  it('positional encodings and predictions views draw', async function () {
    const { page } = wb;
    await runPaletteCommand(page, 'Transformer: Show Positional Encodings');
    await findWebviewFrame(page, '#root[data-view="positional"] .te-panel svg', 60_000);
    await page.waitForTimeout(500);
    await shot(page, 'views-positional-light');
    await runPaletteCommand(page, 'Transformer: Show Predictions');
    const pred = await findWebviewFrame(page, '#root[data-view="predictions"] .te-lens-cell', 60_000);
    // the model's top prediction after "<s>" is "▁Once" (reference top_next[0][0], p = 0.784)
    const firstRow = await pred.locator('.te-pred-table tbody tr').first().innerText();
    assert.match(firstRow, /·Once\s*0\.784/);
    // every column fits the panel: the top-k entries wrap instead of running off its right edge
    const overflow = await pred.$eval('.te-pred-table', (t) => {
      const wrap = t.parentElement!;
      const right = wrap.getBoundingClientRect().right;
      const entries = [...t.querySelectorAll('ol.te-top li')].map((li) => li.getBoundingClientRect().right);
      return { scroll: wrap.scrollWidth - wrap.clientWidth, beyond: entries.filter((r) => r > right + 1).length, entries: entries.length };
    });
    assert.ok(overflow.entries > 0, 'no top-k entries drawn');
    assert.deepEqual([overflow.scroll <= 1, overflow.beyond], [true, 0], JSON.stringify(overflow));
    await page.waitForTimeout(300);
    await shot(page, 'views-predictions-light');
  });

  it('switches theme: the views follow (dark, high contrast) and stay readable', async function () {
    const { page } = wb;
    for (const [theme, name] of [['Dark Modern', 'dark'], ['Dark High Contrast', 'hc']] as const) {
      await setTheme(wb, theme);
      const pred = await findWebviewFrame(page, '#root[data-view="predictions"] .te-lens-cell');
      const colors = await pred.$eval('body', (b) => {
        const s = b.ownerDocument.defaultView!.getComputedStyle(b);
        return { fg: s.color, bg: s.backgroundColor };
      });
      assert.notEqual(colors.fg, colors.bg);
      await shot(page, `views-predictions-${name}`);
      await runPaletteCommand(page, 'Transformer: Show Attention');
      const att = await findWebviewFrame(page, '#root[data-view="attention"] vscode-tab-header');
      await att.click('vscode-tab-header:has-text("Heatmap")');
      await att.waitForSelector('canvas.te-heatmap-canvas[data-cell-h]');
      await page.waitForTimeout(500);
      await shot(page, `views-attention-heatmap-${name}`);
      await runPaletteCommand(page, 'Transformer: Show Tokens');
      await page.waitForTimeout(500);
      await shot(page, `views-tokens-${name}`);
      await runPaletteCommand(page, 'Transformer: Show Predictions');
    }
  });
});
