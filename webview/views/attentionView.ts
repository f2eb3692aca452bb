/**
 * Attention view: layer/head selectors, four ways to look (lines, heatmap, all heads, math of one head),
 * aggregation (head, mean, max, rollout), top-k/threshold filter, chosen query tokens (summed), hide special
 * tokens, and painting attention from the chosen queries onto the editor text.
 */
import { filterEdges, filterMatrix, maxValue, selectSubmatrix, sumRows } from '../../src/engine/analysis/attention';
import type { Aggregation, AnalysisSummary, AttentionSlice, AttentionStack, HeadMathSlice, ViewState, ViewToken } from '../../src/protocol/views';
import { headColors, sequentialScale, type SequentialScale } from '../lib/color';
import { clear, h } from '../lib/dom';
import { canvasToPng, serializeSvg, svgToPng } from '../lib/export';
import { HeadGrid } from '../lib/headGrid';
import { HeadMathPanel } from '../lib/headMath';
import { HeadView } from '../lib/headView';
import { Heatmap } from '../lib/heatmap';
import { formatValue } from '../lib/layout';
import { legend } from '../lib/legend';
import { TokenChips } from '../lib/tokenChips';
import type { ExportData, ViewContext, ViewImpl } from './context';
import { tokenLabels } from './tokenLabels';
import { checkbox, numberField, select, tabs } from './controls';

type Mode = 'lines' | 'heatmap' | 'grid' | 'math';
const MODES: { id: Mode; label: string }[] = [
  { id: 'lines', label: 'Lines' }, { id: 'heatmap', label: 'Heatmap' }, { id: 'grid', label: 'All heads' }, { id: 'math', label: 'Math of one head' },
];

export class AttentionView implements ViewImpl {
  readonly title = 'Attention';
  private s?: AnalysisSummary;
  private readonly chips = new TokenChips({ selectable: true });
  private readonly heatmap = new Heatmap('Attention heatmap: query rows × key columns');
  private readonly headView = new HeadView();
  private readonly grid = new HeadGrid();
  private readonly math = new HeadMathPanel();
  private readonly legendSlot = h('div', { class: 'te-legend-slot' });
  private readonly stage = h('div', { class: 'te-stage' });
  private readonly caption = h('p', { class: 'te-caption', 'aria-live': 'polite' });
  private slice?: AttentionSlice;
  private mathSlice?: HeadMathSlice;
  private highlighted: readonly number[] = [];
  private seq = 0;

  constructor(private readonly ctx: ViewContext) {
    ctx.shell.body.append(h('div', { class: 'te-query-chips' }, h('span', { class: 'te-hint' }, 'Query tokens (click to choose, Ctrl/Shift-click for several — their attention is summed):'), this.chips.el), this.caption, this.stage, this.legendSlot);
    this.chips.el.addEventListener('te-token-toggle', (e) => this.toggleQuery((e as CustomEvent<{ indices: number[]; additive: boolean }>).detail));
    this.headView.el.addEventListener('te-token-toggle', (e) => this.toggleQuery((e as CustomEvent<{ indices: number[]; additive: boolean }>).detail));
    this.heatmap.el.addEventListener('te-cell-select', (e) => this.toggleQuery({ indices: [this.rowIndex((e as CustomEvent<{ row: number }>).detail.row)], additive: false }));
    this.heatmap.el.addEventListener('te-cell-hover', (e) => this.linkCell((e as CustomEvent<{ row: number; col: number }>).detail));
    this.heatmap.el.addEventListener('te-cell-leave', () => ctx.host.notify({ type: 'leaveToken' }));
    this.heatmap.el.addEventListener('te-zoom', (e) => ctx.save({ zoom: (e as CustomEvent<{ cell: number }>).detail.cell }));
    this.grid.el.addEventListener('te-open-head', (e) => {
      const { layer, head } = (e as CustomEvent<{ layer: number; head: number }>).detail;
      ctx.save({ layer, head, heads: [head], aggregation: 'head', mode: 'heatmap' });
      this.buildControls();
      void this.refresh();
    });
    document.addEventListener('keydown', (e) => this.onKey(e));
  }

  private get st(): Required<Pick<ViewState, 'layer' | 'head' | 'aggregation' | 'topK' | 'threshold' | 'hideSpecial' | 'stack'>> & { heads: number[]; queries: number[]; mode: Mode } {
    const s = this.ctx.state();
    const n = this.s?.model.nHeads ?? 1;
    const head = Math.min(s.head ?? 0, n - 1);
    return {
      layer: Math.min(s.layer ?? 0, Math.max(0, (this.s?.model.nLayers ?? 1) - 1)), head,
      heads: (s.heads ?? [head]).filter((x) => x < n),
      aggregation: s.aggregation ?? 'head', topK: s.topK ?? 0, threshold: s.threshold ?? 0, hideSpecial: s.hideSpecial ?? false,
      stack: s.stack ?? (this.s?.model.kind === 'encoder-decoder' ? 'encoder' : 'self'),
      queries: [...(s.queries ?? [])], mode: (MODES.some((m) => m.id === s.mode) ? s.mode : 'lines') as Mode,
    };
  }

  setSummary(s: AnalysisSummary): void {
    this.s = s;
    const st = this.st;
    const n = this.queryTokens().length;
    this.ctx.save({ queries: st.queries.filter((q) => q < n) });
    this.buildControls();
    this.setChips();
    void this.refresh();
  }

  private setChips(): void {
    this.chips.setTokens(this.queryText(), this.queryTokens());
    this.chips.setSelected(this.st.queries);
    const stack = this.st.stack;
    this.chips.el.dataset.editor = String(stack !== 'decoder' && stack !== 'cross');
  }

  setTheme(): void {
    this.heatmap.setTheme(this.ctx.theme());
    this.headView.setTheme(this.ctx.theme());
    void this.refresh();
  }

  highlight(indices: readonly number[]): void {
    this.highlighted = indices;
    this.chips.highlight(indices);
    this.headView.highlight(indices);
    this.markHeatmap();
  }

  focus(state: ViewState): void {
    this.ctx.save(state);
    this.buildControls();
    void this.refresh();
  }

  // ---------- tokens of each side ----------

  /** Query side: decoder/target tokens for decoder self/cross attention of encoder-decoders. */
  private queryTokens(): readonly ViewToken[] {
    const s = this.s!;
    const stack = this.st.stack;
    return (stack === 'decoder' || stack === 'cross') && s.targetTokens ? s.targetTokens : s.tokens;
  }
  private keyTokens(): readonly ViewToken[] {
    const s = this.s!;
    return this.st.stack === 'decoder' && s.targetTokens ? s.targetTokens : s.tokens;
  }
  private queryText(): string {
    const stack = this.st.stack;
    return (stack === 'decoder' || stack === 'cross') && this.s!.targetText !== undefined ? this.s!.targetText : this.s!.text;
  }
  private visible(tokens: readonly ViewToken[]): number[] {
    const hide = this.st.hideSpecial;
    const idx = tokens.map((_, i) => i).filter((i) => !hide || !tokens[i].special);
    return idx.length > 0 ? idx : tokens.map((_, i) => i);
  }

  // ---------- controls ----------

  private buildControls(): void {
    const s = this.s;
    if (!s) return;
    const st = this.st;
    const c = this.ctx.shell.controls;
    clear(c);
    const set = (partial: Partial<ViewState>, rebuild = false) => { this.ctx.save(partial); if (rebuild) this.buildControls(); void this.refresh(); };
    c.append(tabs('View', MODES.map((m) => m.label), MODES.findIndex((m) => m.id === st.mode), (i) => set({ mode: MODES[i].id }, true)));
    const row = h('div', { class: 'te-control-row' });
    if (s.model.kind === 'encoder-decoder') {
      const stacks: AttentionStack[] = ['encoder', 'decoder', 'cross'];
      row.append(select('Attention', stacks.map((x) => ({ value: x, label: x === 'cross' ? 'cross (target → source)' : `${x} self` })), st.stack, (v) => {
        this.ctx.save({ stack: v as AttentionStack, queries: [] });
        this.setChips();
        this.buildControls();
        void this.refresh();
      }));
    }
    const nLayers = st.stack === 'decoder' || st.stack === 'cross' ? s.model.nLayers : s.model.nLayers;
    row.append(select('Layer', Array.from({ length: nLayers }, (_, l) => ({ value: String(l), label: `Layer ${l}` })), String(st.layer), (v) => set({ layer: +v }), 'te-layer'));
    if (st.mode !== 'grid') {
      const aggs: { value: Aggregation; label: string }[] = [{ value: 'head', label: 'One head' }, { value: 'mean', label: 'Mean of heads' }, { value: 'max', label: 'Max of heads' }];
      if (st.stack !== 'cross') aggs.push({ value: 'rollout', label: 'Rollout (layers 0…L)' });
      if (st.mode !== 'math') row.append(select('Aggregation', aggs, st.aggregation, (v) => set({ aggregation: v as Aggregation }, true)));
      if (st.aggregation === 'head' || st.mode === 'math') {
        if (st.mode === 'lines') {
          const boxes = h('fieldset', { class: 'te-heads' }, h('legend', {}, 'Heads'));
          const colors = headColors(s.model.nHeads, this.ctx.theme().palette);
          for (let hd = 0; hd < s.model.nHeads; hd++) {
            const cb = checkbox(`${hd}`, st.heads.includes(hd), (on) => {
              const heads = new Set(this.st.heads);
              if (on) heads.add(hd); else heads.delete(hd);
              const list = [...heads].sort((a, b) => a - b);
              set({ heads: list.length ? list : [hd], head: list[0] ?? hd });
            });
            const sw = h('span', { class: 'te-swatch' });
            sw.style.backgroundColor = `rgb(${colors[hd].r | 0},${colors[hd].g | 0},${colors[hd].b | 0})`;
            boxes.append(h('span', { class: 'te-head-box' }, sw, cb));
          }
          row.append(boxes);
        } else {
          row.append(select('Head', Array.from({ length: s.model.nHeads }, (_, hd) => ({ value: String(hd), label: `Head ${hd}` })), String(st.head), (v) => set({ head: +v, heads: [+v] }), 'te-head'));
        }
      }
    }
    if (st.mode === 'lines' || st.mode === 'heatmap') {
      row.append(numberField('Top-k per query (0 = all)', st.topK, 0, 4096, (v) => set({ topK: v })));
      row.append(numberField('Threshold', st.threshold, 0, 1, (v) => set({ threshold: v }), 0.01));
    }
    row.append(checkbox('Hide special tokens', st.hideSpecial, (on) => set({ hideSpecial: on })));
    const paint = h('vscode-button', { secondary: true, title: 'Colour the editor text by the attention of the chosen query tokens', 'data-action': 'paint' }, 'Paint on editor');
    paint.addEventListener('click', () => this.paintEditor());
    row.append(paint);
    c.append(row, h('p', { class: 'te-hint' }, 'Keys: [ / ] layer, , / . head, Esc clears the chosen queries.'));
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.s || (e.target as HTMLElement)?.closest?.('vscode-textfield, input')) return;
    const st = this.st;
    const L = this.s.model.nLayers, H = this.s.model.nHeads;
    let partial: Partial<ViewState> | undefined;
    if (e.key === '[' && st.layer > 0) partial = { layer: st.layer - 1 };
    else if (e.key === ']' && st.layer < L - 1) partial = { layer: st.layer + 1 };
    else if (e.key === ',' && st.head > 0) partial = { head: st.head - 1, heads: [st.head - 1] };
    else if (e.key === '.' && st.head < H - 1) partial = { head: st.head + 1, heads: [st.head + 1] };
    else if (e.key === 'Escape' && st.queries.length) partial = { queries: [] };
    if (!partial) return;
    e.preventDefault();
    this.ctx.save(partial);
    this.buildControls();
    this.chips.setSelected(this.st.queries);
    void this.refresh();
  }

  private toggleQuery(d: { indices: readonly number[]; additive: boolean }): void {
    const cur = new Set(this.st.queries);
    const all = d.indices.every((i) => cur.has(i));
    let next: number[];
    if (d.additive) { for (const i of d.indices) if (all) cur.delete(i); else cur.add(i); next = [...cur]; }
    else next = all && cur.size === d.indices.length ? [] : [...d.indices];
    next.sort((a, b) => a - b);
    this.ctx.save({ queries: next });
    this.chips.setSelected(next);
    void this.refresh();
  }

  // ---------- data + drawing ----------

  private async refresh(): Promise<void> {
    const s = this.s;
    if (!s) return;
    const st = this.st;
    const my = ++this.seq;
    if (st.mode === 'grid') {
      const grid = await this.ctx.load('Loading all heads…', this.ctx.host.request({ slice: 'attentionGrid', stack: st.stack, size: 48 }));
      if (!grid || my !== this.seq) return;
      const scale = this.scale(Math.max(...grid.thumbs.map((t) => maxValue(t.data))), true);
      clear(this.stage);
      this.grid.setData(grid.layers, grid.heads, grid.thumbs, scale, this.ctx.theme(), { layer: st.layer, head: st.head });
      this.stage.append(this.grid.el);
      this.caption.textContent = `All ${grid.layers} × ${grid.heads} heads (max-pooled thumbnails). Click one to open it.`;
      this.setLegend(scale, 'attention weight');
      this.ctx.drawn('attention:grid');
      return;
    }
    if (st.mode === 'math') {
      const q = st.queries.length ? st.queries[st.queries.length - 1] : this.queryTokens().length - 1;
      const m = await this.ctx.load('Computing one head…', this.ctx.host.request({ slice: 'headMath', stack: st.stack, layer: st.layer, head: st.head, query: q }));
      if (!m || my !== this.seq) return;
      this.mathSlice = m;
      const labels = tokenLabels(this.keyTokens());
      const qLabels = tokenLabels(this.queryTokens());
      clear(this.stage);
      this.math.render(m, (i) => (i === m.query ? qLabels[i] : labels[i]));
      this.stage.append(this.math.el);
      this.caption.textContent = `Query #${q} ${qLabels[q]} — choose another query token above.`;
      this.legendSlot.replaceChildren();
      this.ctx.drawn('attention:math');
      return;
    }
    const heads = st.aggregation === 'head' ? (st.mode === 'lines' ? st.heads : [st.head]) : st.aggregation === 'rollout' ? [] : Array.from({ length: s.model.nHeads }, (_, i) => i);
    const slice = await this.ctx.load('Loading attention…', this.ctx.host.request({ slice: 'attention', query: { stack: st.stack, layer: st.layer, aggregation: st.aggregation, heads } }));
    if (!slice || my !== this.seq) return;
    this.slice = slice;
    clear(this.stage);
    if (st.mode === 'heatmap') this.drawHeatmap(slice); else this.drawLines(slice);
    this.ctx.drawn(`attention:${st.mode}`);
  }

  private scale(max: number, sqrt = false): SequentialScale {
    const t = this.ctx.theme();
    return sequentialScale(t.background, t.accent, 0, max > 0 ? max : 1, sqrt ? 'sqrt' : 'linear');
  }

  private setLegend(scale: SequentialScale, label: string): void {
    this.legendSlot.replaceChildren(legend(scale, label));
  }

  private describeAgg(): string {
    const st = this.st;
    switch (st.aggregation) {
      case 'head': return st.mode === 'lines' ? `layer ${st.layer}, heads ${st.heads.join(', ')}` : `layer ${st.layer}, head ${st.head}`;
      case 'mean': return `layer ${st.layer}, mean of ${this.s!.model.nHeads} heads`;
      case 'max': return `layer ${st.layer}, max of ${this.s!.model.nHeads} heads`;
      case 'rollout': return `rollout through layers 0…${st.layer} (head mean, + identity for the residual, rows renormalised)`;
    }
  }

  /** Hovering a heatmap cell highlights its key token in the editor (the query row is outlined in the chart). */
  private linkCell(c: { row: number; col: number }): void {
    const key = this.visible(this.keyTokens())[c.col];
    const t = key === undefined ? undefined : this.keyTokens()[key];
    // keys are editor text except in decoder self-attention of an encoder-decoder (the target text)
    if (t && t.end > t.start) this.ctx.host.notify({ type: 'hoverToken', start: t.start, end: t.end, editor: this.st.stack !== 'decoder' });
  }

  private rowIndex(row: number): number {
    return this.visible(this.queryTokens())[row] ?? row;
  }

  private drawHeatmap(slice: AttentionSlice): void {
    const st = this.st;
    const qTok = this.queryTokens(), kTok = this.keyTokens();
    const rows = this.visible(qTok), cols = this.visible(kTok);
    let m = slice.matrices[0].data;
    if (st.topK > 0 || st.threshold > 0) m = filterMatrix(m, slice.nq, slice.nk, { topK: st.topK || undefined, threshold: st.threshold });
    const sub = selectSubmatrix(m, slice.nk, rows, cols);
    const scale = this.scale(maxValue(sub));
    const qLabels = tokenLabels(qTok), kLabels = tokenLabels(kTok);
    const causal = st.stack !== 'cross' && st.stack !== 'encoder' && this.s!.model.kind !== 'encoder';
    this.heatmap.setTheme(this.ctx.theme());
    this.heatmap.setData({
      rows: rows.length, cols: cols.length, values: sub,
      rowLabels: rows.map((i) => qLabels[i]), colLabels: cols.map((j) => kLabels[j]), rowTitle: 'query', colTitle: 'key', scale,
      describe: (r, c, v) => `query #${rows[r]} ${qLabels[rows[r]]} → key #${cols[c]} ${kLabels[cols[c]]}: ${v.toFixed(6)}`,
      masked: causal ? (r, c) => cols[c] > rows[r] : undefined,
    });
    this.stage.append(this.heatmap.el);
    this.markHeatmap();
    const zoom = this.ctx.state().zoom;
    if (zoom && zoom !== this.heatmap.zoom) this.heatmap.setZoom(zoom);
    this.caption.textContent = `Heatmap — ${this.describeAgg()}. Rows: query tokens; columns: key tokens. Hover for exact values; Ctrl+wheel or +/− to zoom; click a row to choose it as query.`;
    this.setLegend(scale, 'attention weight');
  }

  private markHeatmap(): void {
    const rows = this.visible(this.queryTokens());
    const pos = (list: readonly number[]) => list.map((i) => rows.indexOf(i)).filter((r) => r >= 0);
    this.heatmap.mark([...pos(this.st.queries), ...pos(this.highlighted)]);
  }

  private drawLines(slice: AttentionSlice): void {
    const st = this.st;
    const qTok = this.queryTokens(), kTok = this.keyTokens();
    const theme = this.ctx.theme();
    const filter = { topK: st.topK || undefined, threshold: st.threshold };
    const queryFilter = st.queries.length ? new Set(st.queries) : undefined;
    const colors = headColors(this.s!.model.nHeads, theme.palette);
    const headsDrawn = st.aggregation === 'head' ? st.heads : [-1];
    const keyVisible = new Set(this.visible(kTok));
    let maxW = 0;
    const drawn = slice.matrices.map((mat, i) => {
      const edges = filterEdges(mat.data, slice.nq, slice.nk, filter).filter((e) => (!queryFilter || queryFilter.has(e.query)) && keyVisible.has(e.key));
      for (const e of edges) maxW = Math.max(maxW, e.weight);
      return { head: headsDrawn[i] ?? i, color: headsDrawn[i] !== undefined && headsDrawn[i] >= 0 ? colors[headsDrawn[i]] : theme.accent, edges };
    });
    const qLabels = tokenLabels(qTok), kLabels = tokenLabels(kTok);
    this.headView.setTheme(theme);
    this.headView.setData({
      queryLabels: qLabels, keyLabels: kLabels, queryRows: this.visible(qTok), keyRows: this.visible(kTok),
      querySpans: qTok, keySpans: kTok, heads: drawn, maxWeight: st.aggregation === 'head' ? 1 : maxW || 1, selected: st.queries, queryInEditor: st.stack !== 'decoder' && st.stack !== 'cross', keyInEditor: st.stack !== 'decoder',
    });
    this.headView.highlight(this.highlighted);
    this.stage.append(this.headView.el);
    const edges = drawn.reduce((a, d) => a + d.edges.length, 0);
    this.caption.textContent = `Lines — ${this.describeAgg()}: ${edges} lines${queryFilter ? ` from ${st.queries.length} chosen quer${st.queries.length === 1 ? 'y' : 'ies'}` : ''}. Opacity = weight. Hover a token to see only its lines.`;
    this.setLegend(this.scale(st.aggregation === 'head' ? 1 : maxW), 'line opacity ∝ weight');
  }

  /** Attention of the chosen queries (summed) on every key, painted onto the editor. */
  private paintEditor(): void {
    const slice = this.slice;
    const st = this.st;
    if (!slice || !this.s) { this.ctx.shell.showError('Open the lines or heatmap view first.'); return; }
    const queries = st.queries.length ? st.queries : [slice.nq - 1];
    const mat = st.aggregation === 'head' ? slice.matrices[Math.max(0, st.heads.indexOf(st.head))] ?? slice.matrices[0] : slice.matrices[0];
    const row = sumRows(mat.data, slice.nk, queries);
    const max = maxValue(row) || 1;
    const keys = this.keyTokens();
    const qLabels = tokenLabels(this.queryTokens());
    this.ctx.paint({
      label: `Attention from ${queries.map((q) => qLabels[q]).join(' + ')} (${this.describeAgg()})`,
      weights: Array.from(row, (w, j) => ({ index: j, weight: w / max, title: `attention ${formatValue(w, 4)}` })).filter((w, j) => w.weight > 0 && !keys[j].special),
    });
  }

  exportData(): ExportData | undefined {
    const st = this.st;
    const name = `attention-L${st.layer}-${st.aggregation === 'head' ? `H${st.head}` : st.aggregation}`;
    switch (st.mode) {
      case 'heatmap': return { name, png: () => canvasToPng(this.heatmap.canvas), svg: () => this.heatmap.toSvg(), json: () => this.slice };
      case 'lines': return { name, png: () => svgToPng(this.headView.toSvg()), svg: () => this.headView.toSvg(), json: () => this.slice };
      case 'math': return { name: `head-math-L${st.layer}-H${st.head}`, json: () => this.mathSlice };
      case 'grid': {
        const svg = this.grid.el.querySelector('svg');
        return { name: 'attention-all-heads', svg: svg ? () => serializeSvg(svg) : undefined, json: () => ({ layers: this.s?.model.nLayers, heads: this.s?.model.nHeads }) };
      }
    }
  }

  /** For the host's "Paint" command and tests: the current heatmap. */
  get heatmapElement(): Heatmap {
    return this.heatmap;
  }
}
