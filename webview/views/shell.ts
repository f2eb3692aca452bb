/**
 * The frame every view shares: header (model, document, token count, time), stale banner with Re-run, error line,
 * a controls row, the view body, a progress indicator and the export/paint toolbar. Views fill `controls`/`body`.
 */
import { PAINT_BUCKETS, PAINT_RGB, paintAlpha, type AnalysisSummary } from '../../src/protocol/views';
import { h, icon } from '../lib/dom';
import { Progress } from '../lib/progress';

export interface ShellActions {
  onRerun(): void;
  onExport(format: 'png' | 'svg' | 'json'): void;
  onClearPaint(): void;
}

export class Shell {
  readonly el: HTMLElement;
  readonly controls: HTMLElement;
  readonly body: HTMLElement;
  readonly footer: HTMLElement;
  readonly progress = new Progress();
  private readonly title: HTMLElement;
  private readonly meta: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly error: HTMLElement;
  readonly toolbar: HTMLElement;
  private readonly paintLegend: HTMLElement;
  private readonly clearPaint: () => void;

  constructor(viewTitle: string, actions: ShellActions) {
    this.title = h('h1', { class: 'te-title' }, viewTitle);
    this.meta = h('div', { class: 'te-meta' });
    const btn = (name: string, label: string, fn: () => void) => {
      const b = h('vscode-toolbar-button', { title: label, 'aria-label': label, 'data-action': name }, icon(name === 'json' ? 'json' : name === 'svg' ? 'file-media' : name === 'png' ? 'device-camera' : 'clear-all'));
      b.addEventListener('click', fn);
      return b;
    };
    this.toolbar = h('div', { class: 'te-toolbar', role: 'toolbar', 'aria-label': 'Export' },
      btn('png', 'Export chart as PNG', () => actions.onExport('png')),
      btn('svg', 'Export chart as SVG', () => actions.onExport('svg')),
      btn('json', 'Export this slice as JSON', () => actions.onExport('json')),
      btn('clear', 'Clear highlights in the editor', () => actions.onClearPaint()));
    const rerun = h('vscode-button', { 'data-action': 'rerun' }, 'Re-run');
    rerun.addEventListener('click', () => actions.onRerun());
    this.banner = h('div', { class: 'te-banner', role: 'alert', hidden: true }, icon('warning'), h('span', {}, 'The analysed text has changed: links and numbers below are from the old text.'), rerun);
    this.error = h('div', { class: 'te-error', role: 'alert', hidden: true });
    this.clearPaint = () => actions.onClearPaint();
    this.paintLegend = h('div', { class: 'te-paint-legend', hidden: true, role: 'status' });
    this.controls = h('div', { class: 'te-controls' });
    this.body = h('main', { class: 'te-body' });
    this.footer = h('footer', { class: 'te-footer' });
    this.el = h('div', { class: 'te-shell' },
      h('header', { class: 'te-header' }, h('div', { class: 'te-heading' }, this.title, this.meta), this.toolbar),
      this.banner, this.error, this.paintLegend, this.controls, this.progress.el, this.body, this.footer);
  }

  setSummary(s: AnalysisSummary): void {
    const count = s.tokens.length;
    this.meta.textContent = `${s.model.name} · ${s.document} · ${count} token${count === 1 ? '' : 's'} · ${Math.round(s.elapsedMs)} ms`;
    this.setStale(s.stale);
  }

  setStale(stale: boolean): void {
    this.banner.hidden = !stale;
    document.body.classList.toggle('te-stale', stale);
  }

  /** The legend of what is painted on the editor text (same colour and buckets as the decorations). */
  showPaint(label: string | undefined): void {
    this.paintLegend.hidden = !label;
    this.paintLegend.replaceChildren();
    if (!label) return;
    const swatches = Array.from({ length: PAINT_BUCKETS }, (_, b) => {
      const sw = h('span', { class: 'te-paint-swatch' });
      sw.style.backgroundColor = `rgba(${PAINT_RGB.join(', ')}, ${paintAlpha(b).toFixed(3)})`;
      return sw;
    });
    const clear = h('vscode-button', { secondary: true, 'data-action': 'clear-paint' }, 'Clear');
    clear.addEventListener('click', () => this.clearPaint());
    this.paintLegend.append(icon('symbol-color'), h('span', {}, `On the editor: ${label}`), h('span', { class: 'te-paint-scale', 'aria-hidden': 'true' }, 'low', ...swatches, 'high'), clear);
  }

  showError(message: string | undefined): void {
    this.error.hidden = !message;
    this.error.textContent = message ?? '';
  }
}
