import { describe, expect, it } from 'vitest';
import { convertInformation, entropy, rankOf, softmaxWithTemperature, surprisal, topIndices } from '../../../src/engine/analysis/predictions';

describe('surprisal', () => {
  it('bits and nats by hand', () => {
    expect(surprisal(0.5, 'bits')).toBe(1);
    expect(surprisal(0.25, 'bits')).toBe(2);
    expect(surprisal(Math.exp(-3), 'nats')).toBeCloseTo(3, 12);
    expect(surprisal(1)).toBe(-0);
    expect(surprisal(0)).toBe(Infinity);
    expect(() => surprisal(1.5)).toThrow(/\[0, 1\]/);
  });
  it('converts nats ↔ bits', () => {
    expect(convertInformation(Math.LN2, 'nats', 'bits')).toBeCloseTo(1, 12);
    expect(convertInformation(1, 'bits', 'nats')).toBeCloseTo(Math.LN2, 12);
  });
});

describe('softmax with temperature', () => {
  it('T=1 on [0, ln 3] gives [1/4, 3/4]', () => {
    const p = softmaxWithTemperature([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });
  it('T=2 halves the logits: [0, ln 9] → [1/4, 3/4]', () => {
    const p = softmaxWithTemperature([0, Math.log(9)], 2);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });
  it('rejects T ≤ 0', () => expect(() => softmaxWithTemperature([1], 0)).toThrow());
  it('rank, top-k and entropy', () => {
    expect(rankOf([0.1, 0.6, 0.3], 2)).toBe(1);
    expect(rankOf([1, 2, 2, 3], 2)).toBe(1); // the tie at 2 does not count against it
    expect(topIndices([0.1, 0.6, 0.3, 0.6], 3)).toEqual([1, 3, 2]);
    expect(topIndices([0.1, 0.5, 0.2, 0.5, 0.05, 0.9], 3)).toEqual([5, 1, 3]);
    expect(topIndices([3, 1], 5)).toEqual([0, 1]);
    expect(entropy([0.5, 0.5])).toBe(1);
  });
});

import { maxAbs, meanByDistance, ropeCosTable } from '../../../src/engine/analysis/positional';

describe('positional summaries', () => {
  it('mean similarity by distance on a hand-made 3×3', () => {
    const sim = Float32Array.from([1, 0.5, 0.1, 0.5, 1, 0.3, 0.1, 0.3, 1]);
    const m = meanByDistance(sim, 3);
    expect(m[0]).toBeCloseTo(1, 6);
    expect(m[1]).toBeCloseTo(0.4, 6);
    expect(m[2]).toBeCloseTo(0.1, 6);
    expect(maxAbs([-3, 2])).toBe(3);
  });
  it('RoPE cos table: pair with f = π/2 cycles 1, 0, −1', () => {
    const t = ropeCosTable([Math.PI / 2], 3);
    expect(t[0]).toBeCloseTo(1, 6);
    expect(t[1]).toBeCloseTo(0, 6);
    expect(t[2]).toBeCloseTo(-1, 6);
  });
});

describe('topIndices on logits rows', () => {
  it('equals a full sort (best first, ties by lower id) on rows with ties, for k from 0 past the length', () => {
    let s = 7;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % 1000) / 100; // many ties
    for (const n of [1, 3, 17, 1000]) {
      const row = Float32Array.from({ length: n }, rand);
      const sorted = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
      for (const k of [0, 1, 5, n, n + 3]) {
        expect(topIndices(row, k)).toEqual(sorted.slice(0, k));
      }
    }
  });
  it('never ranks NaN', () => {
    expect(topIndices(Float32Array.from([NaN, 1, NaN, 3, 2]), 3)).toEqual([3, 4, 1]);
  });
});
