/** Pure geometry of the charts (no DOM): head-view lines and heatmap cells ↔ indices with zoom and scroll. */

// ---------- head view (BertViz-style: query column left, key column right) ----------

export interface HeadViewLayout {
  readonly count: number;
  readonly rowHeight: number;
  readonly top: number;
  /** Right edge of the left (query) labels and left edge of the right (key) labels: where lines start/end. */
  readonly leftX: number;
  readonly rightX: number;
  readonly labelWidth: number;
  readonly width: number;
  readonly height: number;
}

export function headViewLayout(count: number, opts: { rowHeight?: number; labelWidth?: number; gap?: number; top?: number } = {}): HeadViewLayout {
  const rowHeight = opts.rowHeight ?? 20;
  const labelWidth = opts.labelWidth ?? 110;
  const gap = opts.gap ?? 140;
  const top = opts.top ?? 8;
  return { count, rowHeight, top, labelWidth, leftX: labelWidth, rightX: labelWidth + gap, width: 2 * labelWidth + gap, height: top * 2 + count * rowHeight };
}

/** Vertical centre of row i (query or key). */
export function rowCenter(layout: HeadViewLayout, i: number): number {
  return layout.top + (i + 0.5) * layout.rowHeight;
}

/** The row under a y coordinate, or -1. */
export function rowAt(layout: HeadViewLayout, y: number): number {
  const i = Math.floor((y - layout.top) / layout.rowHeight);
  return i >= 0 && i < layout.count ? i : -1;
}

export interface Line {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  /** 0…1 */
  readonly opacity: number;
}

/**
 * A query→key line. `row` maps a token index to its displayed row (hidden tokens are absent); opacity is the
 * weight divided by `maxWeight` (1 = attention's own scale), clamped to [0, 1].
 */
export function edgeLine(layout: HeadViewLayout, query: number, key: number, weight: number, row: (index: number) => number, maxWeight = 1): Line | undefined {
  const rq = row(query), rk = row(key);
  if (rq < 0 || rk < 0) return undefined;
  return { x1: layout.leftX, y1: rowCenter(layout, rq), x2: layout.rightX, y2: rowCenter(layout, rk), opacity: Math.min(1, Math.max(0, weight / (maxWeight > 0 ? maxWeight : 1))) };
}

// ---------- heatmap (query rows × key columns) ----------

export interface HeatmapGeometry {
  readonly rows: number;
  readonly cols: number;
  /** Cell height in CSS px at this zoom. */
  readonly cell: number;
  /** Cell width ÷ height (1 = square; > 1 widens narrow matrices such as position × few RoPE pairs). */
  readonly aspect?: number;
  /** Room for the row labels (left) and column labels (top). */
  readonly left: number;
  readonly top: number;
  /** Scroll offset of the cell area, in px of content. */
  readonly scrollX: number;
  readonly scrollY: number;
  /** Size of the visible cell area. */
  readonly viewWidth: number;
  readonly viewHeight: number;
}

export const MIN_CELL = 2;
export const MAX_CELL = 64;

/** Cell size that fits rows × cols into the view (clamped), the zoom = 1 starting point. */
export function fitCell(rows: number, cols: number, viewWidth: number, viewHeight: number): number {
  const c = Math.floor(Math.min(viewWidth / Math.max(1, cols), viewHeight / Math.max(1, rows)));
  return Math.min(MAX_CELL, Math.max(MIN_CELL, c));
}

/** Cell width in px. */
export function cellWidth(g: HeatmapGeometry): number {
  return g.cell * (g.aspect ?? 1);
}

export function clampScroll(g: HeatmapGeometry): HeatmapGeometry {
  const maxX = Math.max(0, g.cols * cellWidth(g) - g.viewWidth);
  const maxY = Math.max(0, g.rows * g.cell - g.viewHeight);
  return { ...g, scrollX: Math.min(maxX, Math.max(0, g.scrollX)), scrollY: Math.min(maxY, Math.max(0, g.scrollY)) };
}

/** The cell under a point in canvas px, or undefined (labels, outside the matrix). */
export function cellAt(g: HeatmapGeometry, x: number, y: number): { row: number; col: number } | undefined {
  const cx = x - g.left, cy = y - g.top;
  if (cx < 0 || cy < 0 || cx >= g.viewWidth || cy >= g.viewHeight) return undefined;
  const col = Math.floor((cx + g.scrollX) / cellWidth(g));
  const row = Math.floor((cy + g.scrollY) / g.cell);
  return row < g.rows && col < g.cols ? { row, col } : undefined;
}

/** A cell's rectangle in canvas px (may lie outside the visible area). */
export function cellRect(g: HeatmapGeometry, row: number, col: number): { x: number; y: number; w: number; h: number } {
  const w = cellWidth(g);
  return { x: g.left + col * w - g.scrollX, y: g.top + row * g.cell - g.scrollY, w, h: g.cell };
}

/** Range of rows/cols at least partly visible: [first, last] inclusive. */
export function visibleRange(g: HeatmapGeometry): { row0: number; row1: number; col0: number; col1: number } {
  return {
    row0: Math.max(0, Math.floor(g.scrollY / g.cell)),
    row1: Math.min(g.rows - 1, Math.ceil((g.scrollY + g.viewHeight) / g.cell) - 1),
    col0: Math.max(0, Math.floor(g.scrollX / cellWidth(g))),
    col1: Math.min(g.cols - 1, Math.ceil((g.scrollX + g.viewWidth) / cellWidth(g)) - 1),
  };
}

/** Zooms to `cell` px keeping the content point under (anchorX, anchorY) (canvas px) in place. */
export function zoomTo(g: HeatmapGeometry, cell: number, anchorX = g.left + g.viewWidth / 2, anchorY = g.top + g.viewHeight / 2): HeatmapGeometry {
  const next = Math.min(MAX_CELL, Math.max(MIN_CELL, cell));
  const ax = anchorX - g.left, ay = anchorY - g.top;
  const a = g.aspect ?? 1;
  const fx = (ax + g.scrollX) / cellWidth(g), fy = (ay + g.scrollY) / g.cell;
  return clampScroll({ ...g, cell: next, scrollX: fx * next * a - ax, scrollY: fy * next - ay });
}

/** Scrolls the least needed to bring a cell fully into view. */
export function scrollIntoView(g: HeatmapGeometry, row: number, col: number): HeatmapGeometry {
  let { scrollX, scrollY } = g;
  const w = cellWidth(g);
  const x = col * w, y = row * g.cell;
  if (x < scrollX) scrollX = x; else if (x + w > scrollX + g.viewWidth) scrollX = x + w - g.viewWidth;
  if (y < scrollY) scrollY = y; else if (y + g.cell > scrollY + g.viewHeight) scrollY = y + g.cell - g.viewHeight;
  return clampScroll({ ...g, scrollX, scrollY });
}

/** Widening factor for matrices much narrower than the view (few columns): cells up to 8× wider than tall. */
export function fitAspect(cols: number, cell: number, viewWidth: number): number {
  const natural = cols * cell;
  return natural >= viewWidth * 0.5 ? 1 : Math.min(8, Math.max(1, Math.floor((viewWidth * 0.5) / natural)));
}

/** Every n-th label when cells are too small for all of them (labels need ~`labelPx` each). */
export function labelStride(cell: number, labelPx = 12): number {
  return Math.max(1, Math.ceil(labelPx / Math.max(1, cell)));
}

// ---------- small helpers shared by charts ----------

/** "Nice" tick values covering [min, max] (about `count` ticks, steps 1/2/5 × 10^k). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return out;
}

/** Short numeric label: 0.1234 → "0.123", 12345 → "1.23e4". */
export function formatValue(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return v > 0 ? '∞' : v < 0 ? '−∞' : 'NaN';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(digits - 1).replace('e+', 'e');
  return (+v.toPrecision(digits)).toString();
}

/** Ellipsises a label to at most `max` characters. */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, Math.max(1, max - 1)).join('') + '…';
}
