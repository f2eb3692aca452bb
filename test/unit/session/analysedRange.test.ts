import { describe, expect, it } from 'vitest';
import { AnalysedRange, tokenIndexAt } from '../../../src/session/analysedRange';

describe('AnalysedRange', () => {
  const make = () => new AnalysedRange(10, 'hello world'); // document [10, 21)

  it('maps spans both ways', () => {
    const r = make();
    expect(r.toDocument([6, 11])).toEqual([16, 21]);
    expect(r.fromDocument(16)).toBe(6);
    expect(r.fromDocument(9)).toBeUndefined();
    expect(r.fromDocument(22)).toBeUndefined();
  });

  it('shifts when text is inserted or removed before the range', () => {
    const r = make();
    expect(r.applyEdit({ rangeOffset: 0, rangeLength: 0, textLength: 5 })).toBe(false);
    expect(r.startOffset).toBe(15);
    expect(r.applyEdit({ rangeOffset: 2, rangeLength: 8, textLength: 1 })).toBe(false);
    expect(r.startOffset).toBe(8);
    expect(r.stale).toBe(false);
    expect(r.toDocument([0, 5])).toEqual([8, 13]);
  });

  it('ignores edits after the range, including an insertion right at its end', () => {
    const r = make();
    r.applyEdit({ rangeOffset: 30, rangeLength: 4, textLength: 0 });
    r.applyEdit({ rangeOffset: 21, rangeLength: 0, textLength: 3 });
    expect(r.stale).toBe(false);
    expect(r.startOffset).toBe(10);
  });

  it('goes stale on any edit touching the text', () => {
    for (const e of [
      { rangeOffset: 12, rangeLength: 1, textLength: 1 }, // inside
      { rangeOffset: 10, rangeLength: 0, textLength: 1 }, // insertion at the start
      { rangeOffset: 5, rangeLength: 6, textLength: 0 }, // deletion overlapping the start
      { rangeOffset: 20, rangeLength: 3, textLength: 0 }, // deletion overlapping the end
      { rangeOffset: 0, rangeLength: 100, textLength: 2 }, // replaces everything
    ]) {
      const r = make();
      expect(r.applyEdit(e)).toBe(true);
      expect(r.stale).toBe(true);
      expect(r.applyEdit(e)).toBe(false); // reported once
    }
  });
});

describe('tokenIndexAt', () => {
  // "<s>", "▁Once"[0,4], "▁upon"[4,9], "<0xF0>"×2 sharing [9,11]
  const spans = [{ start: 0, end: 0 }, { start: 0, end: 4 }, { start: 4, end: 9 }, { start: 9, end: 11 }, { start: 9, end: 11 }];
  it('finds the token containing an offset, never the empty special token', () => {
    expect(tokenIndexAt(spans, 0)).toBe(1);
    expect(tokenIndexAt(spans, 3)).toBe(1);
    expect(tokenIndexAt(spans, 4)).toBe(2);
    expect(tokenIndexAt(spans, 10)).toBe(3); // the first of the pieces sharing a character
  });
  it('picks the token just before the cursor at the end of the text, and nothing beyond', () => {
    expect(tokenIndexAt(spans, 11)).toBe(4);
    expect(tokenIndexAt(spans, 12)).toBeUndefined();
  });
});
