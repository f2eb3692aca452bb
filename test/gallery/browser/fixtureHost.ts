/**
 * Browser side of the gallery: a stand-in for VS Code's acquireVsCodeApi(). It speaks the same channel as the real
 * panel host (src/protocol/webview.ts viewsProtocol, validated here too): `ready` → summary notice; `view/request` →
 * fetch the slice from the gallery server (real engine) → `view/sliceResult` with typed arrays; view notices are
 * recorded in window.__notices.
 */
import { WEBVIEW_PROTOCOL_VERSION, viewsProtocol, type ViewsToWebview } from '../../../src/protocol/webview';
import type { AnalysisSummary } from '../../../src/protocol/views';

interface GalleryConfig { model: string; caseName: string; state?: unknown }
const cfg = (window as unknown as { __gallery: GalleryConfig }).__gallery;
const notices: unknown[] = [];
(window as unknown as { __notices: unknown[] }).__notices = notices;
let state: unknown = cfg.state;
let nextId = 1;

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

type Body = ViewsToWebview extends infer B ? B : never;
function deliver(body: Body, inReplyTo?: string): void {
  const data = { ...body, v: WEBVIEW_PROTOCOL_VERSION, id: `gallery-${nextId++}`, ...(inReplyTo ? { inReplyTo } : {}) };
  window.dispatchEvent(new MessageEvent('message', { data }));
}

async function handle(raw: unknown): Promise<void> {
  if (!viewsProtocol.isToHost(raw)) { console.error('[gallery] the view sent an invalid message', raw); return; }
  switch (raw.type) {
    case 'ready': {
      const r = await fetch(`/api/summary?model=${encodeURIComponent(cfg.model)}&case=${encodeURIComponent(cfg.caseName)}`);
      const body = await r.json() as { error?: string };
      if (!r.ok) { deliver({ type: 'view/notice', notice: { type: 'error', message: body.error ?? r.statusText } }); return; }
      deliver({ type: 'view/notice', notice: { type: 'summary', summary: body as unknown as AnalysisSummary } });
      return;
    }
    case 'view/request': {
      const r = await fetch('/api/slice', { method: 'POST', body: JSON.stringify({ model: cfg.model, caseName: cfg.caseName, request: raw.request }) });
      const body = await r.json() as { error?: string };
      deliver(r.ok ? { type: 'view/sliceResult', ok: true, slice: decode(body) } : { type: 'view/sliceResult', ok: false, error: body.error ?? r.statusText }, raw.id);
      return;
    }
    case 'view/notice':
      notices.push(raw.notice);
      return;
    case 'log':
      if (raw.level !== 'info') console.error(`[view ${raw.level}] ${raw.message}`);
      return;
    case 'pong':
      return;
  }
}

(window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
  postMessage: (m: unknown) => { void handle(m); },
  getState: () => state,
  setState: (s: unknown) => { state = s; },
});
