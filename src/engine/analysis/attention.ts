/**
 * Pure attention arithmetic the worker runs to serve view slices: aggregation over heads, attention rollout,
 * summing query rows, thumbnails and sparse top-k/threshold edges. Matrices are row-major Float32Arrays
 * (query × key); a layer is [heads, nq, nk]. No DOM, no vscode, no Node: the webview may import it too.
 */

export type HeadAggregation = 'mean' | 'max';

/** Mean or max over the heads of one layer [heads, nq, nk] → [nq, nk]. `heads` limits it to a subset. */
export function aggregateHeads(layer: Float32Array, nHeads: number, nq: number, nk: number, how: HeadAggregation, heads?: readonly number[]): Float32Array {
  const size = nq * nk;
  if (layer.length !== nHeads * size) throw new RangeError(`layer has ${layer.length} values, expected ${nHeads}×${nq}×${nk}`);
  const chosen = heads ?? Array.from({ length: nHeads }, (_, h) => h);
  if (chosen.length === 0) throw new RangeError('aggregateHeads needs at least one head');
  for (const h of chosen) if (!Number.isInteger(h) || h < 0 || h >= nHeads) throw new RangeError(`head ${h} is outside 0…${nHeads - 1}`);
  const out = new Float32Array(size);
  if (how === 'max') out.fill(-Infinity);
  for (const h of chosen) {
    const base = h * size;
    if (how === 'mean') for (let i = 0; i < size; i++) out[i] += layer[base + i];
    else for (let i = 0; i < size; i++) if (layer[base + i] > out[i]) out[i] = layer[base + i];
  }
  if (how === 'mean') for (let i = 0; i < size; i++) out[i] /= chosen.length;
  return out;
}

/**
 * Attention rollout (Abnar & Zuidema 2020), the variant with identity for the residual:
 * Â_l = rownorm(A_l + I) — with rows of A summing to 1 this is ½A + ½I — and R = Â_L · … · Â_1.
 * `layers` are head-aggregated (usually head-mean) square patterns [n, n] in layer order; row i of the result says
 * how much each input token j flows into position i after the last given layer.
 */
export function attentionRollout(layers: readonly Float32Array[], n: number): Float32Array {
  if (layers.length === 0) throw new RangeError('attention rollout needs at least one layer');
  let acc: Float32Array | undefined;
  const hat = new Float64Array(n * n);
  for (const a of layers) {
    if (a.length !== n * n) throw new RangeError(`rollout layer has ${a.length} values, expected ${n}×${n}`);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const v = a[i * n + j] + (i === j ? 1 : 0);
        hat[i * n + j] = v;
        sum += v;
      }
      for (let j = 0; j < n; j++) hat[i * n + j] /= sum;
    }
    if (!acc) { acc = Float32Array.from(hat); continue; }
    // acc ← Â_l · acc
    const next = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let m = 0; m < n; m++) {
        const w = hat[i * n + m];
        if (w === 0) continue;
        const row = m * n;
        for (let j = 0; j < n; j++) next[i * n + j] += w * acc[row + j];
      }
    }
    acc = next;
  }
  return acc as Float32Array;
}

/** Sum of the chosen query rows of a matrix [nq, nk] → [nk] (attention of several query tokens, summed). */
export function sumRows(matrix: Float32Array, nk: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(nk);
  const nq = matrix.length / nk;
  for (const r of rows) {
    if (!Number.isInteger(r) || r < 0 || r >= nq) throw new RangeError(`query ${r} is outside 0…${nq - 1}`);
    for (let j = 0; j < nk; j++) out[j] += matrix[r * nk + j];
  }
  return out;
}

export interface AttentionEdge {
  readonly query: number;
  readonly key: number;
  readonly weight: number;
}

export interface EdgeFilter {
  /** Keep at most this many keys per query (largest first); undefined = all. */
  readonly topK?: number;
  /** Drop weights below this value; undefined = 0 (drop exact zeros only). */
  readonly threshold?: number;
}

/**
 * Sparse edges of a matrix [nq, nk] after a per-query top-k and a threshold, best first within each query.
 * Zeros (masked entries) are never edges. Ties keep the lower key first.
 */
export function filterEdges(matrix: Float32Array, nq: number, nk: number, filter: EdgeFilter = {}): AttentionEdge[] {
  const threshold = filter.threshold ?? 0;
  const k = filter.topK ?? nk;
  if (!(k >= 0)) throw new RangeError(`top-k must be ≥ 0, got ${k}`);
  const edges: AttentionEdge[] = [];
  for (let q = 0; q < nq; q++) {
    const row: AttentionEdge[] = [];
    for (let j = 0; j < nk; j++) {
      const w = matrix[q * nk + j];
      if (w > 0 && w >= threshold) row.push({ query: q, key: j, weight: w });
    }
    row.sort((a, b) => b.weight - a.weight || a.key - b.key);
    edges.push(...row.slice(0, k));
  }
  return edges;
}

/** A dense copy of `matrix` keeping only the filtered entries (others 0): the heatmap's declutter mode. */
export function filterMatrix(matrix: Float32Array, nq: number, nk: number, filter: EdgeFilter): Float32Array {
  const out = new Float32Array(nq * nk);
  for (const e of filterEdges(matrix, nq, nk, filter)) out[e.query * nk + e.key] = e.weight;
  return out;
}

/** Keeps only the listed rows and columns of [nq, nk] (e.g. to hide special tokens) → [rows.length, cols.length]. */
export function selectSubmatrix(matrix: Float32Array, nk: number, rows: readonly number[], cols: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => { out[i * cols.length + j] = matrix[r * nk + c]; }));
  return out;
}

/**
 * Max-pools [nq, nk] down to at most size × size cells (all-heads grid thumbnails): cell (a, b) covers query rows
 * ⌊a·nq/s⌋…⌊(a+1)·nq/s⌋-1, likewise for keys. Max keeps a thin diagonal visible. Small matrices are returned as is.
 */
export function poolMatrix(matrix: Float32Array, nq: number, nk: number, size: number): { data: Float32Array; rows: number; cols: number } {
  const rows = Math.min(nq, size);
  const cols = Math.min(nk, size);
  if (rows === nq && cols === nk) return { data: matrix.slice(), rows, cols };
  const out = new Float32Array(rows * cols);
  for (let a = 0; a < rows; a++) {
    const q0 = Math.floor((a * nq) / rows), q1 = Math.floor(((a + 1) * nq) / rows);
    for (let b = 0; b < cols; b++) {
      const k0 = Math.floor((b * nk) / cols), k1 = Math.floor(((b + 1) * nk) / cols);
      let m = 0;
      for (let q = q0; q < q1; q++) for (let k = k0; k < k1; k++) if (matrix[q * nk + k] > m) m = matrix[q * nk + k];
      out[a * cols + b] = m;
    }
  }
  return { data: out, rows, cols };
}

/** Largest value of an array (0 for an empty one): the colour scale's upper end. */
export function maxValue(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}
