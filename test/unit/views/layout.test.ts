import { describe, expect, it } from 'vitest';
import { cellAt, cellRect, clampScroll, edgeLine, ellipsis, fitCell, formatValue, headViewLayout, labelStride, niceTicks, rowAt, rowCenter, scrollIntoView, visibleRange, zoomTo, type HeatmapGeometry } from '../../../webview/lib/layout';

describe('head view layout', () => {
  const L = headViewLayout(4, { rowHeight: 20, labelWidth: 100, gap: 150, top: 8 });
  it('columns and size', () => {
    expect([L.leftX, L.rightX, L.width, L.height]).toEqual([100, 250, 350, 96]);
    expect(rowCenter(L, 0)).toBe(18);
    expect(rowCenter(L, 3)).toBe(78);
  });
  it('rows under y', () => {
    expect(rowAt(L, 8)).toBe(0);
    expect(rowAt(L, 27.9)).toBe(0);
    expect(rowAt(L, 28)).toBe(1);
    expect(rowAt(L, 7)).toBe(-1);
    expect(rowAt(L, 88)).toBe(-1);
  });
  it('a query→key line with opacity = weight / max', () => {
    const identity = (i: number) => i;
    expect(edgeLine(L, 3, 1, 0.25, identity)).toEqual({ x1: 100, y1: 78, x2: 250, y2: 38, opacity: 0.25 });
    expect(edgeLine(L, 3, 1, 0.25, identity, 0.5)!.opacity).toBe(0.5);
    expect(edgeLine(L, 3, 1, 2, identity)!.opacity).toBe(1);
  });
  it('hidden tokens (row -1) draw no line; shifted rows move the line', () => {
    const rows = new Map([[1, 0], [2, 1], [3, 2]]);
    const row = (i: number) => rows.get(i) ?? -1;
    expect(edgeLine(L, 3, 0, 0.5, row)).toBeUndefined();
    expect(edgeLine(L, 3, 1, 0.5, row)).toMatchObject({ y1: 58, y2: 18 });
  });
});

describe('heatmap geometry', () => {
  const g: HeatmapGeometry = { rows: 10, cols: 20, cell: 10, left: 50, top: 30, scrollX: 0, scrollY: 0, viewWidth: 100, viewHeight: 60 };
  it('fits the cell size', () => {
    expect(fitCell(10, 20, 100, 60)).toBe(5);
    expect(fitCell(1000, 1000, 100, 100)).toBe(2);
    expect(fitCell(2, 2, 1000, 1000)).toBe(64);
  });
  it('cell ↔ point', () => {
    expect(cellAt(g, 50, 30)).toEqual({ row: 0, col: 0 });
    expect(cellAt(g, 79, 55)).toEqual({ row: 2, col: 2 });
    expect(cellAt(g, 49, 55)).toBeUndefined();
    expect(cellAt(g, 150, 55)).toBeUndefined(); // right of the visible area
    expect(cellRect(g, 2, 3)).toEqual({ x: 80, y: 50, w: 10, h: 10 });
  });
  it('scrolled: the same point is a later cell', () => {
    const s = { ...g, scrollX: 35, scrollY: 20 };
    expect(cellAt(s, 50, 30)).toEqual({ row: 2, col: 3 });
    expect(cellRect(s, 2, 3)).toEqual({ x: 45, y: 30, w: 10, h: 10 });
    expect(visibleRange(s)).toEqual({ row0: 2, row1: 7, col0: 3, col1: 13 });
  });
  it('zoom keeps the anchored cell under the pointer', () => {
    const anchorX = 50 + 45, anchorY = 30 + 25; // inside cell (2, 4)
    const z = zoomTo(g, 20, anchorX, anchorY);
    expect(z.cell).toBe(20);
    expect(cellAt(z, anchorX, anchorY)).toEqual(cellAt(g, anchorX, anchorY));
    expect(z.scrollX).toBe(45);
    expect(z.scrollY).toBe(25);
  });
  it('scroll is clamped to the content and zoom to [2, 64]', () => {
    expect(clampScroll({ ...g, scrollX: 999, scrollY: -5 })).toMatchObject({ scrollX: 100, scrollY: 0 });
    expect(zoomTo(g, 1000).cell).toBe(64);
  });
  it('scrollIntoView moves only as needed', () => {
    const s = scrollIntoView(g, 8, 15);
    expect(s.scrollX).toBe(60);
    expect(s.scrollY).toBe(30);
    expect(scrollIntoView(s, 8, 15)).toEqual(s);
  });
  it('label stride thins labels on small cells', () => {
    expect(labelStride(12)).toBe(1);
    expect(labelStride(3)).toBe(4);
  });
});

describe('formatting', () => {
  it('nice ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 183, 6)).toEqual([0, 50, 100, 150]);
  });
  it('values and labels', () => {
    expect(formatValue(0.12345)).toBe('0.123');
    expect(formatValue(12345)).toBe('1.23e4');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(Infinity)).toBe('∞');
    expect(ellipsis('abcdefgh', 5)).toBe('abcd…');
    expect(ellipsis('😀😀', 2)).toBe('😀😀');
  });
});

import { cellWidth, fitAspect } from '../../../webview/lib/layout';

describe('rectangular cells (aspect)', () => {
  const g: HeatmapGeometry = { rows: 64, cols: 4, cell: 5, aspect: 6, left: 40, top: 20, scrollX: 0, scrollY: 0, viewWidth: 120, viewHeight: 320 };
  it('widens narrow matrices, not wide ones', () => {
    expect(fitAspect(4, 5, 400)).toBe(8);
    expect(fitAspect(4, 5, 200)).toBe(5);
    expect(fitAspect(100, 5, 400)).toBe(1);
  });
  it('cells are aspect × wider; hit-testing follows', () => {
    expect(cellWidth(g)).toBe(30);
    expect(cellRect(g, 2, 3)).toEqual({ x: 130, y: 30, w: 30, h: 5 });
    expect(cellAt(g, 40 + 65, 20 + 12)).toEqual({ row: 2, col: 2 });
  });
  it('zoom keeps the anchor with aspect', () => {
    const z = zoomTo({ ...g, viewWidth: 60, viewHeight: 100 }, 10, 40 + 50, 20 + 50);
    expect(cellAt(z, 90, 70)).toEqual(cellAt({ ...g, viewWidth: 60, viewHeight: 100 }, 90, 70));
  });
});
