/**
 * Drives the code-server workbench with playwright-core + Debian's Chromium: open it with the extension under
 * development loaded through the URL payload, run palette commands, find webview frames, take screenshots.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { CodeServer, StartOptions, startCodeServer } from './codeServer';
import { CHROMIUM, REPO_ROOT, SCREENSHOTS, assertPrerequisites } from './paths';

export interface Workbench {
  readonly server: CodeServer;
  readonly page: Page;
  /** Browser console lines so far (for diagnostics and the integration runner). */
  readonly console: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Load the repository as extensionDevelopmentPath (default true; false when testing an installed .vsix). */
  developmentExtension?: boolean;
  /** Absolute path of a compiled extensionTestsPath module (the integration runner uses this). */
  extensionTestsPath?: string;
  /** Called when the workbench reports the tests' exit code. */
  onExit?: (code: number) => void;
  /** Browser colour scheme; with 'dark' the workbench follows it (window.autoDetectColorScheme is on). */
  colorScheme?: 'light' | 'dark';
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The workbench URL with an optional extension-development payload. */
export function workbenchUrl(server: CodeServer, options: OpenOptions = {}): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload: [string, string][] = [];
  if (options.developmentExtension !== false) payload.push(['extensionDevelopmentPath', remote(REPO_ROOT)]);
  if (options.extensionTestsPath) payload.push(['extensionTestsPath', remote(options.extensionTestsPath)]);
  const query = new URLSearchParams({ folder: server.workspace });
  if (payload.length) query.set('payload', JSON.stringify(payload));
  return `${server.url}/?${query.toString()}`;
}

/** Starts code-server and opens its workbench in a fresh headless Chromium. Always `close()` it (in `after`). */
export async function launchWorkbench(start: StartOptions = {}, open: OpenOptions = {}): Promise<Workbench> {
  assertPrerequisites();
  const server = await startCodeServer(start);
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(path.join(server.runDir, 'chromium'), {
      executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 }, headless: true,
      colorScheme: open.colorScheme ?? 'light',
    });
    browser = context.browser() ?? undefined;
    const page = context.pages()[0] ?? (await context.newPage());
    const lines: string[] = [];
    page.on('console', (m) => lines.push(m.text()));
    if (open.onExit) {
      const onExit = open.onExit;
      await page.exposeFunction('codeAutomationExit', (code: number) => onExit(code));
    }
    await page.goto(workbenchUrl(server, open));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const ctx = context;
    return {
      server, page, console: lines,
      close: async () => {
        await ctx.close().catch(() => undefined);
        await browser?.close().catch(() => undefined);
        await server.stop();
      },
    };
  } catch (e) {
    await context?.close().catch(() => undefined);
    await server.stop();
    throw e;
  }
}

/** Opens the command palette with F1, types the command's title ("Transformer: Show Welcome") and runs it. */
export async function runPaletteCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  // A palette opened while an editor is still taking focus (just after Quick Open) can close again at once: reopen.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill(`>${title}`, { timeout: 5_000 });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.waitForTimeout(500);
    }
  }
  // Contributions of the development extension arrive a few seconds after the workbench shows: retype until listed.
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await row.waitFor({ timeout: 3_000 });
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await screenshot(page, 'palette-failure');
        throw new Error(`"${title}" is not in the command palette (see test-output/screenshots/palette-failure.png): ${(e as Error).message}`, { cause: e });
      }
      await input.fill('>');
      await input.fill(`>${title}`);
    }
  }
  await page.keyboard.press('Enter');
}

/**
 * The webview frame that contains `selector`. Webview content lives two iframes deep (iframe.webview >
 * iframe#active-frame); with several webviews open we search every frame.
 */
export async function findWebviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      const found = await frame.$(selector).catch(() => null);
      if (found) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`No webview frame contains '${selector}' after ${timeoutMs} ms`);
}

/** Saves test-output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.mouse.move(1, 400); // park the pointer where it raises no hover
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
