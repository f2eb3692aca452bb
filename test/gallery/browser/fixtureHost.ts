/**
 * Browser side of the gallery: a stand-in for VS Code's acquireVsCodeApi(). It speaks the same view protocol
 * (src/protocol/views.ts) as the real panel host: viewReady → summary notice; viewRequest → fetch the slice from the
 * gallery server (real engine) → viewResponse with typed arrays; notices are recorded in window.__notices.
 */
import { VIEW_PROTOCOL_VERSION, type AnalysisSummary, type HostToView, type ViewToHost } from '../../../src/protocol/views';

interface GalleryConfig { model: string; caseName: string; state?: unknown }
const cfg = (window as unknown as { __gallery: GalleryConfig }).__gallery;
const notices: unknown[] = [];
(window as unknown as { __notices: unknown[] }).__notices = notices;
let state: unknown = cfg.state;

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$f32 === 'string' || typeof o.$i32 === 'string') {
      const bin = atob((o.$f32 ?? o.$i32) as string);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      return o.$f32 !== undefined ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

function deliver(m: HostToView): void {
  window.dispatchEvent(new MessageEvent('message', { data: m }));
}

async function handle(m: ViewToHost): Promise<void> {
  switch (m.kind) {
    case 'viewReady': {
      const r = await fetch(`/api/summary?model=${encodeURIComponent(cfg.model)}&case=${encodeURIComponent(cfg.caseName)}`);
      const body = await r.json() as { error?: string };
      if (!r.ok) { deliver({ v: VIEW_PROTOCOL_VERSION, kind: 'hostNotice', notice: { type: 'error', message: body.error ?? r.statusText } }); return; }
      deliver({ v: VIEW_PROTOCOL_VERSION, kind: 'hostNotice', notice: { type: 'summary', summary: body as unknown as AnalysisSummary } });
      return;
    }
    case 'viewRequest': {
      const r = await fetch('/api/slice', { method: 'POST', body: JSON.stringify({ model: cfg.model, caseName: cfg.caseName, request: m.request }) });
      const body = await r.json() as { error?: string };
      deliver(r.ok ? { v: VIEW_PROTOCOL_VERSION, kind: 'viewResponse', inReplyTo: m.id, ok: true, slice: decode(body) }
        : { v: VIEW_PROTOCOL_VERSION, kind: 'viewResponse', inReplyTo: m.id, ok: false, error: body.error ?? r.statusText });
      return;
    }
    case 'viewNotice':
      notices.push(m.notice);
      return;
  }
}

(window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
  postMessage: (m: ViewToHost) => { void handle(m); },
  getState: () => state,
  setState: (s: unknown) => { state = s; },
});
