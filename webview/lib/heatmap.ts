/**
 * Canvas heatmap for query × key (or position × dimension) matrices: draws only the visible cells, so 1024 × 1024
 * stays fast. Axis labels from token text, hover tooltip with the exact value, zoom (Ctrl/⌘+wheel, +/−, buttons),
 * scrolling (wheel), keyboard cursor (arrows; Enter emits te-cell-select). Emits te-cell-hover {row, col, value}.
 */
import type { ColorScale, Rgb } from './color';
import { emit, h, icon } from './dom';
import { cellAt, cellRect, cellWidth, clampScroll, ellipsis, fitAspect, fitCell, formatValue, labelStride, scrollIntoView, visibleRange, zoomTo, type HeatmapGeometry } from './layout';
import type { Theme } from './theme';

export interface HeatmapData {
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
  readonly rowLabels: readonly string[];
  readonly colLabels: readonly string[];
  /** Axis titles, e.g. "query" / "key". */
  readonly rowTitle: string;
  readonly colTitle: string;
  readonly scale: ColorScale;
  /** Tooltip line for a cell; default "row → col: value". */
  readonly describe?: (row: number, col: number, value: number) => string;
  /** Cells that are structurally empty (causal mask), drawn hatched instead of as 0. */
  readonly masked?: (row: number, col: number) => boolean;
}

export interface CellDetail {
  readonly row: number;
  readonly col: number;
  readonly value: number;
}

const rgb = (c: Rgb, a = 1) => `rgba(${c.r | 0}, ${c.g | 0}, ${c.b | 0}, ${a})`;

export class Heatmap {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLElement;
  private data?: HeatmapData;
  private g?: HeatmapGeometry;
  private cursor?: { row: number; col: number };
  private hover?: { row: number; col: number };
  private markedRows = new Set<number>();
  private markedCols = new Set<number>();
  private theme?: Theme;
  private userZoomed = false;
  private readonly resize: ResizeObserver;

  constructor(label: string, private readonly opts: { height?: number; labelChars?: number } = {}) {
    this.canvas = h('canvas', { tabindex: 0, role: 'img', 'aria-label': label, class: 'te-heatmap-canvas' });
    this.tooltip = h('div', { class: 'te-tooltip', role: 'tooltip', hidden: true });
    const zoomIn = h('vscode-toolbar-button', { title: 'Zoom in (+)', 'aria-label': 'Zoom in' }, icon('zoom-in'));
    const zoomOut = h('vscode-toolbar-button', { title: 'Zoom out (−)', 'aria-label': 'Zoom out' }, icon('zoom-out'));
    const fit = h('vscode-toolbar-button', { title: 'Fit (0)', 'aria-label': 'Fit to view' }, icon('screen-normal'));
    zoomIn.addEventListener('click', () => this.zoomBy(1.5));
    zoomOut.addEventListener('click', () => this.zoomBy(1 / 1.5));
    fit.addEventListener('click', () => this.fit());
    this.el = h('div', { class: 'te-heatmap' }, h('div', { class: 'te-heatmap-tools' }, zoomOut, zoomIn, fit), h('div', { class: 'te-heatmap-stage' }, this.canvas, this.tooltip));
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => { this.hover = undefined; this.tooltip.hidden = true; this.draw(); emit(this.el, 'te-cell-leave', {}); });
    this.canvas.addEventListener('click', (e) => {
      const c = this.cellFromEvent(e);
      if (c && this.data) { this.cursor = c; this.draw(); emit<CellDetail>(this.el, 'te-cell-select', { ...c, value: this.value(c.row, c.col) }); }
    });
    this.canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    // Re-layout only when the available width changes, one frame later: laying out inside the observer callback
    // resizes the canvas, which would notify the observer again (a "ResizeObserver loop").
    let lastWidth = -1;
    this.resize = new ResizeObserver(() => {
      const w = this.el.clientWidth;
      if (w === lastWidth) return;
      lastWidth = w;
      requestAnimationFrame(() => this.layout());
    });
    this.resize.observe(this.el);
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.draw();
  }

  setData(data: HeatmapData, keepZoom = true): void {
    const sameShape = this.data && this.data.rows === data.rows && this.data.cols === data.cols;
    this.data = data;
    if (!sameShape || !keepZoom) { this.g = undefined; this.userZoomed = false; this.cursor = undefined; }
    this.layout();
  }

  /** Rows/cols outlined (selected query tokens, token under the editor cursor). */
  mark(rows: Iterable<number>, cols: Iterable<number> = []): void {
    this.markedRows = new Set(rows);
    this.markedCols = new Set(cols);
    this.draw();
  }

  get zoom(): number {
    return this.g?.cell ?? 0;
  }

  /** Restores a zoom (cell px) from saved state: anchored at the top-left, then the first marked row scrolled into view. */
  setZoom(cell: number): void {
    if (!this.g) return;
    this.userZoomed = true;
    this.g = zoomTo({ ...this.g, scrollX: 0, scrollY: 0 }, cell, this.g.left, this.g.top);
    this.layout();
    const first = Math.min(...this.markedRows);
    if (Number.isFinite(first) && this.g) { this.g = scrollIntoView(this.g, first, 0); this.draw(); }
  }

  get geometry(): HeatmapGeometry | undefined {
    return this.g;
  }

  private value(row: number, col: number): number {
    return this.data ? this.data.values[row * this.data.cols + col] : NaN;
  }

  private labelRoom(): { left: number; top: number } {
    const chars = this.opts.labelChars ?? 10;
    const px = (this.theme?.fontSize ?? 13) * 0.62;
    return { left: Math.round(chars * px + 16), top: Math.round(chars * px * 0.8 + 16) };
  }

  private layout(): void {
    if (!this.data) return;
    const width = Math.max(160, this.el.clientWidth || 600);
    const { left, top } = this.labelRoom();
    const maxH = this.opts.height ?? 680;
    const viewWidth = width - left - 8;
    const natural = fitCell(this.data.rows, this.data.cols, viewWidth, maxH - top);
    const cell = this.userZoomed && this.g ? this.g.cell : natural;
    const viewHeight = Math.min(maxH - top, this.data.rows * cell);
    const aspect = fitAspect(this.data.cols, natural, viewWidth);
    const vw = Math.min(viewWidth, Math.max(this.data.cols * cell * aspect, 40));
    this.g = clampScroll({ rows: this.data.rows, cols: this.data.cols, cell, aspect, left, top, scrollX: this.g?.scrollX ?? 0, scrollY: this.g?.scrollY ?? 0, viewWidth: vw, viewHeight });
    const dpr = window.devicePixelRatio || 1;
    const cssW = left + vw + 8, cssH = top + viewHeight + 8;
    this.canvas.style.width = `${cssW}px`;
    this.canvas.style.height = `${cssH}px`;
    this.canvas.width = Math.round(cssW * dpr);
    this.canvas.height = Math.round(cssH * dpr);
    this.draw();
  }

  fit(): void {
    this.userZoomed = false;
    if (this.g) this.g = { ...this.g, scrollX: 0, scrollY: 0 };
    this.layout();
  }

  zoomBy(factor: number, ax?: number, ay?: number): void {
    if (!this.g) return;
    this.userZoomed = true;
    const next = Math.max(2, Math.round(this.g.cell * factor));
    this.g = zoomTo(this.g, next === this.g.cell ? this.g.cell + Math.sign(factor - 1) : next, ax, ay);
    this.layout();
    emit(this.el, 'te-zoom', { cell: this.g.cell });
  }

  draw(): void {
    const d = this.data, g = this.g, t = this.theme;
    if (!d || !g || !t) return;
    // Geometry on the element: end-to-end tests (and assistive tooling) can find a cell without guessing.
    Object.assign(this.canvas.dataset, { rows: String(d.rows), cols: String(d.cols), left: String(g.left), top: String(g.top), cellW: String(cellWidth(g)), cellH: String(g.cell), scrollX: String(g.scrollX), scrollY: String(g.scrollY) });
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const { row0, row1, col0, col1 } = visibleRange(g);
    ctx.save();
    ctx.beginPath();
    ctx.rect(g.left, g.top, g.viewWidth, g.viewHeight);
    ctx.clip();
    const gapPx = g.cell >= 8 ? 1 : 0;
    const gapX = cellWidth(g) >= 8 ? 1 : 0;
    for (let r = row0; r <= row1; r++) {
      for (let c = col0; c <= col1; c++) {
        const rect = cellRect(g, r, c);
        if (d.masked?.(r, c)) {
          ctx.fillStyle = rgb(t.foreground, 0.07);
          ctx.fillRect(rect.x, rect.y, rect.w - gapX, rect.h - gapPx);
          continue;
        }
        ctx.fillStyle = rgb(d.scale.color(d.values[r * d.cols + c]));
        ctx.fillRect(rect.x, rect.y, rect.w - gapX, rect.h - gapPx);
      }
    }
    // marked rows/cols and the hovered/keyboard cell
    ctx.lineWidth = 2;
    ctx.strokeStyle = rgb(t.focus);
    for (const r of this.markedRows) { const a = cellRect(g, r, 0); ctx.strokeRect(g.left + 1, a.y + 1, Math.min(g.viewWidth, d.cols * a.w) - 2, g.cell - 2); }
    for (const c of this.markedCols) { const a = cellRect(g, 0, c); ctx.strokeRect(a.x + 1, g.top + 1, a.w - 2, Math.min(g.viewHeight, d.rows * g.cell) - 2); }
    for (const cell of [this.hover, this.cursor]) {
      if (!cell) continue;
      const a = cellRect(g, cell.row, cell.col);
      ctx.strokeStyle = rgb(t.foreground);
      ctx.strokeRect(a.x + 0.5, a.y + 0.5, a.w - 1, a.h - 1);
    }
    ctx.restore();
    this.drawLabels(ctx, g, d, t, row0, row1, col0, col1);
  }

  private drawLabels(ctx: CanvasRenderingContext2D, g: HeatmapGeometry, d: HeatmapData, t: Theme, row0: number, row1: number, col0: number, col1: number): void {
    const size = Math.min(t.fontSize, Math.max(9, g.cell - 2));
    ctx.font = `${size}px ${t.monoFamily}`;
    const chars = this.opts.labelChars ?? 10;
    const stride = labelStride(g.cell, size + 2);
    const colStride = labelStride(cellWidth(g), size + 2);
    ctx.fillStyle = rgb(t.foreground);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let r = row0; r <= row1; r++) {
      if (r % stride !== 0 && !this.markedRows.has(r) && this.hover?.row !== r) continue;
      const y = cellRect(g, r, 0).y + g.cell / 2;
      ctx.fillStyle = rgb(this.markedRows.has(r) || this.hover?.row === r ? t.focus : t.foreground);
      ctx.fillText(ellipsis(d.rowLabels[r] ?? String(r), chars), g.left - 4, y);
    }
    ctx.save();
    ctx.textAlign = 'left';
    for (let c = col0; c <= col1; c++) {
      if (c % colStride !== 0 && !this.markedCols.has(c) && this.hover?.col !== c) continue;
      const x = cellRect(g, 0, c).x + cellWidth(g) / 2;
      ctx.save();
      ctx.translate(x, g.top - 4);
      ctx.rotate(-Math.PI / 3);
      ctx.fillStyle = rgb(this.markedCols.has(c) || this.hover?.col === c ? t.focus : t.foreground);
      ctx.fillText(ellipsis(d.colLabels[c] ?? String(c), chars), 0, 0);
      ctx.restore();
    }
    ctx.restore();
    // axis titles
    ctx.fillStyle = rgb(t.muted);
    ctx.font = `${Math.max(10, t.fontSize - 2)}px ${t.fontFamily}`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(`${d.rowTitle} ↓  ${d.colTitle} →`, 2, 2);
  }

  private cellFromEvent(e: MouseEvent): { row: number; col: number } | undefined {
    if (!this.g) return undefined;
    const r = this.canvas.getBoundingClientRect();
    return cellAt(this.g, e.clientX - r.left, e.clientY - r.top);
  }

  private onMove(e: MouseEvent): void {
    const c = this.cellFromEvent(e);
    const changed = c?.row !== this.hover?.row || c?.col !== this.hover?.col;
    this.hover = c;
    if (!c || !this.data) { this.tooltip.hidden = true; if (changed) this.draw(); return; }
    const value = this.value(c.row, c.col);
    this.tooltip.textContent = this.data.describe?.(c.row, c.col, value) ?? `${this.data.rowLabels[c.row]} → ${this.data.colLabels[c.col]}: ${formatValue(value, 5)}`;
    this.tooltip.hidden = false;
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left + 14, y = e.clientY - r.top + 14;
    this.tooltip.style.left = `${Math.min(x, r.width - 220)}px`;
    this.tooltip.style.top = `${y}px`;
    if (changed) { this.draw(); emit<CellDetail>(this.el, 'te-cell-hover', { ...c, value }); }
  }

  private onWheel(e: WheelEvent): void {
    if (!this.g) return;
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    if (e.ctrlKey || e.metaKey) { this.zoomBy(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - r.left, e.clientY - r.top); return; }
    this.g = clampScroll({ ...this.g, scrollX: this.g.scrollX + (e.shiftKey ? e.deltaY : e.deltaX), scrollY: this.g.scrollY + (e.shiftKey ? 0 : e.deltaY) });
    this.draw();
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.g || !this.data) return;
    const cur = this.cursor ?? { row: 0, col: 0 };
    const move = (dr: number, dc: number) => {
      this.cursor = { row: Math.max(0, Math.min(this.data!.rows - 1, cur.row + dr)), col: Math.max(0, Math.min(this.data!.cols - 1, cur.col + dc)) };
      this.g = scrollIntoView(this.g!, this.cursor.row, this.cursor.col);
      this.tooltip.hidden = false;
      const v = this.value(this.cursor.row, this.cursor.col);
      this.tooltip.textContent = this.data!.describe?.(this.cursor.row, this.cursor.col, v) ?? formatValue(v, 5);
      const a = cellRect(this.g, this.cursor.row, this.cursor.col);
      this.tooltip.style.left = `${a.x + a.w + 6}px`;
      this.tooltip.style.top = `${a.y + a.h + 6}px`;
      this.draw();
      emit<CellDetail>(this.el, 'te-cell-hover', { ...this.cursor, value: v });
    };
    switch (e.key) {
      case 'ArrowUp': move(-1, 0); break;
      case 'ArrowDown': move(1, 0); break;
      case 'ArrowLeft': move(0, -1); break;
      case 'ArrowRight': move(0, 1); break;
      case '+': case '=': this.zoomBy(1.5); break;
      case '-': this.zoomBy(1 / 1.5); break;
      case '0': this.fit(); break;
      case 'Enter': emit<CellDetail>(this.el, 'te-cell-select', { ...cur, value: this.value(cur.row, cur.col) }); break;
      default: return;
    }
    e.preventDefault();
  }

  /** SVG of the whole matrix (not just the visible part), capped at 256 × 256 cells. */
  toSvg(): string {
    const d = this.data, t = this.theme;
    if (!d || !t) return '';
    const rows = Math.min(d.rows, 256), cols = Math.min(d.cols, 256);
    const cell = 12, left = 90, top = 80;
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + cols * cell + 10}" height="${top + rows * cell + 10}" font-family="monospace" font-size="9">`,
      `<rect width="100%" height="100%" fill="${rgb(t.background)}"/>`];
    for (let r = 0; r < rows; r++) {
      parts.push(`<text x="${left - 3}" y="${top + r * cell + 9}" text-anchor="end" fill="${rgb(t.foreground)}">${esc(ellipsis(d.rowLabels[r] ?? '', 12))}</text>`);
      for (let c = 0; c < cols; c++) {
        const v = d.values[r * d.cols + c];
        parts.push(`<rect x="${left + c * cell}" y="${top + r * cell}" width="${cell - 1}" height="${cell - 1}" fill="${d.masked?.(r, c) ? rgb(t.foreground, 0.07) : d.scale.css(v)}"><title>${formatValue(v, 5)}</title></rect>`);
      }
    }
    for (let c = 0; c < cols; c++) parts.push(`<text transform="translate(${left + c * cell + 8},${top - 3}) rotate(-60)" fill="${rgb(t.foreground)}">${esc(ellipsis(d.colLabels[c] ?? '', 12))}</text>`);
    parts.push('</svg>');
    return parts.join('');
  }

  dispose(): void {
    this.resize.disconnect();
  }
}
