/** Pure summaries of position tables for the positional view. */

/** Mean of sim[i, i+Δ] over i, for Δ = 0…n-1: how similarity falls off with distance. */
export function meanByDistance(sim: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let d = 0; d < n; d++) {
    let s = 0;
    for (let i = 0; i + d < n; i++) s += sim[i * n + i + d];
    out[d] = s / (n - d);
  }
  return out;
}

/** Largest |value| (the symmetric limit of a diverging colour scale). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** cos(p · f_i) for every position p < count and pair i: the RoPE rotation of each pair, as a [count, pairs] table. */
export function ropeCosTable(invFreq: ArrayLike<number>, count: number): Float32Array {
  const pairs = invFreq.length;
  const out = new Float32Array(count * pairs);
  for (let p = 0; p < count; p++) for (let i = 0; i < pairs; i++) out[p * pairs + i] = Math.cos(p * invFreq[i]);
  return out;
}
