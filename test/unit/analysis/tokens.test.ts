import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectPieceScheme, groupTokens, pieceBytes, pieceLabel, tokenStats, visualiseWhitespace } from '../../../src/engine/analysis/tokens';

const models = process.env.TE_MODELS_DIR ?? path.resolve(__dirname, '../../../../shared/models');
interface Case { name: string; text: string; tokens: string[]; offsets: [number, number][] }
const caseOf = (model: string, name: string): Case =>
  (JSON.parse(fs.readFileSync(path.join(models, model, 'reference', 'cases.json'), 'utf8')) as Case[]).find((c) => c.name === name)!;
const spans = (c: Case) => c.offsets.map(([start, end]) => ({ start, end }));

describe('visualiseWhitespace', () => {
  it('marks space, tab, newline', () => expect(visualiseWhitespace('a b\tc\nd')).toBe('a·b→c↵d'));
});

describe('pieceLabel', () => {
  it('GPT-2 byte-level markers become the space/newline they stand for', () => {
    expect(pieceLabel('Ġworld', 'byte-level')).toBe('·world');
    expect(pieceLabel('Ċ', 'byte-level')).toBe('↵');
    expect(pieceLabel('ĠnaÃ¯ve', 'byte-level')).toBe('·naïve');
  });
  it('a partial UTF-8 piece shows its bytes', () => {
    expect(pieceBytes('ðŁĺ', 'byte-level')).toEqual([0xf0, 0x9f, 0x98]);
    expect(pieceLabel('ðŁĺ', 'byte-level')).toBe('F0 9F 98');
    expect(pieceLabel('Ģ', 'byte-level')).toBe('80');
  });
  it('SentencePiece ▁ and byte fallback', () => {
    expect(pieceLabel('▁Hello', 'sentencepiece')).toBe('·Hello');
    expect(pieceLabel('<0x0A>', 'sentencepiece')).toBe('↵');
    expect(pieceLabel('<0xF0>', 'sentencepiece')).toBe('F0');
  });
  it('WordPiece keeps ##', () => expect(pieceLabel('##ing', 'wordpiece')).toBe('##ing'));
});

describe('groupTokens on the fixtures', () => {
  it('GPT-2: ĠðŁĺ + Ģ (😀) form one group, ĠðŁ + İ + ī (🎉) another', () => {
    const c = caseOf('tiny-random-gpt2', 'unicode_emoji');
    expect(detectPieceScheme(c.tokens)).toBe('byte-level');
    const groups = groupTokens(spans(c));
    const emoji = groups.find((g) => g.indices.includes(c.tokens.indexOf('ĠðŁĺ')))!;
    expect(emoji.indices.map((i) => c.tokens[i])).toEqual(['ĠðŁĺ', 'Ģ']);
    expect(c.text.slice(emoji.start, emoji.end)).toBe(' 😀');
    const party = groups.find((g) => g.indices.includes(c.tokens.indexOf('ĠðŁ')))!;
    expect(party.indices.map((i) => c.tokens[i])).toEqual(['ĠðŁ', 'İ', 'ī']);
    expect(c.text.slice(party.start, party.end)).toBe(' 🎉');
    expect(groups.filter((g) => g.indices.length === 1).map((g) => c.tokens[g.indices[0]])).toContain('Ġemoji');
  });
  it('Llama byte fallback: <0xF0><0x9F><0x8E><0x82> is one group for 🎂', () => {
    const c = caseOf('stories260K', 'unicode_emoji');
    expect(detectPieceScheme(c.tokens)).toBe('sentencepiece');
    const groups = groupTokens(spans(c));
    const cake = groups.find((g) => g.indices.includes(c.tokens.indexOf('<0xF0>')))!;
    expect(cake.indices.map((i) => c.tokens[i])).toEqual(['<0xF0>', '<0x9F>', '<0x8E>', '<0x82>']);
    expect(c.text.slice(cake.start, cake.end)).toBe('🎂');
    // <s> has the empty span [0,0] and stands alone, not merged with ▁Lily [0,4]
    expect(groups[0].indices).toEqual([0]);
    expect(groups[1].indices).toEqual([1]);
  });
  it('stats count non-special tokens and characters (code points)', () => {
    const s = tokenStats('ab 😀', [true, false, false]);
    expect(s).toEqual({ tokens: 2, characters: 4, charsPerToken: 2 });
  });
});
