/**
 * The one HTML builder for every panel and view: a strict Content-Security-Policy (`default-src 'none'`, scripts only
 * with a fresh nonce, styles/images/fonts only from the webview's own origin), every local file through
 * `asWebviewUri`, and `localResourceRoots` limited to dist/webview and media.
 * Only `import type` from vscode, so unit tests can check the output in plain Node.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type * as vscode from 'vscode';

/** Folders (relative to the extension root) a webview may load from. Nothing else is reachable. */
export const WEBVIEW_RESOURCE_DIRS = ['dist/webview', 'media'] as const;

/** The subset of vscode.Webview the builder uses. */
export type WebviewLike = Pick<vscode.Webview, 'cspSource' | 'asWebviewUri'>;

export interface WebviewPage {
  /** Document title (screen readers, dev tools). */
  readonly title: string;
  /** Bundle names under dist/webview: 'welcome' loads dist/webview/welcome.js (+ welcome.css when `bundleCss`). */
  readonly scripts?: readonly string[];
  /** Also link dist/webview/<script>.css (esbuild emits it when the bundle imports CSS). Default true. */
  readonly bundleCss?: boolean;
  /** Extra stylesheets, relative to the extension root (e.g. 'media/webview.css'). */
  readonly styles?: readonly string[];
  /** Link the codicon font as `#vscode-codicon-stylesheet`, which `<vscode-icon>` and icon buttons need. Default true. */
  readonly codicons?: boolean;
  /** Trusted body HTML (callers escape any data with `escapeHtml`). */
  readonly body?: string;
}

export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return WEBVIEW_RESOURCE_DIRS.map((dir) => joinPath(extensionUri, dir));
}

/** Options for createWebviewPanel / webviewView.webview.options. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: webviewResourceRoots(extensionUri) };
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function renderWebviewHtml(webview: WebviewLike, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = makeNonce();
  const uri = (rel: string) => escapeHtml(webview.asWebviewUri(joinPath(extensionUri, rel)).toString());
  const scripts = page.scripts ?? [];
  const styles = [
    ...(page.styles ?? []),
    ...(page.bundleCss === false ? [] : scripts.map((s) => `dist/webview/${s}.css`)),
  ];
  const links = [
    ...(page.codicons === false ? [] : [`<link id="vscode-codicon-stylesheet" rel="stylesheet" href="${uri('dist/webview/codicon.css')}">`]),
    ...styles.map((s) => `<link rel="stylesheet" href="${uri(s)}">`),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(page.title)}</title>
${links.join('\n')}
<script nonce="${nonce}">window.litNonce = ${JSON.stringify(nonce)};</script>
</head>
<body>
${page.body ?? ''}
${scripts.map((s) => `<script type="module" nonce="${nonce}" src="${uri(`dist/webview/${s}.js`)}"></script>`).join('\n')}
</body>
</html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Uri.joinPath without a runtime import of vscode (Uri.with is an instance method). */
function joinPath(base: vscode.Uri, rel: string): vscode.Uri {
  return base.with({ path: posix.join(base.path, rel) });
}
