/**
 * Screenshots every view in the gallery (dark, light, high contrast) with playwright-core + the system Chromium,
 * into test-output/screenshots/gallery-*.png. Fails on page errors, console errors, or a view that did not draw.
 * Usage: node test/gallery/run.mjs [--only <substring>] [--serve]   (run.mjs builds and starts this file)
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startGallery } from './server';

interface Shot { name: string; view: string; model: string; caseName: string; state?: object; ready: string; themes?: string[]; width?: number; height?: number }

const ALL = ['dark', 'light', 'hc'];
export const SHOTS: Shot[] = [
  { name: 'tokens-stories260K-emoji', view: 'tokens', model: 'stories260K', caseName: 'unicode_emoji', ready: '.te-chip.group', themes: ALL },
  { name: 'tokens-gpt2-emoji', view: 'tokens', model: 'tiny-random-gpt2', caseName: 'unicode_emoji', ready: '.te-chip.group' },
  { name: 'tokens-stories260K-spaces-ids', view: 'tokens', model: 'stories260K', caseName: 'spaces_newline', state: { view: 'tokens', showIds: false }, ready: '.te-chip' },
  { name: 'attention-lines', view: 'attention', model: 'stories260K', caseName: 'short_english', state: { view: 'attention', mode: 'lines', layer: 1, heads: [0, 3, 5], head: 0, topK: 3 }, ready: '.te-headview-svg line', themes: ALL },
  { name: 'attention-lines-query', view: 'attention', model: 'stories260K', caseName: 'short_english', state: { view: 'attention', mode: 'lines', layer: 2, heads: [0, 1, 2, 3, 4, 5, 6, 7], head: 0, queries: [12] }, ready: '.te-headview-svg line' },
  { name: 'attention-heatmap', view: 'attention', model: 'stories260K', caseName: 'long', state: { view: 'attention', mode: 'heatmap', layer: 2, head: 3, heads: [3] }, ready: 'canvas.te-heatmap-canvas', themes: ALL },
  { name: 'attention-heatmap-zoom', view: 'attention', model: 'stories260K', caseName: 'long', state: { view: 'attention', mode: 'heatmap', layer: 0, head: 1, heads: [1], zoom: 18, hideSpecial: true, queries: [20] }, ready: 'canvas.te-heatmap-canvas' },
  { name: 'attention-rollout', view: 'attention', model: 'stories260K', caseName: 'short_english', state: { view: 'attention', mode: 'heatmap', layer: 4, aggregation: 'rollout' }, ready: 'canvas.te-heatmap-canvas' },
  { name: 'attention-grid', view: 'attention', model: 'stories260K', caseName: 'long', state: { view: 'attention', mode: 'grid' }, ready: '.te-thumb', themes: ALL },
  { name: 'attention-math', view: 'attention', model: 'stories260K', caseName: 'short_english', state: { view: 'attention', mode: 'math', layer: 1, head: 2, heads: [2], queries: [9] }, ready: '.te-math-table', themes: ALL },
  { name: 'attention-t5-cross', view: 'attention', model: 'tiny-random-t5', caseName: 'short_english', state: { view: 'attention', mode: 'heatmap', stack: 'cross', layer: 0, head: 0, heads: [0] }, ready: 'canvas.te-heatmap-canvas' },
  { name: 'attention-gpt2-lines', view: 'attention', model: 'tiny-random-gpt2', caseName: 'short_english', state: { view: 'attention', mode: 'lines', layer: 0, heads: [0, 1, 2], head: 0, topK: 2 }, ready: '.te-headview-svg line' },
  { name: 'positional-rope', view: 'positional', model: 'stories260K', caseName: 'short_english', ready: '.te-panel svg', themes: ALL },
  { name: 'positional-learned-gpt2', view: 'positional', model: 'tiny-random-gpt2', caseName: 'short_english', ready: '.te-panel svg' },
  { name: 'positional-t5', view: 'positional', model: 'tiny-random-t5', caseName: 'short_english', ready: '.te-panel svg' },
  { name: 'predictions', view: 'predictions', model: 'stories260K', caseName: 'short_english', ready: '.te-lens-cell', themes: ALL },
  { name: 'predictions-bert', view: 'predictions', model: 'tiny-random-bert', caseName: 'mask_short', ready: '.te-mask' },
  { name: 'predictions-gpt2', view: 'predictions', model: 'tiny-random-gpt2', caseName: 'unicode_emoji', ready: '.te-lens-cell' },
  { name: 'predictions-marian', view: 'predictions', model: 'tiny-random-marian', caseName: 'short_english', ready: '.te-pred-table' },
  { name: 'attention-marian-encoder', view: 'attention', model: 'tiny-random-marian', caseName: 'short_english', state: { view: 'attention', mode: 'heatmap', stack: 'encoder', layer: 1, head: 0, heads: [0] }, ready: 'canvas.te-heatmap-canvas' },
  { name: 'positional-marian', view: 'positional', model: 'tiny-random-marian', caseName: 'short_english', ready: '.te-panel svg' },
  { name: 'attention-bert-math', view: 'attention', model: 'tiny-random-bert', caseName: 'mask_short', state: { view: 'attention', mode: 'math', layer: 0, head: 1, heads: [1], queries: [6] }, ready: '.te-math-table' },
  { name: 'attention-t5-math', view: 'attention', model: 'tiny-random-t5', caseName: 'short_english', state: { view: 'attention', mode: 'math', stack: 'encoder', layer: 0, head: 1, heads: [1], queries: [5] }, ready: '.te-math-table' },
];

async function main(): Promise<void> {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const hostJs = path.join(ROOT, 'test-output', 'gallery', 'fixture-host.js');
  const gallery = await startGallery(hostJs);
  if (process.argv.includes('--serve')) { console.log(`[gallery] ${gallery.url}/?view=attention&theme=dark&model=stories260K&case=long`); return; }
  const out = path.join(ROOT, 'test-output', 'screenshots');
  fs.mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const failures: string[] = [];
  try {
    for (const shot of SHOTS) {
      if (only && !shot.name.includes(only)) continue;
      for (const theme of shot.themes ?? ['dark']) {
        const page = await browser.newPage({ viewport: { width: shot.width ?? 1100, height: shot.height ?? (shot.view === 'tokens' ? 260 : 700) }, deviceScaleFactor: 1 });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
        page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`); });
        const q = new URLSearchParams({ view: shot.view, theme, model: shot.model, case: shot.caseName, state: shot.state ? JSON.stringify(shot.state) : '' });
        const t0 = Date.now();
        await page.goto(`${gallery.url}/?${q}`);
        try {
          await page.waitForSelector(shot.ready, { timeout: 30_000, state: 'attached' });
        } catch {
          errors.push(`never drew ${shot.ready}`);
        }
        const drawnMs = Date.now() - t0;
        await page.waitForTimeout(400);
        const shownError = await page.locator('.te-error:not([hidden])').allTextContents();
        if (shownError.length) errors.push(`view error: ${shownError.join(' ')}`);
        const file = path.join(out, `gallery-${shot.name}-${theme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(`[gallery] ${path.basename(file)} drawn in ${drawnMs} ms${errors.length ? `  ERRORS: ${errors.join(' | ')}` : ''}`);
        if (errors.length) failures.push(`${shot.name}/${theme}: ${errors.join(' | ')}`);
        await page.close();
      }
    }
  } finally {
    await browser.close();
    await gallery.close();
  }
  if (failures.length) { console.error(`[gallery] ${failures.length} failure(s)`); process.exitCode = 1; }
}

main().catch((e) => { console.error(e); process.exit(1); });
