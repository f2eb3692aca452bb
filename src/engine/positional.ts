/**
 * The model's positional scheme as data for the positional-encoding view: sinusoidal tables (the model's own
 * for models that use them, and a reference for any model), learned tables and their similarity, RoPE frequencies and
 * rotation angles, how RoPE makes q·k depend on relative distance, and relative-position buckets.
 */
import type { ModelConfig, RopeScaling } from './config';
import { ropeInvFreq } from './ops';

/**
 * Sinusoidal table [nPos, d]. `interleaved`: Vaswani et al. (sin at even dims, cos at odd dims).
 * `half`: sin-half/cos-half layout (transformers' SinusoidalPositionalEmbedding) — sin of the d/2 frequencies in columns 0…d/2-1, cos in d/2…d-1, frequency j·2/d.
 */
export function sinusoidalTable(nPos: number, d: number, layout: 'interleaved' | 'half' = 'interleaved', base = 10000): Float32Array {
  const out = new Float32Array(nPos * d);
  const half = Math.ceil(d / 2);
  for (let p = 0; p < nPos; p++) {
    for (let j = 0; j < d; j++) {
      const pair = Math.floor(j / 2);
      const angle = p / Math.pow(base, (2 * pair) / d);
      if (layout === 'interleaved') out[p * d + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      else if (j % 2 === 0) out[p * d + pair] = Math.sin(angle);
      else out[p * d + half + pair] = Math.cos(angle);
    }
  }
  return out;
}

/** Wavelength (in positions) of each sin/cos pair of a sinusoidal table: 2π · base^(2i/d). */
export function sinusoidalWavelengths(d: number, base = 10000): Float64Array {
  const out = new Float64Array(Math.ceil(d / 2));
  for (let i = 0; i < out.length; i++) out[i] = 2 * Math.PI * Math.pow(base, (2 * i) / d);
  return out;
}

/** Similarity of every pair of rows of a table [nPos, d] → [nPos, nPos]: cosine (default) or dot product. */
export function positionSimilarity(table: Float32Array, nPos: number, d: number, kind: 'cosine' | 'dot' = 'cosine'): Float32Array {
  const out = new Float32Array(nPos * nPos);
  const norms = new Float64Array(nPos);
  for (let i = 0; i < nPos; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += table[i * d + k] * table[i * d + k];
    norms[i] = Math.sqrt(s) || 1;
  }
  for (let i = 0; i < nPos; i++) {
    for (let j = i; j < nPos; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += table[i * d + k] * table[j * d + k];
      const v = kind === 'cosine' ? s / (norms[i] * norms[j]) : s;
      out[i * nPos + j] = v;
      out[j * nPos + i] = v;
    }
  }
  return out;
}

/** RoPE frequencies: inv_freq per dimension pair (pair i rotates dims i and i + d_head/2) and its wavelength. */
export function ropeFrequencies(dHead: number, theta: number, scaling?: RopeScaling): { invFreq: Float64Array; wavelength: Float64Array } {
  const invFreq = ropeInvFreq(dHead, theta, scaling);
  return { invFreq, wavelength: invFreq.map((f) => (2 * Math.PI) / f) };
}

/** Rotation angle (radians, unwrapped) of each pair at each position → [positions.length, d_head/2]. */
export function ropeAngles(positions: readonly number[], invFreq: Float64Array): Float64Array {
  const out = new Float64Array(positions.length * invFreq.length);
  positions.forEach((p, r) => invFreq.forEach((f, i) => { out[r * invFreq.length + i] = p * f; }));
  return out;
}

/**
 * q·k after RoPE as a function of the relative distance Δ = query_pos − key_pos, for Δ = 0…maxDistance.
 * RoPE makes rot(q, m)·rot(k, n) depend on m − n only: Σ_i (q1k1 + q2k2)·cos(Δf_i) + (q1k2 − q2k1)·sin(Δf_i)
 * over pairs (i, i + d/2). Default q = k = all ones, which shows the model's pure distance profile.
 */
export function ropeRelativeScores(invFreq: Float64Array, maxDistance: number, q?: ArrayLike<number>, k?: ArrayLike<number>): Float64Array {
  const half = invFreq.length;
  const qq = q ?? new Float64Array(2 * half).fill(1);
  const kk = k ?? new Float64Array(2 * half).fill(1);
  const out = new Float64Array(maxDistance + 1);
  for (let delta = 0; delta <= maxDistance; delta++) {
    let s = 0;
    for (let i = 0; i < half; i++) {
      const a = delta * invFreq[i];
      const q1 = qq[i], q2 = qq[i + half], k1 = kk[i], k2 = kk[i + half];
      s += (q1 * k1 + q2 * k2) * Math.cos(a) + (q1 * k2 - q2 * k1) * Math.sin(a);
    }
    out[delta] = s;
  }
  return out;
}

/**
 * Relative-position bucket of (key_pos − query_pos): half the buckets per direction when bidirectional,
 * exact buckets for small distances, logarithmic ones up to maxDistance (HF `_relative_position_bucket`,
 * computed in float32 like HF).
 */
export function relativeBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let buckets = numBuckets;
  let bucket = 0;
  let rel = relative;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (rel > 0) bucket += buckets;
    rel = Math.abs(rel);
  } else {
    rel = -Math.min(rel, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (rel < maxExact) return bucket + rel;
  const f = Math.fround;
  const large = maxExact + Math.trunc(f(f(f(Math.log(f(rel / maxExact))) / f(Math.log(f(maxDistance / maxExact)))) * (buckets - maxExact)));
  return bucket + Math.min(large, buckets - 1);
}

/** What the positional view needs to know about a model's scheme (tables are fetched separately). */
export interface PositionalScheme {
  readonly kind: ModelConfig['positional'];
  readonly n_ctx: number;
  readonly d_model: number;
  readonly d_head: number;
  readonly rope_theta?: number;
  readonly rope_scaling?: RopeScaling;
  readonly relative_buckets?: number;
  readonly relative_max_distance?: number;
}

export function positionalScheme(cfg: ModelConfig): PositionalScheme {
  return {
    kind: cfg.positional, n_ctx: cfg.n_ctx, d_model: cfg.d_model, d_head: cfg.d_head,
    rope_theta: cfg.positional === 'rope' ? cfg.rope_theta : undefined,
    rope_scaling: cfg.rope_scaling,
    relative_buckets: cfg.positional === 'relative_bias' ? cfg.relative_buckets : undefined,
    relative_max_distance: cfg.positional === 'relative_bias' ? cfg.relative_max_distance : undefined,
  };
}
