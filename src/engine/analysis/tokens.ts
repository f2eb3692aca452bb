/**
 * Token text for people: visible whitespace, byte pieces decoded, and grouping of the pieces that share one
 * character span (GPT-2 byte-level `ðŁĺ`+`Ģ` for 😀, Llama byte-fallback `<0xF0>`…`<0x80>`). Pure functions,
 * shared by the worker and the webviews.
 */

/** How a visible whitespace mark reads: space → ·, tab → →, newline → ↵, carriage return → ␍. */
export const WHITESPACE_MARKS: Readonly<Record<string, string>> = { ' ': '·', '\t': '→', '\n': '↵', '\r': '␍', '\u00a0': '⍽' };

/** Makes whitespace in plain text visible (the analysed text's own characters). */
export function visualiseWhitespace(text: string): string {
  let out = '';
  for (const ch of text) out += WHITESPACE_MARKS[ch] ?? ch;
  return out;
}

/** GPT-2's byte-level alphabet: byte b ↔ a printable code point (bytes_to_unicode in the GPT-2 encoder). */
const BYTE_TO_CHAR: string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) map[b] = printable.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  return map;
})();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

export type PieceScheme = 'byte-level' | 'sentencepiece' | 'wordpiece' | 'plain';

/** Guesses how a vocabulary spells its pieces from a few of its tokens (Ġ/Ċ → byte-level, ▁ → sentencepiece, ## → wordpiece). */
export function detectPieceScheme(tokens: readonly string[]): PieceScheme {
  if (tokens.some((t) => /[ĠĊĉ]/.test(t))) return 'byte-level';
  if (tokens.some((t) => t.includes('▁') || /^<0x[0-9A-Fa-f]{2}>$/.test(t))) return 'sentencepiece';
  if (tokens.some((t) => t.startsWith('##'))) return 'wordpiece';
  return 'plain';
}

const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;

/** The raw bytes a piece stands for, when it is a byte-fallback token or a byte-level piece; undefined otherwise. */
export function pieceBytes(token: string, scheme: PieceScheme): number[] | undefined {
  const m = BYTE_FALLBACK.exec(token);
  if (m) return [parseInt(m[1], 16)];
  if (scheme !== 'byte-level') return undefined;
  const bytes: number[] = [];
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  return bytes;
}

/** Decodes UTF-8 bytes strictly; undefined when they are not complete, valid UTF-8 (a partial character). */
export function decodeUtf8Strict(bytes: readonly number[]): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** Control characters other than tab/newline/CR have no visible form: show such pieces as bytes. */
function hasControl(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

const hex = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/**
 * The text a single piece shows, whitespace visible: `Ġworld` → `·world`, `▁Hello` → `·Hello`, `Ċ` → `↵`,
 * `<0x0A>` → `↵`, `##ing` → `##ing` (kept: it says "continues a word"), a partial UTF-8 byte piece → its hex
 * bytes (`ðŁĺ` → `F0 9F 98`).
 */
export function pieceLabel(token: string, scheme: PieceScheme): string {
  const bytes = pieceBytes(token, scheme);
  if (bytes) {
    const text = decodeUtf8Strict(bytes);
    return text !== undefined && !hasControl(text) ? visualiseWhitespace(text) : bytes.map(hex).join(' ');
  }
  if (scheme === 'sentencepiece') return visualiseWhitespace(token.replace(/▁/g, ' '));
  return visualiseWhitespace(token);
}

export interface TokenSpan {
  readonly start: number;
  readonly end: number;
}

/** Consecutive tokens that cover the same characters; a group of one is an ordinary token. */
export interface TokenGroup {
  /** Token indices, in order. */
  readonly indices: number[];
  readonly start: number;
  readonly end: number;
}

/**
 * Groups consecutive tokens whose character spans overlap: byte pieces of one character, byte-fallback runs and
 * NFKC expansions all get the same (or an overlapping) span from the tokenizer. Empty spans (special tokens the
 * post-processor added, [0,0]) always stand alone.
 */
export function groupTokens(spans: readonly TokenSpan[]): TokenGroup[] {
  const groups: TokenGroup[] = [];
  let cur: { indices: number[]; start: number; end: number } | undefined;
  spans.forEach((s, i) => {
    const empty = s.end <= s.start;
    if (cur && !empty && s.start < cur.end) {
      cur.indices.push(i);
      cur.end = Math.max(cur.end, s.end);
      return;
    }
    if (cur) groups.push(cur);
    cur = { indices: [i], start: s.start, end: s.end };
    if (empty) { groups.push(cur); cur = undefined; }
  });
  if (cur) groups.push(cur);
  return groups;
}

/** Token count and characters per token over the non-special tokens (the usual "compression" figure). */
export function tokenStats(text: string, special: readonly boolean[]): { tokens: number; characters: number; charsPerToken: number } {
  const tokens = special.filter((s) => !s).length;
  const characters = [...text].length;
  return { tokens, characters, charsPerToken: tokens > 0 ? characters / tokens : 0 };
}
