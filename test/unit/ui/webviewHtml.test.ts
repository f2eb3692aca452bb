import { describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import { contentSecurityPolicy, escapeHtml, renderWebviewHtml, webviewOptions, type WebviewLike } from '../../../src/ui/webviewHtml';

/** Just enough of vscode.Uri for the helper (it only uses .path, .with and toString). */
class FakeUri {
  constructor(readonly scheme: string, readonly path: string) {}
  with(change: { path?: string }): FakeUri {
    return new FakeUri(this.scheme, change.path ?? this.path);
  }
  toString(): string {
    return `${this.scheme}://ext${this.path}`;
  }
}
const extensionUri = new FakeUri('file', '/ext/root') as unknown as vscode.Uri;
const CSP_SOURCE = 'https://webview.test';
const webview: WebviewLike = {
  cspSource: CSP_SOURCE,
  asWebviewUri: (u: vscode.Uri) => new FakeUri('https', `/webview${u.path}`) as unknown as vscode.Uri,
};

function parseCsp(html: string): Map<string, string[]> {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  expect(m, 'CSP meta tag').not.toBeNull();
  return new Map(m![1].split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
}

describe('webview HTML helper', () => {
  const html = renderWebviewHtml(webview, extensionUri, { title: 'T <x>', scripts: ['welcome'], styles: ['media/webview.css'], body: '<h1>Hi</h1>' });
  const csp = parseCsp(html);
  const nonce = /nonce-([^']+)'/.exec(csp.get('script-src')!.join(' '))![1];

  it("starts from default-src 'none' and allows scripts only with the nonce", () => {
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual([`'nonce-${nonce}'`]);
    expect(nonce.length).toBeGreaterThanOrEqual(16);
  });

  it('loads styles, fonts and images only from the webview origin', () => {
    expect(csp.get('style-src')).toEqual([CSP_SOURCE, `'nonce-${nonce}'`]);
    expect(csp.get('font-src')).toEqual([CSP_SOURCE]);
    expect(csp.get('img-src')).toEqual([CSP_SOURCE, 'data:']);
  });

  it('names no remote origin and no unsafe source', () => {
    for (const [directive, values] of csp) {
      for (const v of values) {
        expect(v, `${directive} ${v}`).not.toMatch(/unsafe-(inline|eval)|^\*$|^https?:$/);
        if (/^https?:\/\//.test(v)) expect(v).toBe(CSP_SOURCE);
      }
    }
  });

  it('puts the nonce on every script and loads every file through asWebviewUri', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBe(2); // litNonce + the bundle
    for (const attrs of scripts) expect(attrs).toContain(`nonce="${nonce}"`);
    expect(html).toContain('src="https://ext/webview/ext/root/dist/webview/welcome.js"');
    expect(html).toContain('href="https://ext/webview/ext/root/dist/webview/welcome.css"');
    expect(html).toContain('href="https://ext/webview/ext/root/media/webview.css"');
    expect(html).toMatch(/<link id="vscode-codicon-stylesheet" rel="stylesheet" href="https:\/\/ext\/webview\/ext\/root\/dist\/webview\/codicon.css">/);
    expect(html).not.toMatch(/(src|href)="(?!https:\/\/ext\/webview\/)/);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline handlers (the CSP would block them anyway)
  });

  it('uses a fresh nonce per render and escapes the title', () => {
    const again = renderWebviewHtml(webview, extensionUri, { title: 'x' });
    expect(again).not.toContain(nonce);
    expect(html).toContain('<title>T &lt;x&gt;</title>');
    expect(escapeHtml(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });

  it('limits localResourceRoots to dist/webview and media', () => {
    const opts = webviewOptions(extensionUri);
    expect(opts.enableScripts).toBe(true);
    expect(opts.localResourceRoots?.map((u) => u.path)).toEqual(['/ext/root/dist/webview', '/ext/root/media']);
  });

  it('builds the policy string deterministically', () => {
    expect(contentSecurityPolicy('S', 'N')).toBe("default-src 'none'; style-src S 'nonce-N'; font-src S; img-src S data:; script-src 'nonce-N'");
  });
});
