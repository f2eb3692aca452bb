/** Short labels for tokens in charts: the piece with visible whitespace (special tokens as spelled). */
import type { ViewToken } from '../../src/protocol/views';
import { detectPieceScheme, pieceLabel } from '../../src/engine/analysis/tokens';

export function tokenLabels(tokens: readonly ViewToken[]): string[] {
  const scheme = detectPieceScheme(tokens.map((t) => t.token));
  return tokens.map((t) => (t.special ? t.token : pieceLabel(t.token, scheme)));
}
