/** Progress shown only for work that takes longer than ~300 ms: a ring plus a label, determinate when total > 0. */
import { h } from './dom';

export const PROGRESS_DELAY_MS = 300;

export class Progress {
  readonly el: HTMLElement;
  private readonly label: HTMLElement;
  private timer?: ReturnType<typeof setTimeout>;
  private pending = 0;

  constructor() {
    this.label = h('span', { class: 'te-progress-label' });
    this.el = h('div', { class: 'te-progress', role: 'status', 'aria-live': 'polite', hidden: true }, h('vscode-progress-ring', {}), this.label);
  }

  /** Starts (or joins) a busy period; shows the indicator after the delay. */
  begin(label: string): void {
    this.pending++;
    this.label.textContent = label;
    if (this.timer === undefined && this.el.hidden) this.timer = setTimeout(() => { this.timer = undefined; if (this.pending > 0) this.el.hidden = false; }, PROGRESS_DELAY_MS);
  }

  update(label: string, done: number, total: number): void {
    this.label.textContent = total > 0 ? `${label} ${done}/${total}` : label;
  }

  end(): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending > 0) return;
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
    this.el.hidden = true;
  }

  /** Wraps a promise in begin/end. */
  async track<T>(label: string, p: Promise<T>): Promise<T> {
    this.begin(label);
    try { return await p; } finally { this.end(); }
  }
}
