/**
 * The webview end of a typed channel to the extension host. Call `connectToHost` once per webview (it owns the
 * single allowed `acquireVsCodeApi()`): it validates every message from the host, answers `ping` with `pong`,
 * forwards uncaught errors to the host's log, and sends `ready` once the page's handlers are attached.
 */
import { Body, CommonToHost, CommonToWebview, Message, MessageEndpoint, Protocol } from '../../src/protocol/webview';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export interface HostChannel<ToWebview extends Body, ToHost extends Body> {
  readonly endpoint: MessageEndpoint<ToHost | CommonToHost, ToWebview>;
  readonly vscode: VsCodeApi;
  /** Tell the host the page is wired up; call after registering everything. */
  ready(): void;
}

export function connectToHost<ToWebview extends Body, ToHost extends Body>(
  view: string,
  protocol: Protocol<ToWebview, ToHost>,
  /** Every valid message except `ping` (answered here). */
  onMessage: (message: Message<Exclude<ToWebview, CommonToWebview>>) => void,
): HostChannel<ToWebview, ToHost> {
  const vscode = acquireVsCodeApi();
  const endpoint = new MessageEndpoint<ToHost | CommonToHost, ToWebview>(
    view,
    {
      send: (m) => vscode.postMessage(m),
      onInvalid: (reason) => endpoint.post({ type: 'log', level: 'warn', message: `${view}: dropped a message from the host: ${reason}` }),
    },
    protocol.isToWebview,
    protocol.toWebview,
    (m) => {
      if (m.type === 'ping') {
        const ping = m as unknown as Message<CommonToWebview>;
        const heading = document.querySelector('h1')?.textContent?.trim() ?? '';
        endpoint.post({ type: 'pong', sentAt: ping.sentAt, heading }, ping.id);
        return;
      }
      onMessage(m as Message<Exclude<ToWebview, CommonToWebview>>);
    },
  );
  window.addEventListener('message', (e: MessageEvent<unknown>) => endpoint.receive(e.data));
  window.addEventListener('error', (e) => endpoint.post({ type: 'log', level: 'error', message: `${view}: ${e.message}` }));
  window.addEventListener('unhandledrejection', (e) => endpoint.post({ type: 'log', level: 'error', message: `${view}: ${String(e.reason)}` }));
  return { endpoint, vscode, ready: () => endpoint.post({ type: 'ready', view }) };
}
