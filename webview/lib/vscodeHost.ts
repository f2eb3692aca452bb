/**
 * ViewHost over the VS Code webview API and the shared channel (src/protocol/webview.ts: envelope, ids,
 * request/response, validation of every message received; invalid ones are logged and dropped). A newer request
 * of the same slice kind supersedes an older one: the older promise rejects with SupersededError, which views ignore.
 */
import { MessageEndpoint, assertNever, viewsProtocol, type Message, type ViewsToHost, type ViewsToWebview } from '../../src/protocol/webview';
import { isSliceResponse, type HostNotice, type SliceRequest, type SliceResponse, type ViewKind, type ViewNotice, type ViewState } from '../../src/protocol/views';
import type { ViewHost } from './host';

export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export class SupersededError extends Error {
  constructor() { super('superseded by a newer request'); }
}

/** Slices can take a while on long inputs (rollout over many layers, logit lens): wait up to two minutes. */
const SLICE_TIMEOUT_MS = 120_000;

export class VsCodeHost implements ViewHost {
  private readonly endpoint: MessageEndpoint<ViewsToHost, ViewsToWebview>;
  private readonly latest = new Map<string, number>();
  private seq = 0;
  private readonly listeners: ((n: HostNotice) => void)[] = [];

  constructor(view: ViewKind, private readonly api: VsCodeApi = acquireVsCodeApi()) {
    this.endpoint = new MessageEndpoint<ViewsToHost, ViewsToWebview>(
      view,
      {
        send: (m) => api.postMessage(m),
        onInvalid: (reason) => {
          console.warn(`[transformer-explorer] dropped a message: ${reason}`);
          this.endpoint.post({ type: 'log', level: 'warn', message: `${view} view dropped a message: ${reason}` });
        },
      },
      viewsProtocol.isToWebview,
      viewsProtocol.toWebview,
      (m) => this.onMessage(m),
    );
    window.addEventListener('message', (e: MessageEvent) => this.endpoint.receive(e.data));
    window.addEventListener('error', (e) => this.endpoint.post({ type: 'log', level: 'error', message: `${view} view: ${e.message}` }));
    window.addEventListener('unhandledrejection', (e) => this.endpoint.post({ type: 'log', level: 'error', message: `${view} view: ${e.reason instanceof Error ? `${e.reason.message}\n${e.reason.stack ?? ''}` : String(e.reason)}` }));
    this.endpoint.post({ type: 'ready', view });
  }

  private onMessage(m: Message<ViewsToWebview>): void {
    switch (m.type) {
      case 'ping':
        this.endpoint.post({ type: 'pong', sentAt: m.sentAt, heading: document.querySelector('h1')?.textContent ?? '' }, m.id);
        return;
      case 'view/notice':
        for (const l of this.listeners) l(m.notice);
        return;
      case 'view/sliceResult':
        return; // a late reply to a request that timed out
      default:
        assertNever(m);
    }
  }

  async request<R extends SliceRequest>(req: R): Promise<SliceResponse<R['slice']>> {
    const mine = ++this.seq;
    this.latest.set(req.slice, mine);
    const reply = await this.endpoint.request({ type: 'view/request', request: req }, 'view/sliceResult', SLICE_TIMEOUT_MS);
    if (this.latest.get(req.slice) !== mine) throw new SupersededError();
    if (!reply.ok) throw new Error(reply.error);
    if (!isSliceResponse(req.slice, reply.slice)) throw new Error(`The ${req.slice} data from the extension was malformed.`);
    return reply.slice as SliceResponse<R['slice']>;
  }

  notify(notice: ViewNotice): void {
    this.endpoint.post({ type: 'view/notice', notice });
  }

  onNotice(fn: (n: HostNotice) => void): void {
    this.listeners.push(fn);
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.endpoint.post({ type: 'log', level, message: message.slice(0, 10_000) });
  }

  getState(): ViewState | undefined {
    return (this.api.getState() as ViewState | undefined) ?? undefined;
  }

  setState(state: ViewState): void {
    this.api.setState(state);
    this.notify({ type: 'state', state });
  }
}
