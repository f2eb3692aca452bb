/**
 * The hover's Markdown, built from the hover data of one token. Pure (no vscode) so unit tests can check that token
 * text never injects markup or command links: every piece of text from the document or the vocabulary goes through
 * escapeMarkdown, and the only links are the ones built here from our own command ids.
 */
import type { Aggregation, TopEntry, ViewToken } from '../protocol/views';
import { escapeMarkdown, formatPercent, tokenLabel } from './format';

/** The command the hover's links run (registered by the workflow): opens a full view focused on a token. */
export const FOCUS_TOKEN_COMMAND = 'transformerExplorer.focusTokenInView';
/** The command that re-runs a stale analysis (the one line shown over stale text). */
export const RERUN_COMMAND = 'transformerExplorer.rerunAnalysis';
export const ANALYZE_COMMAND = 'transformerExplorer.analyzeSelection';
/** Every command a hover may link to: MarkdownString.isTrusted is limited to these. */
export const HOVER_COMMANDS: readonly string[] = [FOCUS_TOKEN_COMMAND, RERUN_COMMAND, ANALYZE_COMMAND];

export type FocusView = 'tokens' | 'attention' | 'predictions';

export interface HoverModel {
  /** Index of the hovered token in the analysis and how many tokens there are. */
  readonly index: number;
  readonly count: number;
  readonly token: ViewToken;
  /** The document text the token covers (may be empty for special tokens). */
  readonly sourceText: string;
  readonly layer: number;
  readonly nLayers: number;
  /** Head shown, or undefined for an aggregate over heads. */
  readonly head?: number;
  readonly aggregation: Aggregation;
  /** Top attended tokens, best first, with their vocabulary pieces. */
  readonly attended: readonly { readonly index: number; readonly piece: string; readonly weight: number }[];
  readonly next: readonly TopEntry[];
  readonly actual?: { readonly prob: number; readonly rank: number; readonly surprisalBits: number };
  /** Encoders (BERT): predictions are at [MASK] positions only, so "next" means something else. */
  readonly kind: 'decoder' | 'encoder' | 'encoder-decoder';
}

export function focusLink(label: string, view: FocusView, index: number): string {
  const args = encodeURIComponent(JSON.stringify([{ view, index }]));
  return `[${escapeMarkdown(label)}](command:${FOCUS_TOKEN_COMMAND}?${args} "Open the ${view} view at this token")`;
}

function headLabel(m: HoverModel): string {
  if (m.head !== undefined) return `layer ${m.layer}, head ${m.head}`;
  // The hover reports one layer: rollout and max are view-only aggregations, so say what the numbers are.
  return `layer ${m.layer}, mean over heads`;
}

export function buildHoverMarkdown(m: HoverModel): string {
  const lines: string[] = [];
  const piece = tokenLabel(m.token.token, 40);
  const source = m.sourceText ? tokenLabel(m.sourceText, 40) : '';
  const title = `**${escapeMarkdown(piece)}**`;
  const sourcePart = source && source !== piece ? ` ("${escapeMarkdown(source)}")` : '';
  lines.push(`${title}${sourcePart} · id ${m.token.id} · token ${m.index + 1} of ${m.count}${m.token.special ? ' · special' : ''}`);

  if (m.attended.length > 0) {
    const parts = m.attended.map((a) => `${escapeMarkdown(tokenLabel(a.piece, 16))} ${formatPercent(a.weight)}`);
    lines.push(`Attends to (${headLabel(m)}): ${parts.join(' · ')}`);
  }
  if (m.next.length > 0) {
    const parts = m.next.map((t) => `${escapeMarkdown(tokenLabel(t.token, 16))} ${formatPercent(t.prob)}`);
    lines.push(`${m.kind === 'encoder' ? 'Predicted here' : 'Next token'}: ${parts.join(' · ')}`);
  }
  if (m.actual) {
    lines.push(`Surprisal: ${m.actual.surprisalBits.toFixed(2)} bits (p = ${formatPercent(m.actual.prob)}, rank ${m.actual.rank + 1})`);
  }
  lines.push([
    focusLink('Attention', 'attention', m.index),
    focusLink('Predictions', 'predictions', m.index),
    focusLink('Tokens', 'tokens', m.index),
  ].join(' · '));
  // Two trailing spaces = a Markdown line break, so the hover stays compact without paragraphs.
  return lines.join('  \n');
}

/** The single line shown over stale analysed text. */
export function staleHoverMarkdown(): string {
  return `The text changed since it was analysed. [Re-run the analysis](command:${RERUN_COMMAND})`;
}
