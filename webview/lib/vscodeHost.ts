/**
 * ViewHost over the VS Code webview API: requests get ids and resolve on the matching response; every message
 * received is validated first (unknown ones are logged and dropped); a newer request of the same slice kind
 * supersedes an older one (the older promise rejects with a SupersededError, which views ignore).
 */
import { isHostToView, isSliceResponse, VIEW_PROTOCOL_VERSION, type HostNotice, type SliceRequest, type SliceResponse, type ViewKind, type ViewNotice, type ViewState, type ViewToHost } from '../../src/protocol/views';
import type { ViewHost } from './host';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export class SupersededError extends Error {
  constructor() { super('superseded by a newer request'); }
}

export class VsCodeHost implements ViewHost {
  private readonly api: VsCodeApi;
  private nextId = 1;
  private readonly pending = new Map<number, { slice: SliceRequest['slice']; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly latest = new Map<string, number>();
  private readonly listeners: ((n: HostNotice) => void)[] = [];

  constructor(view: ViewKind, api: VsCodeApi = acquireVsCodeApi()) {
    this.api = api;
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    this.post({ v: VIEW_PROTOCOL_VERSION, kind: 'viewReady', view });
  }

  private post(m: ViewToHost): void {
    this.api.postMessage(m);
  }

  private receive(data: unknown): void {
    if (!isHostToView(data)) { console.warn('[transformer-explorer] dropped an unknown message', data); return; }
    if (data.kind === 'hostNotice') { for (const l of this.listeners) l(data.notice); return; }
    const p = this.pending.get(data.inReplyTo);
    if (!p) return;
    this.pending.delete(data.inReplyTo);
    if (!data.ok) { p.reject(new Error(data.error)); return; }
    if (!isSliceResponse(p.slice, data.slice)) { p.reject(new Error(`The ${p.slice} data from the extension was malformed.`)); return; }
    p.resolve(data.slice);
  }

  request<R extends SliceRequest>(req: R): Promise<SliceResponse<R['slice']>> {
    const id = this.nextId++;
    const key = req.slice;
    const older = this.latest.get(key);
    if (older !== undefined && this.pending.has(older)) { this.pending.get(older)!.reject(new SupersededError()); this.pending.delete(older); }
    this.latest.set(key, id);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { slice: req.slice, resolve: resolve as (v: unknown) => void, reject });
      this.post({ v: VIEW_PROTOCOL_VERSION, kind: 'viewRequest', id, request: req });
    });
  }

  notify(notice: ViewNotice): void {
    this.post({ v: VIEW_PROTOCOL_VERSION, kind: 'viewNotice', notice });
  }

  onNotice(fn: (n: HostNotice) => void): void {
    this.listeners.push(fn);
  }

  getState(): ViewState | undefined {
    return (this.api.getState() as ViewState | undefined) ?? undefined;
  }

  setState(state: ViewState): void {
    this.api.setState(state);
    this.notify({ type: 'state', state });
  }
}
