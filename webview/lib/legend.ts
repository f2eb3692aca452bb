/** Colour legend: a gradient strip with its domain, curve and meaning, drawn from the same scale as the chart. */
import type { ColorScale } from './color';
import { h } from './dom';
import { formatValue } from './layout';

export function legend(scale: ColorScale, label: string, width = 180): HTMLElement {
  const canvas = h('canvas', { width, height: 10, class: 'te-legend-strip', 'aria-hidden': 'true' });
  const ctx = canvas.getContext('2d');
  const lo = scale.kind === 'sequential' ? scale.min : -scale.limit;
  const hi = scale.kind === 'sequential' ? scale.max : scale.limit;
  if (ctx) {
    for (let x = 0; x < width; x++) {
      ctx.fillStyle = scale.css(lo + ((hi - lo) * x) / (width - 1));
      ctx.fillRect(x, 0, 1, 10);
    }
  }
  const curve = scale.kind === 'sequential' && scale.curve === 'sqrt' ? ' (√ scale)' : '';
  return h('div', { class: 'te-legend', role: 'img', 'aria-label': `${label}: colour from ${formatValue(lo)} to ${formatValue(hi)}${curve}` },
    h('span', { class: 'te-legend-label' }, label + curve),
    h('span', { class: 'te-legend-min' }, formatValue(lo)), canvas, h('span', { class: 'te-legend-max' }, formatValue(hi)));
}
