/**
 * Next-token predictions: per position the top-k (k and temperature adjustable), the actual next token's
 * probability and rank, a surprisal strip (also paintable onto the editor), the logit lens (layer × position,
 * top-1 + probability, top-k on hover), BERT [MASK] predictions, and "Continue text".
 */
import type { AnalysisSummary, LogitLensSlice, PredictionsSlice, TopEntry, ViewState, ViewToken } from '../../src/protocol/views';
import { detectPieceScheme, pieceLabel } from '../../src/engine/analysis/tokens';
import { readableOn, sequentialScale, type SequentialScale } from '../lib/color';
import { clear, h } from '../lib/dom';
import { formatValue } from '../lib/layout';
import { legend } from '../lib/legend';
import { TokenChips } from '../lib/tokenChips';
import type { ExportData, ViewContext, ViewImpl } from './context';
import { button, numberField, select } from './controls';
import { tokenLabels } from './tokenLabels';

const rgb = (c: { r: number; g: number; b: number }) => `rgb(${c.r | 0}, ${c.g | 0}, ${c.b | 0})`;

export class PredictionsView implements ViewImpl {
  readonly title = 'Predictions';
  private s?: AnalysisSummary;
  private pred?: PredictionsSlice;
  private lens?: LogitLensSlice;
  private readonly strip = new TokenChips();
  private seq = 0;
  private cont = { tokens: 20, mode: 'greedy' as 'greedy' | 'sample', seed: 1, temperature: 1 };

  constructor(private readonly ctx: ViewContext) {}

  private get k(): number { return this.ctx.state().topK || 5; }
  private get temperature(): number { return this.ctx.state().temperature ?? 1; }

  setSummary(s: AnalysisSummary): void {
    this.s = s;
    this.buildControls();
    void this.refresh();
  }

  setTheme(): void {
    if (this.pred) this.draw();
  }

  highlight(indices: readonly number[]): void {
    this.strip.highlight(indices);
    const set = new Set(indices);
    for (const tr of this.ctx.shell.body.querySelectorAll<HTMLElement>('tr[data-position]')) tr.classList.toggle('highlight', set.has(Number(tr.dataset.position)));
  }

  focus(state: ViewState): void {
    this.ctx.save(state);
    this.buildControls();
    void this.refresh();
  }

  private buildControls(): void {
    const c = this.ctx.shell.controls;
    clear(c);
    c.append(h('div', { class: 'te-control-row' },
      numberField('Top-k', this.k, 1, 20, (v) => { this.ctx.save({ topK: v }); void this.refresh(); }),
      numberField('Temperature', this.temperature, 0.05, 10, (v) => { this.ctx.save({ temperature: v }); void this.refresh(); }, 0.05),
      this.s?.model.kind === 'encoder' ? undefined : button('Paint surprisal on editor', () => this.paintSurprisal(), { secondary: true, action: 'paint' })));
    const footer = this.ctx.shell.footer;
    clear(footer);
    if (this.s?.model.kind !== 'encoder') {
      footer.append(h('div', { class: 'te-control-row te-continue', role: 'group', 'aria-label': 'Continue text' },
        h('strong', {}, 'Continue text'),
        numberField('New tokens', this.cont.tokens, 1, 256, (v) => { this.cont.tokens = v; }),
        select('Decoding', [{ value: 'greedy', label: 'Greedy' }, { value: 'sample', label: 'Sampled' }], this.cont.mode, (v) => { this.cont.mode = v as 'greedy' | 'sample'; }),
        numberField('Seed', this.cont.seed, 0, 2 ** 31, (v) => { this.cont.seed = v; }),
        numberField('Sampling temperature', this.cont.temperature, 0.05, 10, (v) => { this.cont.temperature = v; }, 0.05),
        button('Continue', () => this.ctx.host.notify({ type: 'continue', request: { ...this.cont } }), { action: 'continue' })));
    }
  }

  private async refresh(): Promise<void> {
    if (!this.s) return;
    const my = ++this.seq;
    const [pred, lens] = await Promise.all([
      this.ctx.load('Computing predictions…', this.ctx.host.request({ slice: 'predictions', query: { k: this.k, temperature: this.temperature } })),
      this.s.model.kind === 'decoder' ? this.ctx.load('Computing the logit lens…', this.ctx.host.request({ slice: 'logitLens', k: Math.min(this.k, 10) })) : Promise.resolve(undefined),
    ]);
    if (!pred || my !== this.seq) return;
    this.pred = pred;
    this.lens = lens;
    this.draw();
    this.ctx.drawn('predictions');
  }

  private scale(max: number): SequentialScale {
    const t = this.ctx.theme();
    return sequentialScale(t.background, t.accent, 0, max > 0 ? max : 1);
  }

  private label(e: TopEntry): string {
    return pieceLabel(e.token, detectPieceScheme([e.token, ...this.s!.tokens.map((t) => t.token)]));
  }

  private draw(): void {
    const s = this.s!, p = this.pred!;
    const body = this.ctx.shell.body;
    const theme = this.ctx.theme();
    clear(body);
    if (s.model.kind === 'encoder') { this.drawMasked(p, tokenLabels(s.tokens)); return; }
    // Encoder-decoders predict the target (decoder) text; its offsets are not in the editor.
    const seq = this.sequence();
    const labels = tokenLabels(seq.tokens);
    // surprisal strip: the surprisal of token t+1 given the prefix, drawn on token t+1
    const maxBits = Math.max(1, ...p.surprisalBits);
    const sScale = this.scale(maxBits);
    this.strip.setTokens(seq.text, seq.tokens);
    this.strip.el.dataset.editor = String(seq.inEditor);
    this.strip.setWeights((i) => (i >= 1 && i - 1 < p.surprisalBits.length ? p.surprisalBits[i - 1] : undefined), (v) => sScale.color(v), theme.foreground, theme.background);
    const mean = p.surprisalBits.length ? p.surprisalBits.reduce((a, b) => a + b, 0) / p.surprisalBits.length : 0;
    body.append(h('section', { class: 'te-panel' }, h('h2', {}, 'Surprisal of each token (bits)'),
      h('p', { class: 'te-hint' }, `How unexpected each token was given the text before it: −log₂ p. Mean ${mean.toFixed(2)} bits/token (perplexity ${Math.pow(2, mean).toFixed(2)}).`),
      this.strip.el, legend(sScale, 'surprisal (bits)')));
    if (p.masks && p.masks.length) {
      body.append(h('section', { class: 'te-panel' }, h('h2', {}, '[MASK] predictions'),
        ...p.masks.map((m) => h('div', { class: 'te-mask' }, h('span', { class: 'te-mono' }, `#${m.position} ${labels[m.position]}:`), this.topList(m.top)))));
    }
    // per-position table
    const table = h('table', { class: 'te-pred-table' },
      h('thead', {}, h('tr', {}, ...['#', 'token', 'actual next', 'p(next)', 'rank', 'surprisal (bits)', `top-${this.k} (T = ${this.temperature})`].map((c) => h('th', { scope: 'col' }, c)))));
    const tbody = h('tbody', {});
    seq.tokens.forEach((t, i) => {
      const hasNext = i < p.actualProb.length && i + 1 < seq.tokens.length;
      const tr = h('tr', { 'data-position': i, 'data-start': t.start, 'data-end': t.end },
        h('td', { class: 'te-num' }, String(i)),
        h('td', { class: 'te-mono' }, labels[i]),
        h('td', { class: 'te-mono' }, hasNext ? labels[i + 1] : '—'),
        h('td', { class: 'te-num' }, hasNext ? formatValue(p.actualProb[i], 3) : ''),
        h('td', { class: 'te-num' }, hasNext ? String(p.actualRank[i] + 1) : ''),
        h('td', { class: 'te-num' }, hasNext ? p.surprisalBits[i].toFixed(2) : ''),
        h('td', {}, this.topList(p.top[i] ?? [], hasNext ? seq.tokens[i + 1].id : undefined)));
      tr.addEventListener('mouseenter', () => { if (t.end > t.start && seq.inEditor) this.ctx.host.notify({ type: 'hoverToken', start: t.start, end: t.end, editor: true }); });
      tr.addEventListener('mouseleave', () => this.ctx.host.notify({ type: 'leaveToken' }));
      tbody.append(tr);
    });
    table.append(tbody);
    body.append(h('section', { class: 'te-panel' }, h('h2', {}, 'Next-token predictions per position'), h('div', { class: 'te-table-wrap' }, table)));
    if (this.lens) body.append(this.lensGrid(this.lens, labels));
  }

  /** The sequence whose next tokens are predicted: the analysed text, or an encoder-decoder's target. */
  private sequence(): { text: string; tokens: readonly ViewToken[]; inEditor: boolean } {
    const s = this.s!;
    return s.model.kind === 'encoder-decoder' && s.targetTokens ? { text: s.targetText ?? '', tokens: s.targetTokens, inEditor: false } : { text: s.text, tokens: s.tokens, inEditor: true };
  }

  /** Encoders (BERT) predict the token at each position, not the next one: show [MASK] predictions and per-position top-k. */
  private drawMasked(p: PredictionsSlice, labels: string[]): void {
    const s = this.s!;
    const body = this.ctx.shell.body;
    body.append(h('p', { class: 'te-hint' }, 'A masked language model predicts the token at each position from both sides; [MASK] positions are what it was trained to fill.'));
    body.append(h('section', { class: 'te-panel' }, h('h2', {}, '[MASK] predictions'),
      ...(p.masks && p.masks.length ? p.masks.map((m) => h('div', { class: 'te-mask' }, h('span', { class: 'te-mono' }, `#${m.position} ${labels[m.position]}:`), this.topList(m.top)))
        : [h('p', { class: 'te-hint' }, 'The analysed text has no [MASK] token. Type [MASK] in the text and re-run to see what the model fills in.')])));
    const table = h('table', { class: 'te-pred-table' }, h('thead', {}, h('tr', {}, ...['#', 'token', `top-${this.k} at this position (T = ${this.temperature})`].map((c) => h('th', { scope: 'col' }, c)))));
    const tbody = h('tbody', {});
    s.tokens.forEach((t, i) => {
      const tr = h('tr', { 'data-position': i, 'data-start': t.start, 'data-end': t.end }, h('td', { class: 'te-num' }, String(i)), h('td', { class: 'te-mono' }, labels[i]), h('td', {}, this.topList(p.top[i] ?? [], t.id)));
      tr.addEventListener('mouseenter', () => { if (t.end > t.start) this.ctx.host.notify({ type: 'hoverToken', start: t.start, end: t.end, editor: true }); });
      tr.addEventListener('mouseleave', () => this.ctx.host.notify({ type: 'leaveToken' }));
      tbody.append(tr);
    });
    table.append(tbody);
    body.append(h('section', { class: 'te-panel' }, h('h2', {}, 'Predictions per position'), h('div', { class: 'te-table-wrap' }, table)));
  }

  private topList(top: readonly TopEntry[], actual?: number): HTMLElement {
    const list = h('ol', { class: 'te-top' });
    for (const e of top) {
      const bar = h('span', { class: 'te-bar' });
      bar.style.setProperty('--p', e.prob.toFixed(4));
      list.append(h('li', { class: e.id === actual ? 'te-actual' : undefined, title: `id ${e.id}  p = ${e.prob.toFixed(6)}` }, h('span', { class: 'te-mono' }, this.label(e)), bar, h('span', { class: 'te-num' }, formatValue(e.prob, 3))));
    }
    return list;
  }

  private lensGrid(lens: LogitLensSlice, labels: string[]): HTMLElement {
    const theme = this.ctx.theme();
    const scale = this.scale(1);
    const table = h('table', { class: 'te-lens', 'aria-label': 'Logit lens: top prediction per layer and position' });
    table.append(h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'layer \\ pos'), ...lens.positions.map((pos) => h('th', { scope: 'col', class: 'te-mono', title: `#${pos}` }, labels[pos])))));
    const tbody = h('tbody', {});
    const last = lens.top.length - 1; // rows: residual entering block 0…n_layers-1, then the final output
    for (let l = last; l >= 0; l--) {
      const tr = h('tr', {}, h('th', { scope: 'row' }, l === last ? 'output' : `L${l} in`));
      lens.positions.forEach((pos, pi) => {
        const top = lens.top[l]?.[pi] ?? [];
        const best = top[0];
        const td = h('td', { class: 'te-lens-cell te-mono', 'data-layer': l, 'data-position': pos, title: top.map((e) => `${this.label(e)}  ${formatValue(e.prob, 3)}`).join('\n') },
          best ? this.label(best) : '', h('small', {}, best ? formatValue(best.prob, 2) : ''));
        if (best) {
          const c = scale.color(best.prob);
          td.style.backgroundColor = rgb(c);
          td.style.color = rgb(readableOn(c, theme.foreground, theme.background));
        }
        const t = this.sequence().inEditor ? this.s!.tokens[pos] : undefined;
        td.addEventListener('mouseenter', () => { if (t && t.end > t.start) this.ctx.host.notify({ type: 'hoverToken', start: t.start, end: t.end, editor: true }); });
        tr.append(td);
      });
      tbody.append(tr);
    }
    table.append(tbody);
    return h('section', { class: 'te-panel' }, h('h2', {}, 'Logit lens'),
      h('p', { class: 'te-hint' }, 'The final norm and unembedding applied to the residual stream entering each layer: what the model would predict if it stopped there. Hover a cell for the top-k.'),
      h('div', { class: 'te-table-wrap' }, table), legend(scale, 'top-1 probability'));
  }

  private paintSurprisal(): void {
    const p = this.pred, s = this.s;
    if (!p || !s) return;
    if (s.model.kind === 'encoder') { this.ctx.shell.showError('Surprisal needs a left-to-right model; this is a masked language model.'); return; }
    if (!this.sequence().inEditor) { this.ctx.shell.showError('The predicted (target) text of an encoder-decoder is not in the editor, so there is nothing to paint.'); return; }
    const max = Math.max(1e-9, ...p.surprisalBits);
    this.ctx.paint({
      label: 'Surprisal per token (bits)',
      weights: Array.from(p.surprisalBits, (b, i) => ({ index: i + 1, weight: b / max, title: `surprisal ${b.toFixed(2)} bits, p = ${formatValue(p.actualProb[i], 3)}` })).filter((w) => s.tokens[w.index] && !s.tokens[w.index].special),
    });
  }

  exportData(): ExportData | undefined {
    if (!this.pred) return undefined;
    return { name: 'predictions', json: () => ({ predictions: this.pred, logitLens: this.lens }) };
  }
}
