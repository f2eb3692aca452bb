/**
 * Head view (BertViz-style): query tokens on the left, key tokens on the right, a line per query→key weight,
 * opacity = weight, one colour per head, several heads overlaid. Hovering a token shows only its lines; clicking a
 * query token toggles it as a chosen query. Emits te-token-hover/leave/toggle with the token's offsets.
 */
import type { Rgb } from './color';
import { clear, emit, s } from './dom';
import { edgeLine, ellipsis, headViewLayout, rowAt, type HeadViewLayout } from './layout';
import type { AttentionEdge } from '../../src/engine/analysis/attention';
import type { Theme } from './theme';

export interface HeadViewData {
  /** Token labels by token index (both columns: self-attention) or separate key labels (cross-attention). */
  readonly queryLabels: readonly string[];
  readonly keyLabels: readonly string[];
  /** Displayed token indices, in order (hidden special tokens are left out). */
  readonly queryRows: readonly number[];
  readonly keyRows: readonly number[];
  /** Offsets per token index, for linking. */
  readonly querySpans: readonly { start: number; end: number }[];
  readonly keySpans: readonly { start: number; end: number }[];
  /** Per drawn head: its colour and its (already filtered) edges. */
  readonly heads: readonly { readonly head: number; readonly color: Rgb; readonly edges: readonly AttentionEdge[] }[];
  /** Weight that maps to full opacity (1, or the slice's max for aggregated views). */
  readonly maxWeight: number;
  /** Chosen query tokens (drawn emphasised). */
  readonly selected: readonly number[];
  /** Whether each side's offsets refer to the editor text (false for an encoder-decoder's target text). */
  readonly queryInEditor: boolean;
  readonly keyInEditor: boolean;
}

const rgb = (c: Rgb) => `rgb(${c.r | 0}, ${c.g | 0}, ${c.b | 0})`;

export class HeadView {
  readonly el: HTMLElement;
  private svg: SVGSVGElement;
  private data?: HeadViewData;
  private layout?: HeadViewLayout;
  private theme?: Theme;
  private highlighted = new Set<number>();

  constructor() {
    this.svg = s('svg', { class: 'te-headview-svg', role: 'img', 'aria-label': 'Attention lines from query tokens (left) to key tokens (right)' });
    this.el = document.createElement('div');
    this.el.className = 'te-headview';
    this.el.append(this.svg);
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.render();
  }

  setData(data: HeadViewData): void {
    this.data = data;
    this.render();
  }

  highlight(indices: readonly number[]): void {
    this.highlighted = new Set(indices);
    this.render();
  }

  private render(): void {
    const d = this.data, t = this.theme;
    if (!d || !t) return;
    const count = Math.max(d.queryRows.length, d.keyRows.length);
    const labelWidth = Math.round(Math.min(160, Math.max(70, t.fontSize * 0.62 * 14)));
    const L = (this.layout = headViewLayout(count, { rowHeight: Math.round(t.fontSize * 1.55), labelWidth, gap: 150 }));
    clear(this.svg);
    this.svg.setAttribute('width', String(L.width));
    this.svg.setAttribute('height', String(L.height));
    this.svg.setAttribute('viewBox', `0 0 ${L.width} ${L.height}`);
    this.svg.append(s('rect', { width: L.width, height: L.height, fill: rgb(t.background) }));
    const qRow = new Map(d.queryRows.map((idx, r) => [idx, r]));
    const kRow = new Map(d.keyRows.map((idx, r) => [idx, r]));
    const lines = s('g', { class: 'te-lines', 'stroke-linecap': 'round' });
    for (const head of d.heads) {
      const g = s('g', { stroke: rgb(head.color), 'data-head': head.head });
      for (const e of head.edges) {
        const line = edgeLine(L, e.query, e.key, e.weight, (i) => (i === e.query ? qRow.get(i) ?? -1 : kRow.get(i) ?? -1), d.maxWeight);
        if (!line || line.opacity < 0.01) continue;
        g.append(s('line', { x1: line.x1 + 4, y1: line.y1, x2: line.x2 - 4, y2: line.y2, 'stroke-opacity': line.opacity.toFixed(3), 'stroke-width': 2, 'data-q': e.query, 'data-k': e.key }));
      }
      lines.append(g);
    }
    this.svg.append(lines);
    const sel = new Set(d.selected);
    const mkLabel = (side: 'q' | 'k', idx: number, r: number) => {
      const label = side === 'q' ? d.queryLabels[idx] : d.keyLabels[idx];
      const span = side === 'q' ? d.querySpans[idx] : d.keySpans[idx];
      const y = L.top + r * L.rowHeight;
      const active = (side === 'q' && sel.has(idx)) || this.highlighted.has(idx);
      const g = s('g', { class: `te-hv-token${active ? ' active' : ''}`, tabindex: -1, 'data-index': idx, 'data-side': side, 'data-start': span?.start, 'data-end': span?.end, role: 'button', 'aria-label': `${side === 'q' ? 'query' : 'key'} ${label}` });
      g.append(s('rect', { x: side === 'q' ? 2 : L.rightX + 2, y: y + 1, width: L.labelWidth - 6, height: L.rowHeight - 2, rx: 3, fill: active ? rgb(t.focus) : 'transparent', 'fill-opacity': active ? 0.25 : 0 }));
      g.append(s('text', {
        x: side === 'q' ? L.leftX - 8 : L.rightX + 8, y: y + L.rowHeight / 2, 'text-anchor': side === 'q' ? 'end' : 'start', 'dominant-baseline': 'central',
        fill: rgb(active ? t.foreground : t.foreground), 'font-family': t.monoFamily, 'font-size': t.fontSize, 'font-weight': side === 'q' && sel.has(idx) ? 'bold' : 'normal',
      }, ellipsis(label, 16)));
      g.addEventListener('mouseenter', () => { this.setFocus({ side, index: idx }); if (span) emit(this.el, 'te-token-hover', { indices: [idx], start: span.start, end: span.end, editor: side === 'q' ? d.queryInEditor : d.keyInEditor }); });
      g.addEventListener('mouseleave', () => { this.setFocus(undefined); emit(this.el, 'te-token-leave', {}); });
      g.addEventListener('click', (e) => { if (side === 'q' && span) emit(this.el, 'te-token-toggle', { indices: [idx], start: span.start, end: span.end, additive: e.ctrlKey || e.metaKey || e.shiftKey }); });
      return g;
    };
    d.queryRows.forEach((idx, r) => this.svg.append(mkLabel('q', idx, r)));
    d.keyRows.forEach((idx, r) => this.svg.append(mkLabel('k', idx, r)));
  }

  /** Shows only the lines of the hovered token (others hidden), without rebuilding the SVG. */
  private setFocus(focus: { side: 'q' | 'k'; index: number } | undefined): void {
    const attr = focus?.side === 'q' ? 'data-q' : 'data-k';
    for (const line of this.svg.querySelectorAll<SVGLineElement>('line')) {
      const show = !focus || line.getAttribute(attr) === String(focus.index);
      line.style.display = show ? '' : 'none';
      line.setAttribute('stroke-width', focus ? '3' : '2');
    }
    for (const g of this.svg.querySelectorAll<SVGGElement>('.te-hv-token')) {
      g.classList.toggle('hovered', !!focus && g.getAttribute('data-side') === focus.side && g.getAttribute('data-index') === String(focus.index));
    }
  }

  /** The row under a y coordinate (for tests and keyboard helpers). */
  rowAt(y: number): number {
    return this.layout ? rowAt(this.layout, y) : -1;
  }

  toSvg(): string {
    return new XMLSerializer().serializeToString(this.svg);
  }
}
