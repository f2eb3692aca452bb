/**
 * Small SVG line chart (several series, optional log y-axis, vertical position markers, hover readout). Hovering
 * emits te-x-hover {x} with the nearest x index, so a chart over positions can link to the token at that position.
 */
import type { Rgb } from './color';
import { clear, emit, s } from './dom';
import { formatValue, niceTicks } from './layout';
import type { Theme } from './theme';

export interface Series {
  readonly name: string;
  readonly values: ArrayLike<number>;
  readonly color: Rgb;
  /** x of values[i]; default i. */
  readonly x?: ArrayLike<number>;
  readonly dots?: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
  /** x values to mark with a thin vertical line (analysed token positions). */
  readonly markers?: readonly number[];
}

const rgb = (c: Rgb) => `rgb(${c.r | 0}, ${c.g | 0}, ${c.b | 0})`;

export class LineChart {
  readonly el: HTMLElement;
  readonly svg: SVGSVGElement;

  constructor() {
    this.svg = s('svg', { class: 'te-linechart', role: 'img' });
    this.el = document.createElement('figure');
    this.el.className = 'te-chart';
    this.el.append(this.svg);
  }

  draw(series: readonly Series[], o: LineChartOptions, theme: Theme): void {
    const W = o.width ?? 460, H = o.height ?? 220;
    const m = { l: 56, r: 12, t: series.length > 1 ? 42 : 26, b: 38 };
    clear(this.svg);
    this.svg.setAttribute('width', String(W));
    this.svg.setAttribute('height', String(H));
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.svg.setAttribute('aria-label', o.title);
    const fy = (v: number) => (o.logY ? Math.log10(Math.max(v, 1e-12)) : v);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const sr of series) for (let i = 0; i < sr.values.length; i++) {
      const x = sr.x ? sr.x[i] : i, y = fy(sr.values[i]);
      if (!Number.isFinite(y)) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    if (!(x1 > x0)) x1 = x0 + 1;
    if (!(y1 > y0)) { y1 = y0 + 1; y0 -= 1; }
    const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
    const py = (y: number) => H - m.b - ((fy(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
    const fg = rgb(theme.foreground), muted = rgb(theme.muted), border = rgb(theme.border);
    this.svg.append(s('rect', { width: W, height: H, fill: rgb(theme.background) }));
    this.svg.append(s('text', { x: m.l, y: 16, fill: fg, 'font-size': theme.fontSize, 'font-family': theme.fontFamily, 'font-weight': 600 }, o.title));
    // axes + ticks
    const yTicks = o.logY ? niceTicks(Math.floor(y0), Math.ceil(y1), 4).filter((t) => Number.isInteger(t)) : niceTicks(y0, y1, 4);
    for (const t of yTicks) {
      const y = H - m.b - ((t - y0) / (y1 - y0)) * (H - m.t - m.b);
      if (y < m.t - 1 || y > H - m.b + 1) continue;
      this.svg.append(s('line', { x1: m.l, x2: W - m.r, y1: y, y2: y, stroke: border, 'stroke-opacity': 0.5 }));
      this.svg.append(s('text', { x: m.l - 4, y, 'text-anchor': 'end', 'dominant-baseline': 'central', fill: muted, 'font-size': 10, 'font-family': theme.fontFamily }, o.logY ? `1e${t}` : formatValue(t)));
    }
    for (const t of niceTicks(x0, x1, 6)) {
      const x = px(t);
      this.svg.append(s('line', { x1: x, x2: x, y1: H - m.b, y2: H - m.b + 4, stroke: muted }));
      this.svg.append(s('text', { x, y: H - m.b + 14, 'text-anchor': 'middle', fill: muted, 'font-size': 10, 'font-family': theme.fontFamily }, formatValue(t)));
    }
    this.svg.append(s('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, stroke: muted }));
    this.svg.append(s('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, stroke: muted }));
    this.svg.append(s('text', { x: (m.l + W - m.r) / 2, y: H - 6, 'text-anchor': 'middle', fill: muted, 'font-size': 11, 'font-family': theme.fontFamily }, o.xLabel));
    this.svg.append(s('text', { x: 12, y: (m.t + H - m.b) / 2, transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})`, 'text-anchor': 'middle', fill: muted, 'font-size': 11, 'font-family': theme.fontFamily }, o.yLabel + (o.logY ? ' (log)' : '')));
    for (const mk of o.markers ?? []) {
      if (mk < x0 || mk > x1) continue;
      this.svg.append(s('line', { x1: px(mk), x2: px(mk), y1: m.t, y2: H - m.b, stroke: rgb(theme.focus), 'stroke-opacity': 0.35, 'stroke-dasharray': '2 3', class: 'te-marker', 'data-x': mk }));
    }
    for (const sr of series) {
      let d = '';
      for (let i = 0; i < sr.values.length; i++) {
        const v = sr.values[i];
        if (!Number.isFinite(fy(v))) continue;
        d += `${d ? 'L' : 'M'}${px(sr.x ? sr.x[i] : i).toFixed(1)},${py(v).toFixed(1)}`;
      }
      this.svg.append(s('path', { d, fill: 'none', stroke: rgb(sr.color), 'stroke-width': 1.8 }, s('title', {}, sr.name)));
      if (sr.dots) for (let i = 0; i < sr.values.length; i++) this.svg.append(s('circle', { cx: px(sr.x ? sr.x[i] : i), cy: py(sr.values[i]), r: 2.5, fill: rgb(sr.color) }));
    }
    // legend
    if (series.length > 1) {
      let lx = m.l;
      for (const sr of series) {
        this.svg.append(s('rect', { x: lx, y: 26, width: 10, height: 3, fill: rgb(sr.color) }));
        this.svg.append(s('text', { x: lx + 13, y: 30, fill: fg, 'font-size': 10, 'font-family': theme.fontFamily }, sr.name));
        lx += sr.name.length * 6.2 + 24;
      }
    }
    const readout = s('text', { x: W - m.r, y: m.t + 10, 'text-anchor': 'end', fill: fg, 'font-size': 10, 'font-family': theme.monoFamily, class: 'te-readout' });
    this.svg.append(readout);
    this.svg.onmousemove = (e) => {
      const r = this.svg.getBoundingClientRect();
      const x = x0 + ((e.clientX - r.left - m.l) / (W - m.l - m.r)) * (x1 - x0);
      const xi = Math.round(x);
      if (xi < x0 || xi > x1) { readout.textContent = ''; return; }
      readout.textContent = series.map((sr) => `${sr.name}: ${formatValue(sr.x ? NaN : sr.values[xi])}`).join('  ') + `  @ ${xi}`;
      emit(this.el, 'te-x-hover', { x: xi });
    };
    this.svg.onmouseleave = () => { readout.textContent = ''; emit(this.el, 'te-x-leave', {}); };
  }
}
