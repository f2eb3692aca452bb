/**
 * Hard inputs (astral emoji, ZWJ sequences, combining accents, CRLF, tabs, runs of spaces, unknown characters)
 * checked against invariants derived independently of the tokenizer:
 *  - every offset lies in the text, never inside a surrogate pair, and non-special spans are non-empty and in order;
 *  - byte-level (GPT-2) and byte-fallback (Llama) pieces: rebuilding the bytes of each token from the vocab
 *    spelling and mapping them back onto the text gives exactly the span the tokenizer reported;
 *  - BERT: each word piece is the lower-cased, accent-stripped text of its span;
 *  - every visible character is covered by some token; lossless tokenizers decode back to the input.
 */
import { describe, expect, it } from 'vitest';
import { loadTokenizer, type TokenizedText } from '../../../src/engine/tokenizer';
import { modelDir } from '../../support/fixtures';

const EDGE = [
  'Hi 😀!',
  '👨‍👩‍👧‍👦 family 👍🏽 🇫🇷',
  'Cafe\u0301 na\u0308ive résumé',
  'line1\r\nline2\r\n',
  'a\tb\t\tc',
  'a     b   ',
  '   leading and trailing   ',
  '☃ 東京タワー 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'zero\u200bwidth\u200djoiner\u00a0nbsp',
  'x\u0000y\u0007z\u007f',
  '𐍈𐌰𐌹 ꙮ \u{10FFFD}',
  'ﬁ ½ ① ㎏',
  'Ελληνικά 한국어 |pipe|',
  '',
  ' ',
  '\n',
];

const utf8 = new TextEncoder();

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The invariants every tokenizer must satisfy. */
function checkGeneric(text: string, enc: TokenizedText): void {
  const n = enc.ids.length;
  expect(enc.tokens.length).toBe(n);
  expect(enc.offsets.length).toBe(n);
  expect(enc.special.length).toBe(n);
  let lastStart = 0;
  enc.offsets.forEach(([s, e], i) => {
    expect(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s <= e && e <= text.length, `token ${i} [${s},${e}] out of bounds`).toBe(true);
    for (const b of [s, e]) {
      // A boundary between a high and a low surrogate would split one character in two.
      if (b > 0 && b < text.length) expect(isHigh(text.charCodeAt(b - 1)) && isLow(text.charCodeAt(b)), `token ${i} splits a surrogate pair at ${b}`).toBe(false);
    }
    if (enc.special[i]) return;
    expect(e > s, `non-special token ${i} ${JSON.stringify(enc.tokens[i])} has an empty span`).toBe(true);
    expect(s >= lastStart, `token ${i} starts before the previous one`).toBe(true);
    lastStart = s;
  });
}

/** Characters that no tokenizer has to show: whitespace, controls, format characters and combining marks. */
const INVISIBLE = /[\s\p{Cc}\p{Cf}\p{M}]/u;

function checkCoverage(text: string, enc: TokenizedText): void {
  const covered = new Uint8Array(text.length);
  enc.offsets.forEach(([s, e], i) => {
    if (!enc.special[i]) covered.fill(1, s, e);
  });
  for (let i = 0; i < text.length; ) {
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    if (!INVISIBLE.test(ch)) expect(covered[i], `character ${JSON.stringify(ch)} at ${i} is not covered`).toBe(1);
    i += ch.length;
  }
}

/** GPT-2's bytes_to_unicode table, inverted: vocab character → byte. */
function gpt2ByteDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = [...bytes];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + extra++);
    }
  }
  return new Map(bytes.map((b, i) => [String.fromCodePoint(chars[i]!), b]));
}

/**
 * Given each token's bytes and, for every byte of the normalized text, the original character it came from,
 * computes the span each token must have: from its first byte's character to its last byte's character.
 */
function expectedSpans(tokenBytes: number[][], byteToChar: [number, number][]): [number, number][] {
  let pos = 0;
  return tokenBytes.map((bytes) => {
    const first = byteToChar[pos]!;
    const last = byteToChar[pos + bytes.length - 1]!;
    pos += bytes.length;
    return [first[0], last[1]];
  });
}

/** For each UTF-8 byte of `text`, the UTF-16 span of the character it belongs to. */
function utf8ByteSpans(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < text.length; ) {
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    for (let k = 0; k < utf8.encode(ch).length; k++) out.push([i, i + ch.length]);
    i += ch.length;
  }
  return out;
}

describe('GPT-2 byte-level BPE on hard inputs', () => {
  const tok = loadTokenizer(modelDir('tiny-random-gpt2'));
  const byteOf = gpt2ByteDecoder();

  it.each(EDGE)('%j', async (text) => {
    const enc = await tok.encode(text);
    checkGeneric(text, enc);
    checkCoverage(text, enc);
    const tokenBytes = enc.tokens.map((t) => [...t].map((c) => byteOf.get(c)!));
    // Lossless: the bytes of all tokens are exactly the UTF-8 of the text…
    expect(Buffer.from(tokenBytes.flat()).equals(Buffer.from(utf8.encode(text)))).toBe(true);
    // …and each token's span is the set of characters its bytes came from (so pieces of one emoji share it).
    expect(enc.offsets).toEqual(expectedSpans(tokenBytes, utf8ByteSpans(text)));
    expect(await tok.decode(enc.ids)).toBe(text);
  });
});

describe('Llama (SentencePiece BPE with byte fallback) on hard inputs', () => {
  const tok = loadTokenizer(modelDir('stories260K'));

  it.each(EDGE)('%j', async (text) => {
    const enc = await tok.encode(text);
    checkGeneric(text, enc);
    expect(enc.tokens[0]).toBe('<s>');
    expect(enc.offsets[0]).toEqual([0, 0]);
    expect(enc.special[0]).toBe(true);
    const body = enc.tokens.slice(1);
    if (text === '') return expect(body).toEqual([]);
    checkCoverage(text, enc);
    // Normalization: "▁" is prepended (taking the first character's span), then spaces become "▁".
    const byteToChar = [utf8ByteSpans(text)[0]!, ...utf8ByteSpans(text)];
    const tokenBytes = body.map((t) => {
      const m = /^<0x([0-9A-F]{2})>$/.exec(t);
      return m ? [parseInt(m[1]!, 16)] : [...utf8.encode(t.replaceAll('▁', ' '))];
    });
    expect(Buffer.from(tokenBytes.flat()).equals(Buffer.from(utf8.encode(` ${text}`)))).toBe(true);
    expect(enc.offsets.slice(1)).toEqual(expectedSpans(tokenBytes, byteToChar));
    expect(await tok.decode(enc.ids, { skipSpecialTokens: true })).toBe(text);
  });
});

describe('BERT WordPiece on hard inputs', () => {
  const tok = loadTokenizer(modelDir('tiny-random-bert'));
  /** BERT's normalizer for one word: lower-case, strip accents (NFD then drop marks). */
  const REMOVED = /^[\p{Cc}\p{Cf}\p{M}]*$/u;
  const norm = (s: string) => s.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');

  it.each(EDGE)('%j', async (text) => {
    const enc = await tok.encode(text);
    checkGeneric(text, enc);
    expect(enc.tokens[0]).toBe('[CLS]');
    expect(enc.tokens.at(-1)).toBe('[SEP]');
    // Group word pieces by word: a word starts at a token without "##".
    const words: { span: [number, number]; last: [number, number]; pieces: string[] }[] = [];
    enc.tokens.forEach((t, i) => {
      if (enc.special[i]) return;
      const [s, e] = enc.offsets[i]!;
      if (t.startsWith('##')) {
        const w = words.at(-1)!;
        // Pieces of a word follow each other; between them only characters the normalizer removed (controls,
        // zero-width, combining marks), or they share one character that NFD split (Hangul syllable → jamo).
        const sameChar = s === w.last[0] && e === w.last[1];
        expect(sameChar || (s >= w.last[1] && REMOVED.test(text.slice(w.last[1], s))), `piece ${t} at [${s},${e}] after [${w.last}]`).toBe(true);
        w.span[1] = e;
        w.last = [s, e];
        w.pieces.push(t.slice(2));
      } else words.push({ span: [s, e], last: [s, e], pieces: [t] });
    });
    for (const w of words) {
      const surface = text.slice(...w.span);
      expect(/\s/u.test(surface), `word ${JSON.stringify(surface)} contains whitespace`).toBe(false);
      if (w.pieces[0] === '[UNK]') continue;
      // Control and zero-width characters are removed by clean_text, accents by strip_accents.
      expect(w.pieces.join('')).toBe(norm(surface).replace(/[\p{Cc}\p{Cf}]/gu, ''));
    }
  });
});

describe.each(['tiny-random-t5', 'tiny-random-marian'])('%s (Unigram, nmt_nfkc) on hard inputs', (model) => {
  const tok = loadTokenizer(modelDir(model));

  it.each(EDGE)('%j', async (text) => {
    const enc = await tok.encode(text);
    checkGeneric(text, enc);
    checkCoverage(text, enc);
    expect(enc.tokens.at(-1)).toBe('</s>');
    expect(enc.offsets.at(-1)).toEqual([0, 0]);
    // Tokens that share a span come from one normalized character (NFKC expansion) or one unknown run;
    // a token's text without "▁" must be a prefix-free piece of the NFKC form of its span, unless unknown.
    enc.tokens.forEach((t, i) => {
      if (enc.special[i] || enc.ids[i] === tok.specialTokens.unk) return;
      const piece = t.replaceAll('▁', '');
      if (piece === '') return;
      // Composition (e + U+0301 → é) gives the composed character the base letter's span only, as HF aligns
      // it; so the surface to compare includes the combining marks that follow the span.
      const [s, e] = enc.offsets[i]!;
      const marks = /^\p{M}*/u.exec(text.slice(e))![0];
      const surface = text.slice(s, e + marks.length).normalize('NFKC');
      expect(surface.includes(piece), `${JSON.stringify(t)} not found in NFKC(${JSON.stringify(surface)})`).toBe(true);
    });
  });
});
