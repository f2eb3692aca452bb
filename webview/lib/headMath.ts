/**
 * "The math of one head" for one query token, with the model's real numbers, in the textbook order:
 * q; every k; q·kᵀ; × scale (÷√d_k, or no scaling + relative bias for T5); causal mask; softmax → weights (Σ = 1);
 * Σ weights·v = the head's output z. RoPE models say that q and k are shown after rotation.
 */
import type { HeadMathSlice } from '../../src/protocol/views';
import { clear, h } from './dom';
import { ellipsis, formatValue } from './layout';

const vec = (v: ArrayLike<number>, max = 8) => {
  const parts = Array.from({ length: Math.min(v.length, max) }, (_, i) => formatValue(v[i], 3));
  return `[${parts.join(', ')}${v.length > max ? `, … (${v.length})` : ''}]`;
};

export class HeadMathPanel {
  readonly el: HTMLElement;
  constructor() {
    this.el = h('section', { class: 'te-headmath', 'aria-label': 'The math of one head' });
  }

  render(m: HeadMathSlice, tokenLabel: (index: number) => string): void {
    clear(this.el);
    const dk = m.dHead;
    const scaleText = m.bias ? 'no scaling; + learned relative-position bias' : m.scale === 1 ? 'no scaling' : `× ${formatValue(m.scale, 4)} (= 1/√${dk}${Math.abs(m.scale - 1 / Math.sqrt(dk)) > 1e-6 ? ', as the model does' : ''})`;
    const sum = m.weights.reduce((a, b) => a + b, 0);
    this.el.append(
      h('h3', {}, `Layer ${m.layer}, head ${m.head}${m.kvHead !== m.head ? ` (key/value head ${m.kvHead})` : ''} — query #${m.query} ${tokenLabel(m.query)}`),
      h('ol', { class: 'te-steps' },
        h('li', {}, h('b', {}, 'q'), ` = x·W_Q${m.rotary ? ', then rotated by RoPE at its position' : ''}: `, h('code', {}, vec(m.q, dk <= 16 ? dk : 8))),
        h('li', {}, h('b', {}, 'k'), ` for every key${m.rotary ? ' (rotated by RoPE at the key position)' : ''}, `, h('b', {}, 'q·kᵀ'), `, then ${scaleText}.`),
        h('li', {}, m.causal ? `Causal mask: keys after position ${m.query} are −∞ (not shown).` : 'No mask: every key is visible.'),
        h('li', {}, h('b', {}, 'softmax'), ` turns scores into weights; Σ weights = ${sum.toFixed(6)}.`),
        h('li', {}, h('b', {}, 'z = Σ weightᵢ·vᵢ'), ': ', h('code', {}, vec(m.z, dk <= 16 ? dk : 8))),
      ),
    );
    const table = h('table', { class: 'te-math-table' });
    const head = h('tr', {}, ...['key', 'k', 'q·k', m.bias ? '+ bias' : `× ${formatValue(m.scale, 3)}`, 'score', 'weight', 'v'].map((c) => h('th', { scope: 'col' }, c)));
    table.append(h('thead', {}, head));
    const body = h('tbody', {});
    const maxW = Math.max(...m.weights);
    m.keys.forEach((key, i) => {
      const w = m.weights[i];
      const row = h('tr', { 'data-key': key, class: w === maxW ? 'te-top' : undefined },
        h('th', { scope: 'row', class: 'te-mono' }, `#${key} ${ellipsis(tokenLabel(key), 12)}`),
        h('td', { class: 'te-mono te-vec' }, vec(m.k.data.subarray(i * dk, (i + 1) * dk), 4)),
        h('td', { class: 'te-num' }, formatValue(m.dots[i], 4)),
        h('td', { class: 'te-num' }, m.bias ? formatValue(m.bias[i], 4) : formatValue(m.dots[i] * m.scale, 4)),
        h('td', { class: 'te-num' }, formatValue(m.scores[i], 4)),
        h('td', { class: 'te-num te-weight' }, h('span', { class: 'te-bar' }), w.toFixed(4)),
        h('td', { class: 'te-mono te-vec' }, vec(m.v.data.subarray(i * dk, (i + 1) * dk), 4)),
      );
      (row.querySelector('.te-bar') as HTMLElement).style.width = `${Math.round(48 * w)}px`;
      body.append(row);
    });
    table.append(body);
    this.el.append(h('div', { class: 'te-table-wrap' }, table));
  }
}
