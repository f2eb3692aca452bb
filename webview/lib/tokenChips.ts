/**
 * Token chips: the analysed tokens in source order. Pieces that share one character span (byte-level or
 * byte-fallback pieces of one character) form one chip. Every chip carries data-start/data-end (offsets in the
 * analysed text) and data-indices, emits te-token-hover / te-token-leave / te-token-reveal / te-token-toggle, and is
 * keyboard-navigable (roving tabindex; arrows move, Enter reveals, Space toggles selection).
 */
import type { ViewToken } from '../../src/protocol/views';
import { detectPieceScheme, groupTokens, pieceLabel, visualiseWhitespace, type PieceScheme, type TokenGroup } from '../../src/engine/analysis/tokens';
import type { Rgb } from './color';
import { clear, emit, h } from './dom';
import { readableOn } from './color';

export interface TokenEventDetail {
  readonly indices: readonly number[];
  readonly start: number;
  readonly end: number;
}

export interface ChipOptions {
  /** Space/click toggles selection (query tokens) instead of only revealing. */
  readonly selectable?: boolean;
}

export class TokenChips {
  readonly el: HTMLElement;
  private text = '';
  private tokens: readonly ViewToken[] = [];
  private groups: TokenGroup[] = [];
  private chips: HTMLElement[] = [];
  private scheme: PieceScheme = 'plain';
  private showIds = false;
  private focusIndex = 0;

  constructor(private readonly opts: ChipOptions = {}) {
    this.el = h('div', { class: 'te-chips', role: 'listbox', 'aria-label': 'Tokens', 'aria-multiselectable': opts.selectable ? 'true' : undefined });
    this.el.addEventListener('keydown', (e) => this.onKey(e));
  }

  setTokens(text: string, tokens: readonly ViewToken[]): void {
    this.text = text;
    this.tokens = tokens;
    this.scheme = detectPieceScheme(tokens.map((t) => t.token));
    this.groups = groupTokens(tokens);
    this.focusIndex = 0;
    this.render();
  }

  setShowIds(show: boolean): void {
    this.showIds = show;
    this.render();
  }

  get groupCount(): number {
    return this.groups.length;
  }

  /** Chip label for a group: the piece text with visible whitespace, or the shared characters of a byte group. */
  labelOf(g: TokenGroup): string {
    if (this.showIds) return g.indices.map((i) => this.tokens[i].id).join(' ');
    if (g.indices.length === 1) {
      const t = this.tokens[g.indices[0]];
      return t.special ? t.token : pieceLabel(t.token, this.scheme);
    }
    return visualiseWhitespace(this.text.slice(g.start, g.end));
  }

  private render(): void {
    clear(this.el);
    this.chips = this.groups.map((g, gi) => {
      const first = this.tokens[g.indices[0]];
      const special = g.indices.length === 1 && first.special;
      const pieces = g.indices.map((i) => `${this.tokens[i].token} (${this.tokens[i].id})`).join(' + ');
      const chip = h('span', {
        class: `te-chip${special ? ' special' : ''}${g.indices.length > 1 ? ' group' : ''}`,
        role: 'option',
        tabindex: gi === this.focusIndex ? 0 : -1,
        'data-start': g.start,
        'data-end': g.end,
        'data-indices': g.indices.join(' '),
        title: `#${g.indices.join(', #')}  ${pieces}  [${g.start}, ${g.end})${special ? '  special token' : ''}`,
        'aria-selected': 'false',
      }, h('span', { class: 'te-chip-text' }, this.labelOf(g)));
      if (g.indices.length > 1 && !this.showIds) chip.append(h('span', { class: 'te-chip-badge', title: `${g.indices.length} pieces share these characters` }, `×${g.indices.length}`));
      chip.addEventListener('mouseenter', () => emit<TokenEventDetail>(chip, 'te-token-hover', this.detail(g)));
      chip.addEventListener('mouseleave', () => emit(chip, 'te-token-leave', {}));
      chip.addEventListener('focus', () => { this.focusIndex = gi; emit<TokenEventDetail>(chip, 'te-token-hover', this.detail(g)); });
      chip.addEventListener('click', (e) => {
        this.moveFocus(gi);
        if (this.opts.selectable) emit<TokenEventDetail & { additive: boolean }>(chip, 'te-token-toggle', { ...this.detail(g), additive: e.ctrlKey || e.metaKey || e.shiftKey });
        emit<TokenEventDetail>(chip, 'te-token-reveal', this.detail(g));
      });
      return chip;
    });
    this.el.append(...this.chips);
  }

  private detail(g: TokenGroup): TokenEventDetail {
    return { indices: g.indices, start: g.start, end: g.end };
  }

  private moveFocus(gi: number): void {
    if (this.chips.length === 0) return;
    const next = Math.max(0, Math.min(this.chips.length - 1, gi));
    this.chips[this.focusIndex]?.setAttribute('tabindex', '-1');
    this.focusIndex = next;
    const chip = this.chips[next];
    chip.setAttribute('tabindex', '0');
    chip.focus();
  }

  private onKey(e: KeyboardEvent): void {
    const g = this.groups[this.focusIndex];
    switch (e.key) {
      case 'ArrowRight': case 'ArrowDown': this.moveFocus(this.focusIndex + 1); break;
      case 'ArrowLeft': case 'ArrowUp': this.moveFocus(this.focusIndex - 1); break;
      case 'Home': this.moveFocus(0); break;
      case 'End': this.moveFocus(this.chips.length - 1); break;
      case 'Enter': if (g) emit<TokenEventDetail>(this.chips[this.focusIndex], 'te-token-reveal', this.detail(g)); break;
      case ' ':
        if (g && this.opts.selectable) emit(this.chips[this.focusIndex], 'te-token-toggle', { ...this.detail(g), additive: true });
        break;
      default: return;
    }
    e.preventDefault();
  }

  /** Marks chips whose tokens are in `indices` (e.g. under the editor cursor). */
  highlight(indices: readonly number[]): void {
    const set = new Set(indices);
    this.groups.forEach((g, gi) => {
      const on = g.indices.some((i) => set.has(i));
      this.chips[gi].classList.toggle('highlight', on);
      if (on && indices.length > 0) this.chips[gi].scrollIntoView({ block: 'nearest', inline: 'nearest' });
    });
  }

  /** Marks selected chips (chosen query tokens). */
  setSelected(indices: readonly number[]): void {
    const set = new Set(indices);
    this.groups.forEach((g, gi) => {
      const on = g.indices.some((i) => set.has(i));
      this.chips[gi].classList.toggle('selected', on);
      this.chips[gi].setAttribute('aria-selected', String(on));
    });
  }

  /** Paints a background per chip from per-token weights (a group takes its largest), or clears with undefined. */
  setWeights(weights: ((index: number) => number | undefined) | undefined, color?: (w: number) => Rgb, fg?: Rgb, bg?: Rgb): void {
    this.groups.forEach((g, gi) => {
      const chip = this.chips[gi];
      if (!weights || !color) { chip.style.removeProperty('background-color'); chip.style.removeProperty('color'); return; }
      const vals = g.indices.map(weights).filter((v): v is number => v !== undefined);
      if (vals.length === 0) { chip.style.removeProperty('background-color'); chip.style.removeProperty('color'); return; }
      const c = color(Math.max(...vals));
      chip.style.backgroundColor = `rgb(${c.r | 0}, ${c.g | 0}, ${c.b | 0})`;
      if (fg && bg) { const t = readableOn(c, fg, bg); chip.style.color = `rgb(${t.r | 0}, ${t.g | 0}, ${t.b | 0})`; }
    });
  }
}
