/**
 * Gallery server (Node, 127.0.0.1 only): serves the built view bundle (dist/webview) inside a page that fakes the
 * VS Code webview API, and answers the views' slice requests with the real engine (EngineService, the code the
 * worker runs). Before serving a case it checks the engine's attention against the fixture's reference tensors,
 * so the pictures show reference-correct numbers. Nothing is written to the repo; data lives in memory.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { EngineService, type AnalyzeResult } from '../../src/engine/service';
import { SafetensorsFile } from '../../src/engine/safetensors';
import type { AnalysisSummary, AttentionSlice, SliceRequest } from '../../src/protocol/views';
import { isSliceRequest } from '../../src/protocol/views';
import { THEMES } from './themes';

export const ROOT = path.resolve(__dirname, '../..');
export const MODELS = process.env.TE_MODELS_DIR ?? path.resolve(ROOT, '../shared/models');

interface RefCase { name: string; text: string; target_text?: string; tensors: Record<string, number[]>; attn_query_positions: number[] | null }

interface Loaded { summary: AnalysisSummary; traceId: string; maxAttnDiff: number; service: EngineService }

/** One service per model: a service holds one model and drops its traces when another is loaded. */
const services = new Map<string, EngineService>();
const serviceFor = (model: string) => { if (!services.has(model)) services.set(model, new EngineService()); return services.get(model)!; };
const loaded = new Map<string, Promise<Loaded>>();
const sink = { progress: () => undefined, isCancelled: () => false };

function encode(value: unknown): unknown {
  if (value instanceof Float32Array) return { $f32: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Int32Array) return { $i32: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

/** Analyses one reference case with the engine and checks every layer's attention against the reference (≤ 5e-5). */
async function load(model: string, caseName: string): Promise<Loaded> {
  const dir = path.join(MODELS, model);
  const cases = JSON.parse(fs.readFileSync(path.join(dir, 'reference', 'cases.json'), 'utf8')) as RefCase[];
  const c = cases.find((x) => x.name === caseName);
  if (!c) throw new Error(`no case ${caseName} in ${model}`);
  const service = serviceFor(model);
  const r: AnalyzeResult = await service.analyze({ dir, text: c.text, target: c.target_text }, sink);
  const ref = SafetensorsFile.open(path.join(dir, 'reference', `${c.name}.safetensors`));
  let maxDiff = 0;
  try {
    const stacks: [string, 'self' | 'encoder' | 'decoder' | 'cross'][] = r.targetTokens
      ? [['encoder.attn', 'encoder'], ['decoder.self_attn', 'decoder'], ['decoder.cross_attn', 'cross']] : [['attn', 'self']];
    for (const [prefix, stack] of stacks) {
      for (let l = 0; ref.tensors.has(`${prefix}.${l}`); l++) {
        const want = ref.read(`${prefix}.${l}`);
        const [H, nq, nk] = ref.tensors.get(`${prefix}.${l}`)!.shape;
        const got = service.slice(r.traceId, { slice: 'attention', query: { stack, layer: l, aggregation: 'head', heads: Array.from({ length: H }, (_, h) => h) } }) as AttentionSlice;
        const rows = c.attn_query_positions ?? Array.from({ length: nq }, (_, i) => i);
        for (let h = 0; h < H; h++) rows.forEach((q, qi) => {
          for (let k = 0; k < nk; k++) maxDiff = Math.max(maxDiff, Math.abs(got.matrices[h].data[q * got.nk + k] - want[(h * nq + qi) * nk + k]));
        });
      }
    }
  } finally {
    ref.close();
  }
  if (!(maxDiff <= 5e-5)) throw new Error(`${model}/${caseName}: engine attention differs from the reference by ${maxDiff}`);
  const info = r.model.info;
  const summary: AnalysisSummary = {
    analysisId: r.traceId,
    model: { name: model, family: info.family, kind: info.kind, nLayers: info.n_layers, nHeads: info.n_heads, nKvHeads: info.n_kv_heads, dHead: info.d_head, dModel: info.d_model, positional: info.positional },
    document: `${caseName}.txt`, text: c.text, tokens: r.tokens,
    targetText: r.targetTokens ? c.target_text : undefined, targetTokens: r.targetTokens,
    stale: false, elapsedMs: r.elapsedMs,
  };
  return { summary, traceId: r.traceId, maxAttnDiff: maxDiff, service };
}

function get(model: string, caseName: string): Promise<Loaded> {
  const key = `${model}/${caseName}`;
  if (!loaded.has(key)) loaded.set(key, load(model, caseName));
  return loaded.get(key)!;
}

function page(view: string, theme: string, model: string, caseName: string, state: string): string {
  const t = THEMES.find((x) => x.name === theme) ?? THEMES[0];
  const vars = Object.entries(t.vars).map(([k, v]) => `${k}: ${v};`).join(' ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
  return `<!DOCTYPE html><html lang="en" style="${esc(vars)}"><head><meta charset="utf-8">
<link rel="stylesheet" href="/dist/webview/views.css">
<script>window.__gallery = ${JSON.stringify({ model, caseName, state: state ? JSON.parse(state) : undefined })};</script>
<script src="/fixture-host.js"></script>
<script type="module" src="/dist/webview/views.js"></script>
</head><body class="${t.bodyClass}"><div id="root" data-view="${esc(view)}"></div></body></html>`;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

export function startGallery(fixtureHostJs: string, port = 0): Promise<{ url: string; close: () => Promise<void>; get: typeof get }> {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/') {
        const q = url.searchParams;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page(q.get('view') ?? 'tokens', q.get('theme') ?? 'dark', q.get('model') ?? 'stories260K', q.get('case') ?? 'long', q.get('state') ?? ''));
        return;
      }
      if (url.pathname === '/favicon.ico') { res.writeHead(204).end(); return; }
      if (url.pathname === '/fixture-host.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(fs.readFileSync(fixtureHostJs));
        return;
      }
      if (url.pathname.startsWith('/dist/webview/')) {
        const file = path.join(ROOT, 'dist', 'webview', path.basename(url.pathname));
        if (!fs.existsSync(file)) { res.writeHead(404).end(); return; }
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
        res.end(fs.readFileSync(file));
        return;
      }
      if (url.pathname === '/api/summary') {
        const l = await get(url.searchParams.get('model')!, url.searchParams.get('case')!);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(l.summary));
        return;
      }
      if (url.pathname === '/api/slice' && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const { model, caseName, request } = JSON.parse(body) as { model: string; caseName: string; request: SliceRequest };
        if (!isSliceRequest(request)) { res.writeHead(400).end(JSON.stringify({ error: 'malformed slice request' })); return; }
        const l = await get(model, caseName);
        const t0 = performance.now();
        const slice = l.service.slice(l.traceId, request);
        res.writeHead(200, { 'content-type': 'application/json', 'x-slice-ms': String(Math.round(performance.now() - t0)) });
        res.end(JSON.stringify(encode(slice)));
        return;
      }
      res.writeHead(404).end();
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: (e as Error).message }));
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    const addr = server.address() as { port: number };
    resolve({ url: `http://127.0.0.1:${addr.port}`, close: () => new Promise((r) => server.close(() => r())), get });
  }));
}
