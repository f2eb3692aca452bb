/**
 * The side-panel explorer page: renders the host's ExplorerState (model, analysis, controls, layers → heads tree,
 * recent analyses) and sends intents back. DOM is built with textContent only (model and file names are data).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-tree/index.js';
import '@vscode-elements/elements/dist/vscode-tree-item/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import './explorer.css';
import { explorerProtocol, type ExplorerControls, type ExplorerState, type ExplorerToHost, type ExplorerToWebview } from '../../src/protocol/explorer';
import { assertNever } from '../../src/protocol/webview';
import { connectToHost } from '../common/hostChannel';
import { formatCount, formatMs } from './format';

type Intent = Extract<ExplorerToHost, { type: `explorer/${string}` }>;

const app = document.getElementById('app') as HTMLElement;
/** Layers the user expanded in the tree (kept across re-renders and reloads). */
interface PageState { open: number[] }

const channel = connectToHost<ExplorerToWebview, ExplorerToHost>('explorer', explorerProtocol, (m) => {
  switch (m.type) {
    case 'explorer/state':
      render(m.state);
      return;
    default:
      assertNever(m.type);
  }
});
const saved = channel.vscode.getState() as PageState | undefined;
const openLayers = new Set<number>(Array.isArray(saved?.open) ? saved.open.filter((x) => Number.isInteger(x)) : []);
const send = (m: Intent) => channel.endpoint.post(m);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: (Node | string | undefined)[]): HTMLElementTagNameMap[K];
function el(tag: string, attrs?: Record<string, string>, ...children: (Node | string | undefined)[]): HTMLElement;
function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string | undefined)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== undefined) e.append(c);
  return e;
}

function button(label: string, testId: string, onClick: () => void, opts: { secondary?: boolean; icon?: string } = {}): HTMLElement {
  const b = el('vscode-button', { 'data-testid': testId, ...(opts.secondary ? { secondary: '' } : {}), ...(opts.icon ? { icon: opts.icon } : {}) }, label);
  b.addEventListener('click', onClick);
  return b;
}

function facts(rows: [string, string | undefined, string?][]): HTMLElement {
  const dl = el('dl', { class: 'facts' });
  for (const [k, v, id] of rows) {
    if (v === undefined) continue;
    dl.append(el('dt', {}, k), el('dd', id ? { 'data-testid': id, title: v } : { title: v }, v));
  }
  return dl;
}

function section(title: string, testId: string, ...body: (Node | undefined)[]): HTMLElement {
  return el('section', { 'data-testid': testId }, el('h2', {}, title), ...body);
}

function modelSection(s: ExplorerState): HTMLElement {
  const m = s.model;
  const d = m.details;
  const head = el('div', { class: 'row' }, el('strong', { class: 'name', 'data-testid': 'model-name', title: m.setting }, m.name),
    button('Select Model…', 'select-model', () => send({ type: 'explorer/selectModel' }), { secondary: true }));
  const body = d
    ? facts([
      ['Family', `${d.family} (${d.kind})`, 'model-family'],
      ['Architecture', d.architecture],
      ['Layers', String(d.layers), 'model-layers'],
      ['Heads', d.kvHeads !== d.heads ? `${d.heads} (${d.kvHeads} kv)` : String(d.heads), 'model-heads'],
      ['d_model', String(d.dModel)],
      ['Vocabulary', d.vocab.toLocaleString('en-US')],
      ['Parameters', formatCount(d.params)],
      ['Context', `${d.context.toLocaleString('en-US')} tokens`],
      ['Positions', d.positional],
      ['Kernels', d.kernels],
      ['Loaded from', m.dir, 'model-dir'],
    ])
    : facts([['Status', m.status, 'model-status'], ['Folder', m.dir, 'model-dir']]);
  const note = !d && m.status === 'installed'
    ? el('div', { class: 'row wrap' }, el('span', { class: 'muted grow' }, 'Details appear after loading the model.'),
      button('Load model', 'load-model', () => send({ type: 'explorer/loadModel' }), { secondary: true }))
    : undefined;
  return section('Model', 'model-section', head, body, note);
}

function analysisSection(s: ExplorerState): HTMLElement {
  const a = s.analysis;
  const busy = s.busy
    ? el('div', { class: 'row busy', 'data-testid': 'busy' }, el('vscode-progress-ring', {}), el('span', { class: 'grow' }, s.progress ?? 'Working…'),
      button('Cancel', 'cancel', () => send({ type: 'explorer/cancel' }), { secondary: true }))
    : undefined;
  if (!a) {
    return section('Analysis', 'analysis-section', busy, el('p', { class: 'muted' }, 'Select text in an editor (or nothing, for the whole file), then analyse it.'),
      el('div', { class: 'row' }, button('Analyze Selection', 'analyze', () => send({ type: 'explorer/analyze' }), { icon: 'play' })));
  }
  const title = el('div', { class: 'row' }, el('strong', { class: 'name', 'data-testid': 'analysis-document', title: a.document }, a.document),
    a.stale ? el('vscode-badge', { 'data-testid': 'stale-badge', variant: 'counter', title: 'The text changed since it was analysed' }, 'stale') : undefined);
  const rows = facts([
    ['Range', a.range, 'analysis-range'],
    ['Tokens', String(a.tokens), 'analysis-tokens'],
    ['Time', formatMs(a.elapsedMs), 'analysis-time'],
    ['Truncated', a.truncated],
  ]);
  const actions = el('div', { class: 'row wrap' },
    button(a.stale ? 'Re-run' : 'Run again', 'rerun', () => send({ type: 'explorer/rerun' }), { icon: 'refresh', secondary: !a.stale }),
    button('Analyze Selection', 'analyze', () => send({ type: 'explorer/analyze' }), { icon: 'play', secondary: a.stale }));
  return section('Analysis', 'analysis-section', busy, title, rows, actions);
}

function select(testId: string, label: string, options: [string, string][], value: string, onChange: (v: string) => void): HTMLElement {
  const sel = el('vscode-single-select', { 'data-testid': testId, 'aria-label': label });
  for (const [v, text] of options) {
    const o = el('vscode-option', { value: v }, text);
    if (v === value) o.setAttribute('selected', '');
    sel.append(o);
  }
  sel.addEventListener('change', () => onChange((sel as unknown as { value: string }).value));
  return el('label', { class: 'control' }, el('span', {}, label), sel);
}

function numberField(testId: string, label: string, value: number, min: number, max: number, step: number, onChange: (v: number) => void): HTMLElement {
  const f = el('vscode-textfield', { 'data-testid': testId, type: 'number', min: String(min), max: String(max), step: String(step), value: String(value), 'aria-label': label });
  f.addEventListener('change', () => {
    const v = Number((f as unknown as { value: string }).value);
    if (Number.isFinite(v) && v >= min && v <= max) onChange(v);
  });
  return el('label', { class: 'control' }, el('span', {}, label), f);
}

function controlsSection(s: ExplorerState): HTMLElement {
  const c = s.controls;
  const layers = s.analysis?.layers ?? s.model.details?.layers ?? c.layer + 1;
  const heads = s.analysis?.heads ?? s.model.details?.heads ?? (c.head ?? 0) + 1;
  const set = (patch: Partial<ExplorerControls>) => send({ type: 'explorer/setControls', patch });
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  return section('Controls', 'controls-section', el('div', { class: 'controls' },
    select('control-layer', 'Layer', range(layers).map((i) => [String(i), String(i)]), String(c.layer), (v) => set({ layer: Number(v) })),
    select('control-head', 'Head', [['all', 'All heads'], ...range(heads).map((i): [string, string] => [String(i), String(i)])], c.head === null ? 'all' : String(c.head),
      (v) => set(v === 'all' ? { head: null, aggregation: c.aggregation === 'head' ? 'mean' : c.aggregation } : { head: Number(v), aggregation: 'head' })),
    select('control-aggregation', 'Aggregation', [['head', 'One head'], ['mean', 'Mean of heads'], ['max', 'Max of heads'], ['rollout', 'Rollout']], c.aggregation,
      (v) => set({ aggregation: v as ExplorerControls['aggregation'] })),
    numberField('control-topk', 'Top-k', c.topK, 1, 50, 1, (v) => set({ topK: Math.round(v) })),
    numberField('control-temperature', 'Temperature', c.temperature, 0.05, 10, 0.05, (v) => set({ temperature: v })),
  ));
}

function treeSection(s: ExplorerState): HTMLElement | undefined {
  const layers = s.analysis?.layers ?? s.model.details?.layers;
  const heads = s.analysis?.heads ?? s.model.details?.heads;
  if (!layers || !heads) return undefined;
  const tree = el('vscode-tree', { 'data-testid': 'head-tree', 'aria-label': 'Layers and heads' });
  for (let l = 0; l < layers; l++) {
    const layer = el('vscode-tree-item', { 'data-layer': String(l), 'data-testid': `layer-${l}` }, `Layer ${l}`);
    layer.append(el('span', { slot: 'description' }, `${heads} heads`));
    if (openLayers.has(l)) layer.setAttribute('open', '');
    for (let h = 0; h < heads; h++) {
      const item = el('vscode-tree-item', { slot: 'children', 'data-layer': String(l), 'data-head': String(h), 'data-testid': `head-${l}-${h}` }, `Head ${h}`);
      if (s.controls.layer === l && s.controls.head === h) item.append(el('span', { slot: 'description' }, 'selected'));
      layer.append(item);
    }
    tree.append(layer);
  }
  tree.addEventListener('vsc-tree-select', (e) => {
    // vscode-elements 2.x sends the selected items as the detail array (its typings say {selectedItems}).
    const detail = (e as CustomEvent<HTMLElement[] | { selectedItems: HTMLElement[] }>).detail;
    const item = (Array.isArray(detail) ? detail : detail.selectedItems)[0];
    const head = item?.dataset.head;
    const layer = item?.dataset.layer;
    if (layer === undefined) return;
    if (head === undefined) return;
    send({ type: 'explorer/openHead', layer: Number(layer), head: Number(head) });
  });
  // Remember which layers are open (the tree toggles the `open` attribute itself).
  new MutationObserver(() => {
    openLayers.clear();
    tree.querySelectorAll<HTMLElement>('vscode-tree-item[data-layer]:not([data-head])').forEach((i) => {
      if (i.hasAttribute('open')) openLayers.add(Number(i.dataset.layer));
    });
    channel.vscode.setState({ open: [...openLayers] } satisfies PageState);
  }).observe(tree, { attributes: true, subtree: true, attributeFilter: ['open'] });
  return section('Layers → heads', 'tree-section', el('p', { class: 'muted' }, 'Pick a head to open the attention view on it.'), tree);
}

function recentSection(s: ExplorerState): HTMLElement | undefined {
  if (s.recent.length === 0) return undefined;
  const list = el('ul', { class: 'recent', 'data-testid': 'recent' });
  s.recent.forEach((r, i) => {
    const a = el('a', { href: '#', 'data-testid': `recent-${i}`, title: `Analyse ${r.label} again` }, r.label);
    a.addEventListener('click', (e) => {
      e.preventDefault();
      send({ type: 'explorer/reopenRecent', index: i });
    });
    list.append(el('li', {}, a, el('span', { class: 'muted small' }, r.detail)));
  });
  return section('Recent', 'recent-section', list);
}

function render(s: ExplorerState): void {
  app.replaceChildren(
    el('h1', { class: 'visually-hidden' }, 'Transformer Explorer'),
    modelSection(s),
    analysisSection(s),
    controlsSection(s),
    ...[treeSection(s), recentSection(s)].filter((x): x is HTMLElement => x !== undefined),
  );
}

channel.ready();
