/**
 * Element-wise and row-wise operations of the forward pass (norms, activations, softmax, RoPE).
 * Matrix products are not here: they go through the Kernels interface. Sums are accumulated in float64
 * (JS numbers) and stored as float32, which keeps us within float32 rounding of the float64 references.
 */
import type { Activation, NormKind, RopeScaling } from './config';

/** out[i,:] = LayerNorm(x[i,:]) or RMSNorm(x[i,:]) for each of `rows` rows of width d. */
export function normRows(kind: NormKind, x: Float32Array, rows: number, d: number, w: Float32Array, b: Float32Array | undefined, eps: number, out: Float32Array = new Float32Array(rows * d)): Float32Array {
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let mean = 0;
    if (kind === 'layernorm') {
      for (let j = 0; j < d; j++) mean += x[o + j];
      mean /= d;
    }
    let sq = 0;
    for (let j = 0; j < d; j++) { const c = x[o + j] - mean; sq += c * c; }
    const inv = 1 / Math.sqrt(sq / d + eps);
    for (let j = 0; j < d; j++) out[o + j] = (x[o + j] - mean) * inv * w[j] + (b ? b[j] : 0);
  }
  return out;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** erf with |error| < 1.2e-7 (Numerical Recipes' Chebyshev erfc), enough for float32 GELU. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

export function activation(kind: Activation): (x: number) => number {
  switch (kind) {
    case 'gelu_new': return (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'gelu': return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'silu': return (x) => x / (1 + Math.exp(-x));
    case 'relu': return (x) => (x > 0 ? x : 0);
  }
}

/** x = act(x) in place. */
export function applyActivation(kind: Activation, x: Float32Array): Float32Array {
  const f = activation(kind);
  for (let i = 0; i < x.length; i++) x[i] = f(x[i]);
  return x;
}

/** gate = act(gate) ⊙ up, in place on `gate` (SwiGLU / gated GELU). */
export function gatedActivation(kind: Activation, gate: Float32Array, up: Float32Array): Float32Array {
  const f = activation(kind);
  for (let i = 0; i < gate.length; i++) gate[i] = f(gate[i]) * up[i];
  return gate;
}

/** Softmax of each row in place; -Infinity entries (masked) become exactly 0. */
export function softmaxRows(x: Float32Array, rows: number, cols: number): Float32Array {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
    let sum = 0;
    const e = new Float64Array(cols);
    for (let j = 0; j < cols; j++) { e[j] = Math.exp(x[o + j] - max); sum += e[j]; }
    for (let j = 0; j < cols; j++) x[o + j] = e[j] / sum;
  }
  return x;
}

/** Softmax of a row as float64 with a temperature (for probabilities reported to users). */
export function softmax64(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const n = logits.length;
  const p = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < n; i++) { p[i] = Math.exp((logits[i] - max) / temperature); sum += p[i]; }
  for (let i = 0; i < n; i++) p[i] /= sum;
  return p;
}

/** a += b element-wise. */
export function addInPlace(a: Float32Array, b: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  return a;
}

/** x *= s element-wise. */
export function scaleInPlace(x: Float32Array, s: number): Float32Array {
  if (s !== 1) for (let i = 0; i < x.length; i++) x[i] *= s;
  return x;
}

/** RoPE inverse frequencies θ^(-2i/d_head) for i < d_head/2 (one per rotated pair), optionally scaled. */
export function ropeInvFreq(dHead: number, theta: number, scaling?: RopeScaling): Float64Array {
  const f = new Float64Array(dHead / 2);
  for (let i = 0; i < f.length; i++) f[i] = 1 / Math.pow(theta, (2 * i) / dHead);
  if (scaling?.type === 'linear') return f.map((x) => x / scaling.factor);
  if (scaling?.type === 'banded') {
    const { factor, low_freq_factor: lo, high_freq_factor: hi, original_max_position_embeddings: ctx } = scaling;
    return f.map((x) => {
      const wavelen = (2 * Math.PI) / x;
      if (wavelen < ctx / hi) return x; // high frequencies: unchanged
      if (wavelen > ctx / lo) return x / factor; // low frequencies: fully scaled
      const smooth = (ctx / wavelen - lo) / (hi - lo);
      return ((1 - smooth) * x) / factor + smooth * x;
    });
  }
  return f;
}

/**
 * rotate_half RoPE in place on x [pos, heads, d_head]: dims i and i + d_head/2 form a pair rotated by
 * angle (startPos + pos)·invFreq[i] (HF's cos/sin of cat(freqs, freqs)).
 */
export function applyRope(x: Float32Array, n: number, heads: number, dHead: number, invFreq: Float64Array, startPos: number): Float32Array {
  const half = dHead / 2;
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < half; i++) {
      const a = (startPos + t) * invFreq[i];
      const c = Math.cos(a);
      const s = Math.sin(a);
      for (let h = 0; h < heads; h++) {
        const o = (t * heads + h) * dHead;
        const x1 = x[o + i];
        const x2 = x[o + i + half];
        x[o + i] = x1 * c - x2 * s;
        x[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
  return x;
}

/** [pos, heads, d_head] → [heads, pos, d_head] (one contiguous matrix per head). */
export function splitHeads(x: Float32Array, n: number, heads: number, dHead: number, out: Float32Array = new Float32Array(n * heads * dHead), outRows = n, rowOffset = 0): Float32Array {
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < heads; h++) {
      out.set(x.subarray((t * heads + h) * dHead, (t * heads + h + 1) * dHead), (h * outRows + rowOffset + t) * dHead);
    }
  }
  return out;
}

/** [heads, pos, d_head] → [pos, heads·d_head]. */
export function mergeHeads(x: Float32Array, n: number, heads: number, dHead: number, out: Float32Array = new Float32Array(n * heads * dHead)): Float32Array {
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < n; t++) out.set(x.subarray((h * n + t) * dHead, (h * n + t + 1) * dHead), (t * heads + h) * dHead);
  }
  return out;
}

/** Euclidean norm of each row of x [rows, d]. */
export function rowNorms(x: Float32Array, rows: number, d: number): Float32Array {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
    out[i] = Math.sqrt(s);
  }
  return out;
}
