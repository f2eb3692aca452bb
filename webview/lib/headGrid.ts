/**
 * All-heads grid: layers × heads thumbnails (max-pooled patterns). Each thumbnail is a button; click or Enter
 * emits te-open-head {layer, head}. Arrow keys move between thumbnails.
 */
import type { Matrix } from '../../src/protocol/views';
import type { ColorScale, Rgb } from './color';
import { clear, emit, h } from './dom';
import type { Theme } from './theme';

const rgb = (c: Rgb) => `rgb(${c.r | 0}, ${c.g | 0}, ${c.b | 0})`;

export class HeadGrid {
  readonly el: HTMLElement;
  private cells: HTMLElement[] = [];
  private layers = 0;
  private heads = 0;

  constructor() {
    this.el = h('div', { class: 'te-headgrid', role: 'grid', 'aria-label': 'All heads: layers × heads' });
    this.el.addEventListener('keydown', (e) => this.onKey(e));
  }

  setData(layers: number, heads: number, thumbs: readonly Matrix[], scale: ColorScale, theme: Theme, current?: { layer: number; head: number }, thumbPx = 64): void {
    this.layers = layers;
    this.heads = heads;
    clear(this.el);
    this.el.style.gridTemplateColumns = `max-content repeat(${heads}, ${thumbPx + 6}px)`;
    this.el.append(h('span', { class: 'te-headgrid-corner' }, 'L \\ H'));
    for (let hd = 0; hd < heads; hd++) this.el.append(h('span', { class: 'te-headgrid-colhead' }, String(hd)));
    this.cells = [];
    for (let l = 0; l < layers; l++) {
      this.el.append(h('span', { class: 'te-headgrid-rowhead' }, `L${l}`));
      for (let hd = 0; hd < heads; hd++) {
        const m = thumbs[l * heads + hd];
        const canvas = h('canvas', { width: m.cols, height: m.rows, class: 'te-thumb' });
        canvas.style.width = `${thumbPx}px`;
        canvas.style.height = `${thumbPx}px`;
        const ctx = canvas.getContext('2d');
        if (ctx) {
          const img = ctx.createImageData(m.cols, m.rows);
          for (let i = 0; i < m.rows * m.cols; i++) {
            const c = scale.color(m.data[i]);
            img.data[i * 4] = c.r; img.data[i * 4 + 1] = c.g; img.data[i * 4 + 2] = c.b; img.data[i * 4 + 3] = 255;
          }
          ctx.putImageData(img, 0, 0);
        }
        const isCurrent = current?.layer === l && current.head === hd;
        const cell = h('button', { class: `te-headgrid-cell${isCurrent ? ' current' : ''}`, title: `Layer ${l}, head ${hd}: open`, 'aria-label': `Layer ${l} head ${hd}`, tabindex: isCurrent || (!current && l === 0 && hd === 0) ? 0 : -1, 'data-layer': l, 'data-head': hd }, canvas);
        cell.style.borderColor = isCurrent ? rgb(theme.focus) : 'transparent';
        cell.addEventListener('click', () => emit(this.el, 'te-open-head', { layer: l, head: hd }));
        this.cells.push(cell);
        this.el.append(cell);
      }
    }
  }

  private onKey(e: KeyboardEvent): void {
    const i = this.cells.indexOf(document.activeElement as HTMLElement);
    if (i < 0) return;
    const l = Math.floor(i / this.heads), hd = i % this.heads;
    const go = (nl: number, nh: number) => {
      if (nl < 0 || nl >= this.layers || nh < 0 || nh >= this.heads) return;
      this.cells[i].tabIndex = -1;
      const next = this.cells[nl * this.heads + nh];
      next.tabIndex = 0;
      next.focus();
    };
    switch (e.key) {
      case 'ArrowRight': go(l, hd + 1); break;
      case 'ArrowLeft': go(l, hd - 1); break;
      case 'ArrowDown': go(l + 1, hd); break;
      case 'ArrowUp': go(l - 1, hd); break;
      default: return;
    }
    e.preventDefault();
  }
}
