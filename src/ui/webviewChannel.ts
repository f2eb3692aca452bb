/**
 * Connects a vscode.Webview to a typed protocol endpoint: every message from the webview is validated before
 * dispatch; invalid ones are logged (with the reason) and dropped.
 */
import * as vscode from 'vscode';
import { Body, Message, MessageEndpoint, Protocol } from '../protocol/webview';

export interface WebviewChannel<ToWebview extends Body, ToHost extends Body> extends vscode.Disposable {
  readonly endpoint: MessageEndpoint<ToWebview, ToHost>;
}

export function connectWebview<ToWebview extends Body, ToHost extends Body>(
  webview: vscode.Webview,
  protocol: Protocol<ToWebview, ToHost>,
  log: vscode.LogOutputChannel,
  onMessage: (message: Message<ToHost>) => void,
): WebviewChannel<ToWebview, ToHost> {
  const endpoint = new MessageEndpoint<ToWebview, ToHost>(
    'host',
    {
      send: (m) => webview.postMessage(m),
      onInvalid: (reason, raw) => log.warn(`Dropped a message from a webview: ${reason}. ${preview(raw)}`),
    },
    protocol.isToHost,
    protocol.toHost,
    onMessage,
  );
  const subscription = webview.onDidReceiveMessage((raw) => endpoint.receive(raw));
  return {
    endpoint,
    dispose: () => {
      subscription.dispose();
      endpoint.dispose();
    },
  };
}

function preview(raw: unknown): string {
  try {
    return (JSON.stringify(raw) ?? String(raw)).slice(0, 200);
  } catch {
    return '(unserialisable)';
  }
}
