import { describe, expect, it } from 'vitest';
import { aggregateHeads, attentionRollout, filterEdges, filterMatrix, poolMatrix, selectSubmatrix, sumRows } from '../../../src/engine/analysis/attention';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
};

// Two heads of a causal 3×3 layer.
const h0 = [1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5];
const h1 = [1, 0, 0, 0.9, 0.1, 0, 0.6, 0.0, 0.4];
const layer = Float32Array.from([...h0, ...h1]);

describe('aggregateHeads', () => {
  it('mean over heads', () => close(aggregateHeads(layer, 2, 3, 3, 'mean'), [1, 0, 0, 0.7, 0.3, 0, 0.4, 0.15, 0.45]));
  it('max over heads', () => close(aggregateHeads(layer, 2, 3, 3, 'max'), [1, 0, 0, 0.9, 0.5, 0, 0.6, 0.3, 0.5]));
  it('a subset of heads', () => close(aggregateHeads(layer, 2, 3, 3, 'mean', [1]), h1));
  it('rejects a wrong size or head', () => {
    expect(() => aggregateHeads(layer, 3, 3, 3, 'mean')).toThrow(/expected 3×3×3/);
    expect(() => aggregateHeads(layer, 2, 3, 3, 'mean', [2])).toThrow(/head 2/);
  });
});

describe('attentionRollout (identity for the residual, row-normalised, multiplied through layers)', () => {
  // Â1 = (A1+I)/2 = [[1,0,0],[.25,.75,0],[.1,.15,.75]]; Â2 = [[1,0,0],[.4,.6,0],[0,.3,.7]]
  // R = Â2·Â1 = [[1,0,0],[.55,.45,0],[.145,.33,.525]] (worked by hand)
  const A1 = Float32Array.from(h0);
  const A2 = Float32Array.from([1, 0, 0, 0.8, 0.2, 0, 0, 0.6, 0.4]);
  it('one layer is Â1', () => close(attentionRollout([A1], 3), [1, 0, 0, 0.25, 0.75, 0, 0.1, 0.15, 0.75]));
  it('two layers is Â2·Â1', () => close(attentionRollout([A1, A2], 3), [1, 0, 0, 0.55, 0.45, 0, 0.145, 0.33, 0.525]));
  it('rows still sum to 1', () => {
    const r = attentionRollout([A1, A2, A1], 3);
    for (let i = 0; i < 3; i++) expect(r[i * 3] + r[i * 3 + 1] + r[i * 3 + 2]).toBeCloseTo(1, 6);
  });
  it('rejects no layers', () => expect(() => attentionRollout([], 3)).toThrow());
});

describe('filters', () => {
  const m = Float32Array.from(h0);
  it('sums query rows', () => close(sumRows(m, 3, [1, 2]), [0.7, 0.8, 0.5]));
  it('top-1 per query', () => {
    expect(filterEdges(m, 3, 3, { topK: 1 })).toEqual([
      { query: 0, key: 0, weight: 1 }, { query: 1, key: 0, weight: 0.5 }, { query: 2, key: 2, weight: 0.5 },
    ]);
  });
  it('threshold drops small weights and zeros', () => {
    const edges = filterEdges(m, 3, 3, { threshold: 0.3 });
    expect(edges.map((e) => [e.query, e.key])).toEqual([[0, 0], [1, 0], [1, 1], [2, 2], [2, 1]]);
  });
  it('dense filtered matrix', () => close(filterMatrix(m, 3, 3, { topK: 1 }), [1, 0, 0, 0.5, 0, 0, 0, 0, 0.5]));
  it('submatrix without the first token', () => close(selectSubmatrix(m, 3, [1, 2], [1, 2]), [0.5, 0, 0.3, 0.5]));
  it('max-pools to thumbnails', () => {
    const big = new Float32Array(16).map((_, i) => i / 16);
    const p = poolMatrix(big, 4, 4, 2);
    expect([p.rows, p.cols]).toEqual([2, 2]);
    close(p.data, [5 / 16, 7 / 16, 13 / 16, 15 / 16]);
  });
});
