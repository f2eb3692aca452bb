/**
 * Comparing engine output with the fixtures' float64 reference (../shared/models/README.md tolerances), and
 * collecting the max differences per model and tensor kind so the tests can print them.
 */
import { expect } from 'vitest';
import type { ReferenceCase, ReferenceTensor, TopToken } from '../../support/fixtures';

export const TOL = { resid: 1e-4, attn: 5e-5, prob: 1e-5, logitsAbs: 1e-4, logitsRel: 5e-6 } as const;

/** model → kind → max abs diff seen (logits_rel = diff / max|logit|). */
export class DiffTable {
  private readonly rows = new Map<string, Map<string, number>>();
  note(model: string, kind: string, diff: number): void {
    const row = this.rows.get(model) ?? new Map<string, number>();
    row.set(kind, Math.max(row.get(kind) ?? 0, diff));
    this.rows.set(model, row);
  }
  format(title: string): string {
    const lines = [`[max |engine − reference|] ${title}`];
    for (const [model, row] of this.rows) lines.push(`  ${model.padEnd(20)} ${[...row].map(([k, v]) => `${k} ${v.toExponential(2)}`).join('  ')}`);
    return lines.join('\n');
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function ref(tensors: Map<string, ReferenceTensor>, name: string): ReferenceTensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`reference tensor ${name} missing`);
  return t;
}

/** Logits: abs ≤ 1e-4, or ≤ 5e-6 × max|logit|. */
export function checkLogits(table: DiffTable, model: string, got: Float32Array, want: ReferenceTensor, label: string): void {
  const d = maxAbsDiff(got, want.data);
  const scale = maxAbs(want.data);
  table.note(model, 'logits', d);
  table.note(model, 'logits_rel', d / scale);
  expect(d <= TOL.logitsAbs || d <= TOL.logitsRel * scale, `${label}: logits diff ${d} (max |logit| ${scale})`).toBe(true);
}

export function checkClose(table: DiffTable, model: string, kind: 'resid' | 'attn', got: Float32Array, want: ReferenceTensor, label: string): void {
  const d = maxAbsDiff(got, want.data);
  table.note(model, kind, d);
  expect(d, `${label}: ${kind} diff`).toBeLessThanOrEqual(TOL[kind]);
}

/** Rows `queries` of an attention tensor [heads, n, nk] → [heads, queries.length, nk]. */
export function attnRows(full: Float32Array, heads: number, n: number, nk: number, queries: readonly number[] | null): Float32Array {
  if (!queries) return full;
  const out = new Float32Array(heads * queries.length * nk);
  for (let h = 0; h < heads; h++) queries.forEach((q, i) => out.set(full.subarray((h * n + q) * nk, (h * n + q + 1) * nk), (h * queries.length + i) * nk));
  return out;
}

/** Top-5 ids equal (adjacent ranks may swap when their reference probabilities differ by < 1e-5), probs within 1e-5. */
export function checkTop5(table: DiffTable, model: string, got: readonly TopToken[], want: readonly TopToken[], label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    table.note(model, 'top5_prob', Math.abs(got[i].prob - want[i].prob));
    expect(Math.abs(got[i].prob - want[i].prob), `${label} rank ${i} prob`).toBeLessThanOrEqual(TOL.prob);
    if (got[i].id !== want[i].id) {
      const swapped = [want[i - 1], want[i + 1]].some((w) => w && w.id === got[i].id && Math.abs(w.prob - want[i].prob) < TOL.prob);
      const tiedAtCut = i === want.length - 1 && Math.abs(got[i].prob - want[i].prob) < TOL.prob;
      expect(swapped || tiedAtCut, `${label} rank ${i}: id ${got[i].id} vs reference ${want[i].id}`).toBe(true);
    } else {
      expect(got[i].token, `${label} rank ${i} token`).toBe(want[i].token);
    }
  }
}

/**
 * The actual next token's rank (exact) and probability (within 1e-5) at every position where the reference's
 * top-5 contains it.
 */
export function checkNextTokenRanks(got: { rank: ArrayLike<number>; prob: ArrayLike<number> }, c: ReferenceCase): void {
  c.top_next?.forEach((top5, p) => {
    const hit = top5.findIndex((x) => x.id === c.input_ids[p + 1]);
    if (p >= c.input_ids.length - 1 || hit < 0) return;
    expect(got.rank[p], `${c.name} rank at ${p}`).toBe(hit);
    expect(Math.abs(got.prob[p] - top5[hit].prob), `${c.name} prob at ${p}`).toBeLessThan(1e-5);
  });
}
