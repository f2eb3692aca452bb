/**
 * Positional encodings of the running model: sinusoidal reference (position × dimension, wavelength per pair,
 * position similarity), learned tables (heatmap, similarity, comparison with sinusoidal), RoPE (frequency per pair,
 * rotation by position, q·k vs relative distance), T5 (buckets and bias per head by distance). Rows of analysed
 * positions carry the token text; hovering a position highlights its token in the editor.
 */
import { maxAbs, meanByDistance, ropeCosTable } from '../../src/engine/analysis/positional';
import type { AnalysisSummary, Matrix, PositionalSlice, ViewState } from '../../src/protocol/views';
import { divergingScale, headColors, sequentialScale, type ColorScale } from '../lib/color';
import { clear, h } from '../lib/dom';
import { canvasToPng, serializeSvg, svgToPng } from '../lib/export';
import { Heatmap } from '../lib/heatmap';
import { legend } from '../lib/legend';
import { LineChart, type Series } from '../lib/lineChart';
import type { ExportData, ViewContext, ViewImpl } from './context';
import { tokenLabels } from './tokenLabels';

interface Panel {
  readonly title: string;
  readonly el: HTMLElement;
  readonly png?: () => Promise<string> | string;
  readonly svg?: () => string;
}

export class PositionalView implements ViewImpl {
  readonly title = 'Positional encodings';
  private s?: AnalysisSummary;
  private slice?: PositionalSlice;
  private panels: Panel[] = [];
  private heatmaps: Heatmap[] = [];
  private seq = 0;

  constructor(private readonly ctx: ViewContext) {}

  setSummary(s: AnalysisSummary): void {
    this.s = s;
    void this.refresh();
  }

  setTheme(): void {
    if (this.slice) this.draw(this.slice);
  }

  highlight(indices: readonly number[]): void {
    for (const hm of this.heatmaps) hm.mark(indices);
  }

  focus(state: ViewState): void {
    this.ctx.save(state);
  }

  private async refresh(): Promise<void> {
    const s = this.s;
    if (!s) return;
    const my = ++this.seq;
    const count = Math.min(Math.max(s.tokens.length, 64), 256);
    const slice = await this.ctx.load('Loading positional tables…', this.ctx.host.request({ slice: 'positional', count }));
    if (!slice || my !== this.seq) return;
    this.slice = slice;
    this.draw(slice);
  }

  private rowLabels(count: number): string[] {
    const labels = tokenLabels(this.s!.tokens);
    const byPos = new Map(this.slice!.tokenPositions.map((p, i) => [p, i]));
    return Array.from({ length: count }, (_, p) => (byPos.has(p) ? `${p} ${labels[byPos.get(p)!]}` : String(p)));
  }

  private heatmap(title: string, m: Matrix, scale: ColorScale, rowTitle: string, colTitle: string, colLabels: (j: number) => string, describe: (r: number, c: number, v: number) => string, legendLabel: string, linkRows = true): Panel {
    const hm = new Heatmap(title, { height: 340, labelChars: 9 });
    hm.setTheme(this.ctx.theme());
    const rows = this.rowLabels(m.rows);
    hm.setData({ rows: m.rows, cols: m.cols, values: m.data, rowLabels: rows, colLabels: Array.from({ length: m.cols }, (_, j) => colLabels(j)), rowTitle, colTitle, scale, describe });
    if (linkRows) {
      hm.el.addEventListener('te-cell-hover', (e) => this.linkPosition((e as CustomEvent<{ row: number }>).detail.row));
      hm.el.addEventListener('te-cell-leave', () => this.ctx.host.notify({ type: 'leaveToken' }));
    }
    this.heatmaps.push(hm);
    const el = h('section', { class: 'te-panel' }, h('h2', {}, title), hm.el, legend(scale, legendLabel));
    return { title, el, png: () => canvasToPng(hm.canvas), svg: () => hm.toSvg() };
  }

  private chart(title: string, series: Series[], xLabel: string, yLabel: string, logY = false, markers?: number[]): Panel {
    const c = new LineChart();
    c.draw(series, { title, xLabel, yLabel, logY, markers }, this.ctx.theme());
    if (xLabel.startsWith('position')) {
      c.el.addEventListener('te-x-hover', (e) => this.linkPosition((e as CustomEvent<{ x: number }>).detail.x));
      c.el.addEventListener('te-x-leave', () => this.ctx.host.notify({ type: 'leaveToken' }));
    }
    const el = h('section', { class: 'te-panel' }, c.el);
    return { title, el, png: () => svgToPng(serializeSvg(c.svg)), svg: () => serializeSvg(c.svg) };
  }

  private linkPosition(p: number): void {
    const i = this.slice?.tokenPositions.indexOf(p) ?? -1;
    const t = i >= 0 ? this.s?.tokens[i] : undefined;
    if (t && t.end > t.start) this.ctx.host.notify({ type: 'hoverToken', start: t.start, end: t.end, editor: true });
  }

  private draw(sl: PositionalSlice): void {
    const theme = this.ctx.theme();
    const body = this.ctx.shell.body;
    clear(body);
    clear(this.ctx.shell.controls);
    this.panels = [];
    this.heatmaps = [];
    const div = (limit: number) => divergingScale(theme.background, theme.negative, theme.positive, limit);
    const n = sl.count;
    const schemeText: Record<PositionalSlice['kind'], string> = {
      learned: 'learned absolute position table (added to the token embeddings)',
      sinusoidal: 'fixed sinusoidal table (added to the token embeddings)',
      rope: 'rotary embeddings (RoPE): q and k are rotated by an angle proportional to their position',
      relative_bias: 'relative-position buckets with a learned bias per head, added to the attention scores',
      none: 'no positional information',
    };
    this.ctx.shell.controls.append(h('p', { class: 'te-stats' }, `This model uses ${schemeText[sl.kind]}. Showing positions 0…${n - 1}; the analysed text covers positions 0…${sl.tokenPositions.length - 1}.`));
    const dims = (j: number) => `d${j}`;
    if (sl.kind === 'learned' || (sl.kind === 'sinusoidal' && sl.table)) {
      const t = sl.table!;
      this.panels.push(this.heatmap(`The model's ${sl.kind} position table (position × dimension)`, t, div(maxAbs(t.data)), 'position', 'dimension', dims, (r, c, v) => `position ${r}, dimension ${c}: ${v.toFixed(5)}`, 'value'));
      if (sl.tableSimilarity) {
        this.panels.push(this.heatmap('Cosine similarity of the model\'s positions', sl.tableSimilarity, div(1), 'position i', 'position j', String, (r, c, v) => `cos(pos ${r}, pos ${c}) = ${v.toFixed(4)}`, 'cosine similarity'));
        const learned = meanByDistance(sl.tableSimilarity.data, sl.tableSimilarity.rows);
        const sinus = meanByDistance(sl.sinusoidSimilarity.data, sl.sinusoidSimilarity.rows);
        this.panels.push(this.chart('Mean similarity by distance: model vs sinusoidal', [
          { name: 'model', values: learned, color: theme.palette[0] }, { name: 'sinusoidal', values: sinus, color: theme.palette[1] },
        ], 'distance |i − j|', 'mean cosine'));
      }
    }
    if (sl.kind === 'rope' && sl.ropeInvFreq) {
      const f = sl.ropeInvFreq;
      this.panels.push(this.chart('RoPE frequency per dimension pair', [{ name: 'θ_i (radians / position)', values: f, color: theme.palette[0], dots: true }], 'pair i', 'frequency', true));
      const cos = ropeCosTable(f, n);
      this.panels.push(this.heatmap('Rotation by position: cos(position · θ_i)', { rows: n, cols: f.length, data: cos }, div(1), 'position', 'pair', (j) => `pair ${j}`, (r, c, v) => `position ${r}, pair ${c}: angle ${(r * f[c]).toFixed(3)} rad, cos ${v.toFixed(4)}`, 'cos(angle)'));
      if (sl.ropeRelative) this.panels.push(this.chart('q·k after RoPE vs relative distance (q = k = 1)', [{ name: 'q·k', values: sl.ropeRelative, color: theme.palette[2] }], 'relative distance m − n', 'q·k'));
    }
    if (sl.kind === 'relative_bias' && sl.t5Buckets && sl.t5Bias) {
      const dist = Array.from({ length: sl.t5Buckets.length }, (_, i) => i - (n - 1));
      this.panels.push(this.chart('T5 bucket by relative distance (key − query)', [{ name: 'bucket', values: sl.t5Buckets, x: dist, color: theme.palette[0] }], 'relative distance', 'bucket'));
      const colors = headColors(sl.t5Bias.rows, theme.palette);
      this.panels.push(this.chart('Learned bias per head by relative distance', Array.from({ length: sl.t5Bias.rows }, (_, hd) => ({ name: `head ${hd}`, values: sl.t5Bias!.data.subarray(hd * sl.t5Bias!.cols, (hd + 1) * sl.t5Bias!.cols), x: dist, color: colors[hd] })), 'relative distance', 'bias'));
    }
    // the sinusoidal reference, for every model
    this.panels.push(this.heatmap(`Sinusoidal reference (Vaswani et al.): position × dimension${sl.kind === 'sinusoidal' ? '' : ' — for comparison'}`, sl.sinusoid, div(1), 'position', 'dimension', dims, (r, c, v) => `position ${r}, dim ${c} (${c % 2 === 0 ? 'sin' : 'cos'}): ${v.toFixed(4)}`, 'sin / cos value'));
    this.panels.push(this.chart('Wavelength per sin/cos pair', [{ name: 'wavelength (positions)', values: sl.wavelengths, color: theme.palette[3] ?? theme.palette[0], dots: true }], 'pair i', 'wavelength', true));
    this.panels.push(this.heatmap('Sinusoidal position similarity (cosine)', sl.sinusoidSimilarity, sequentialScale(theme.background, theme.accent, Math.min(0, ...sl.sinusoidSimilarity.data), 1), 'position i', 'position j', String, (r, c, v) => `cos(pos ${r}, pos ${c}) = ${v.toFixed(4)}`, 'cosine similarity'));
    body.append(h('div', { class: 'te-panels' }, ...this.panels.map((p) => p.el)));
    this.ctx.drawn('positional');
  }

  exportData(): ExportData | undefined {
    const first = this.panels[0];
    if (!this.slice || !first) return undefined;
    return { name: `positional-${this.slice.kind}`, png: first.png, svg: first.svg, json: () => this.slice };
  }
}
