/**
 * Tokenization view: chips in source order (ids, visible whitespace, grouped byte pieces, special tokens marked),
 * token count and characters per token, text ↔ ids. Encoder-decoders show source and target.
 */
import { tokenStats } from '../../src/engine/analysis/tokens';
import type { AnalysisSummary, ViewState, ViewToken } from '../../src/protocol/views';
import { clear, h } from '../lib/dom';
import { TokenChips } from '../lib/tokenChips';
import type { ExportData, ViewContext, ViewImpl } from './context';
import { checkbox } from './controls';

export class TokensView implements ViewImpl {
  readonly title = 'Tokens';
  private s?: AnalysisSummary;
  private readonly source = new TokenChips();
  private readonly target = new TokenChips();
  private readonly stats = h('p', { class: 'te-stats', 'aria-live': 'polite' });

  constructor(private readonly ctx: ViewContext) {
    this.target.el.classList.add('te-target');
  }

  setSummary(s: AnalysisSummary): void {
    this.s = s;
    const showIds = this.ctx.state().showIds ?? false;
    clear(this.ctx.shell.controls);
    this.ctx.shell.controls.append(h('div', { class: 'te-control-row' }, checkbox('Show ids', showIds, (on) => {
      this.ctx.save({ showIds: on });
      this.source.setShowIds(on);
      this.target.setShowIds(on);
    })), this.stats);
    this.source.setTokens(s.text, s.tokens);
    this.source.setShowIds(showIds);
    const body = this.ctx.shell.body;
    clear(body);
    if (s.targetTokens && s.targetText !== undefined) {
      this.target.setTokens(s.targetText, s.targetTokens);
      this.target.setShowIds(showIds);
      // target chips link to the target text, which is not in the editor: mark them so the app does not reveal
      this.target.el.dataset.editor = 'false';
      body.append(h('h2', {}, 'Source (encoder)'), this.source.el, h('h2', {}, 'Target (decoder)'), this.target.el);
    } else {
      body.append(this.source.el);
    }
    body.append(h('p', { class: 'te-hint' }, 'Hover a token to highlight its characters in the editor; click or Enter to select them. Arrow keys move between tokens. · space, → tab, ↵ newline; ×n = n byte pieces of one character.'));
    this.stats.textContent = this.describe(s.text, s.tokens);
    this.ctx.drawn('tokens');
  }

  private describe(text: string, tokens: readonly ViewToken[]): string {
    const st = tokenStats(text, tokens.map((t) => t.special));
    const special = tokens.length - st.tokens;
    return `${tokens.length} tokens (${st.tokens} from the text${special ? `, ${special} special` : ''}) · ${st.characters} characters · ${st.charsPerToken.toFixed(2)} characters per token`;
  }

  setTheme(): void { /* chips use CSS variables only */ }

  highlight(indices: readonly number[]): void {
    this.source.highlight(indices);
  }

  focus(state: ViewState): void {
    this.ctx.save(state);
    if (this.s) this.setSummary(this.s);
  }

  exportData(): ExportData | undefined {
    const s = this.s;
    if (!s) return undefined;
    return { name: 'tokens', json: () => ({ model: s.model.name, text: s.text, tokens: s.tokens, targetText: s.targetText, targetTokens: s.targetTokens }) };
  }
}
