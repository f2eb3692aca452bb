// Every kernel path against the portable reference (and a float64 reference) on odd and GPT-2-sized shapes,
// with bias, caller-provided `out` views, pre-packed weights, and weights reused at other shapes.
import { describe, expect, it } from 'vitest';
import { portableAttention, portableKernels } from '../../../src/engine/kernels/portable';
import { KERNEL_PATHS, tryKernels } from '../../../src/engine/kernels/select';
import type { Kernels } from '../../../src/engine/kernels/types';

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  return a;
}

/** float64 reference of a·b (+bias), b [k,n] or (transposed) [n,k]. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transposed: boolean, bias?: Float32Array): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j] : 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * (transposed ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = s;
    }
  }
  return out;
}

/** Float32 rounding of a length-k dot product of values in [-1, 1]: a few ulps of √k-sized sums. */
function expectClose(got: Float32Array, want: ArrayLike<number>, k: number, what: string): void {
  const tol = 1e-6 * Math.max(8, k);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  expect(worst, `${what}: max |diff| ${worst} at ${at} (tol ${tol})`).toBeLessThanOrEqual(tol);
}

const available = KERNEL_PATHS.map((p) => ({ path: p, k: tryKernels(p, 2) }));
const paths = available.filter((x): x is { path: typeof x.path; k: Kernels } => typeof x.k !== 'string');
for (const x of available) if (typeof x.k === 'string') console.warn(`kernel path ${x.path} skipped: ${x.k}`);

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 3, 17], [3, 17, 1], [17, 63, 65], [65, 65, 63], [4, 16, 16], [5, 64, 128], [33, 129, 47],
  [1, 768, 3072], [5, 768, 3072], [7, 3072, 768], [128, 64, 128], [2, 768, 2304],
];

describe.each(paths)('kernel path $path', ({ path, k: kernels }) => {
  it('is named', () => {
    expect(kernels.name.length).toBeGreaterThan(0);
  });

  it.each(SHAPES)('matmulT and matmul match float64 and portable at m=%i k=%i n=%i', (m, k, n) => {
    const a = random(m * k, m * 7 + k);
    const bT = random(n * k, n * 13 + 1); // [n, k]
    const b = random(k * n, k * 5 + 2); // [k, n]
    const bias = random(n, 99);
    for (const withBias of [false, true]) {
      const bb = withBias ? bias : undefined;
      const gotT = kernels.matmulT(a, bT, m, k, n, bb);
      expect(gotT.length).toBe(m * n);
      expectClose(gotT, reference(a, bT, m, k, n, true, bb), k, `${path} matmulT bias=${withBias}`);
      expectClose(gotT, portableKernels.matmulT(a, bT, m, k, n, bb), k, `${path} matmulT vs portable`);
      const got = kernels.matmul(a, b, m, k, n, bb);
      expectClose(got, reference(a, b, m, k, n, false, bb), k, `${path} matmul bias=${withBias}`);
      expectClose(got, portableKernels.matmul(a, b, m, k, n, bb), k, `${path} matmul vs portable`);
    }
  });

  it('writes into a caller-provided out view and nothing around it', () => {
    const [m, k, n] = [9, 70, 33];
    const a = random(m * k, 1);
    const bT = random(n * k, 2);
    const backing = new Float32Array(m * n + 20).fill(7);
    const out = backing.subarray(10, 10 + m * n);
    const ret = kernels.matmulT(a, bT, m, k, n, undefined, out);
    expect(ret).toBe(out);
    expectClose(out, reference(a, bT, m, k, n, true), k, 'out view');
    expect([...backing.subarray(0, 10), ...backing.subarray(10 + m * n)]).toEqual(new Array(20).fill(7));
    // Stale contents of out must not leak into the result (no accumulate-into-out).
    out.fill(1e6);
    kernels.matmul(a.subarray(0, m * k), random(k * n, 3), m, k, n, undefined, out);
    expectClose(out, reference(a, random(k * n, 3), m, k, n, false), k, 'refilled out');
  });

  it('reads operands given as views into larger buffers', () => {
    const [m, k, n] = [6, 40, 30];
    const bigA = random(m * k + 13, 4);
    const a = bigA.subarray(13);
    const bigB = random(n * k + 5, 5);
    const bT = bigB.subarray(5);
    expectClose(kernels.matmulT(a, bT, m, k, n), reference(a, bT, m, k, n, true), k, 'views');
  });

  it('keeps weights that are reused (pre-packed) correct, including at other shapes and after prepareWeight', () => {
    const [k, n] = [256, 192];
    const w = random(n * k, 6); // [n, k]
    const bias = random(n, 7);
    kernels.prepareWeight?.(w, k, n, true);
    for (const m of [1, 16, 3, 128, 16]) {
      const a = random(m * k, m);
      expectClose(kernels.matmulT(a, w, m, k, n, bias), reference(a, w, m, k, n, true, bias), k, `reuse m=${m}`);
    }
    // The same array reinterpreted with another shape must not hit a packing made for the first one.
    const a = random(4 * n, 8);
    expectClose(kernels.matmulT(a, w, 4, n, k), reference(a, w, 4, n, k, true), n, 'other shape');
    expectClose(kernels.matmul(a.subarray(0, 4 * n), w, 4, n, k), reference(a, w, 4, n, k, false), n, 'other layout');
  });

  it('notices a reused array whose contents changed', () => {
    const [m, k, n] = [8, 128, 160];
    const w = random(n * k, 9);
    const a = random(m * k, 10);
    kernels.matmulT(a, w, m, k, n);
    kernels.matmulT(a, w, m, k, n); // second sighting: a fast path may pack it now
    for (let i = 0; i < w.length; i++) w[i] *= -0.5;
    expectClose(kernels.matmulT(a, w, m, k, n), reference(a, w, m, k, n, true), k, 'after modification');
  });

  it('rejects arrays that are too small for the stated shape', () => {
    expect(() => kernels.matmulT(new Float32Array(5), new Float32Array(6), 2, 3, 2)).toThrow();
  });
});

const ACTIVATIONS = ['gelu_new', 'gelu', 'silu', 'relu'] as const;

describe.each(paths)('element-wise kernels on path $path', ({ path, k: kernels }) => {
  // Sizes below and above the native-call threshold, including odd ones.
  const SIZES = [1, 17, 767, 4096, 5000, 128 * 3072];

  it.each(ACTIVATIONS)('%s matches the portable activation in place', (kind) => {
    for (const n of SIZES) {
      const x = random(n, n + 1).map((v) => v * 6);
      const want = portableKernels.activation(kind, x.slice());
      const got = kernels.activation(kind, x);
      expect(got).toBe(x);
      expectClose(got, want, 40, `${path} ${kind} n=${n}`);
      const gate = random(n, n + 2).map((v) => v * 4);
      const up = random(n, n + 3);
      const gWant = portableKernels.gatedActivation(kind, gate.slice(), up);
      expectClose(kernels.gatedActivation(kind, gate, up), gWant, 40, `${path} gated ${kind} n=${n}`);
    }
  });

  it('softmaxRows matches portable, with masked (-Infinity) entries exactly 0', () => {
    for (const [rows, cols] of [[1, 1], [3, 17], [12 * 128, 128], [65, 63], [5, 1024]]) {
      const x = random(rows * cols, rows + cols).map((v) => v * 20);
      for (let r = 0; r < rows; r++) x.fill(-Infinity, r * cols + Math.min(cols - 1, r % cols) + 1, (r + 1) * cols); // causal-style mask
      const want = portableKernels.softmaxRows(x.slice(), rows, cols);
      const got = kernels.softmaxRows(x, rows, cols);
      expect(got).toBe(x);
      expectClose(got, want, 8, `${path} softmax ${rows}x${cols}`);
      for (let r = 0; r < rows; r++) {
        for (let c = Math.min(cols - 1, r % cols) + 1; c < cols; c++) expect(got[r * cols + c]).toBe(0);
      }
    }
  });

  it.each(['layernorm', 'rmsnorm'] as const)('%s rows match portable, with and without bias and out', (kind) => {
    for (const [rows, d] of [[1, 7], [3, 48], [128, 768], [17, 65]]) {
      const x = random(rows * d, rows * d).map((v) => v * 3 + 0.5);
      const w = random(d, 5);
      const b = random(d, 6);
      for (const bias of [undefined, b]) {
        const want = portableKernels.normRows(kind, x, rows, d, w, bias, 1e-5);
        expectClose(kernels.normRows(kind, x, rows, d, w, bias, 1e-5), want, 32, `${path} ${kind} ${rows}x${d}`);
        const backing = new Float32Array(rows * d + 8).fill(3);
        const out = backing.subarray(4, 4 + rows * d);
        expect(kernels.normRows(kind, x, rows, d, w, bias, 1e-6, out)).toBe(out);
        expectClose(out, portableKernels.normRows(kind, x, rows, d, w, bias, 1e-6), 32, `${path} ${kind} into out`);
        expect([...backing.subarray(0, 4), ...backing.subarray(4 + rows * d)]).toEqual([3, 3, 3, 3, 3, 3, 3, 3]);
      }
    }
  });
});

describe.each(paths)('packWeight on path $path', ({ path, k: kernels }) => {
  it('either keeps nothing or returns a handle that computes the same products after the array is overwritten', () => {
    const [k, n] = [256, 320];
    const w = random(n * k, 21);
    const copy = w.slice();
    const bias = random(n, 22);
    const handle = kernels.packWeight?.(w, k, n, true);
    if (path !== 'onnx') expect(handle).toBeUndefined();
    expect(w).toEqual(copy); // never modified
    if (handle) {
      expect(handle.length).toBe(0);
      w.fill(7); // the loader reuses the buffer for the next weight: the packed copy must not depend on it
    }
    for (const m of [1, 7, 64]) {
      const a = random(m * k, 23 + m);
      expectClose(kernels.matmulT(a, handle ?? w, m, k, n, bias), reference(a, copy, m, k, n, true, bias), k, `${path} packed m=${m}`);
    }
    if (handle) expect(() => kernels.matmulT(random(4 * n, 1), handle, 4, n, k)).toThrow(/packed weight handle/);
  });

  it('packs a view into a larger buffer (the loader\'s scratch) as exactly its own elements', () => {
    const [k, n] = [128, 160];
    const backing = random(n * k + 32, 24);
    const w = backing.subarray(16, 16 + n * k);
    const copy = w.slice();
    const handle = kernels.packWeight?.(w, k, n, true);
    backing.fill(-3);
    const a = random(3 * k, 25);
    expectClose(kernels.matmulT(a, handle ?? copy, 3, k, n), reference(a, copy, 3, k, n, true), k, `${path} packed view`);
  });
});

/** float64 reference of masked softmax attention for every head. */
function attentionReference(q: Float32Array, kT: Float32Array, v: Float32Array, mask: Float32Array, maskHeads: number, H: number, nq: number, nk: number, d: number) {
  const scores = new Float64Array(H * nq * nk);
  const pattern = new Float64Array(H * nq * nk);
  const z = new Float64Array(H * nq * d);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < nq; i++) {
      const at = (h * nq + i) * nk;
      let max = -Infinity;
      for (let j = 0; j < nk; j++) {
        let s = mask[((maskHeads === 1 ? 0 : h) * nq + i) * nk + j];
        for (let c = 0; c < d; c++) s += q[(h * nq + i) * d + c] * kT[(h * d + c) * nk + j];
        scores[at + j] = s;
        max = Math.max(max, s);
      }
      let sum = 0;
      for (let j = 0; j < nk; j++) sum += (pattern[at + j] = Math.exp(scores[at + j] - max));
      for (let j = 0; j < nk; j++) {
        pattern[at + j] /= sum;
        for (let c = 0; c < d; c++) z[(h * nq + i) * d + c] += pattern[at + j] * v[(h * nk + j) * d + c];
      }
    }
  }
  return { scores, pattern, z };
}

// Only paths with a native fused attention implement it (ONNX Runtime); where none loads here, nothing runs.
const withAttention = paths.filter((p) => p.k.attention);
describe.each(withAttention)('attention on path $path', ({ path, k: kernels }) => {
  it.each([
    [1, 1, 1, 1, 1], [3, 5, 7, 4, 1], [12, 33, 33, 64, 1], [12, 64, 64, 64, 12], [8, 17, 40, 8, 8], [4, 128, 128, 16, 1],
  ])('heads=%i nq=%i nk=%i d=%i maskHeads=%i: pattern, z and scores match float64 (causal −∞ and a bias)', (H, nq, nk, d, maskHeads) => {
    if (!kernels.attention) return; // no path here implements it: nothing to test
    const q = random(H * nq * d, H + nq);
    const kT = random(H * d * nk, nk + d);
    const v = random(H * nk * d, d + 3);
    const mask = random(maskHeads * nq * nk, 99);
    const offset = nk - nq; // queries are the last nq positions
    for (let h = 0; h < maskHeads; h++) for (let i = 0; i < nq; i++) mask.fill(-Infinity, (h * nq + i) * nk + offset + i + 1, (h * nq + i + 1) * nk);
    const pattern = new Float32Array(H * nq * nk).fill(NaN);
    const z = new Float32Array(H * nq * d).fill(NaN);
    const scores = new Float32Array(H * nq * nk).fill(NaN);
    kernels.attention({ q, kT, v, mask, maskHeads, heads: H, nq, nk, d, pattern, z, scores });
    const want = attentionReference(q, kT, v, mask, maskHeads, H, nq, nk, d);
    expectClose(pattern, want.pattern, 8, `${path} pattern`);
    expectClose(z, want.z, nk, `${path} z`);
    for (let i = 0; i < scores.length; i++) {
      if (want.scores[i] === -Infinity) expect(scores[i]).toBe(-Infinity);
      if (want.scores[i] === -Infinity) expect(pattern[i]).toBe(0); // hidden keys get exactly 0
    }
    expectClose(scores.map((s) => (s === -Infinity ? 0 : s)), want.scores.map((s) => (s === -Infinity ? 0 : s)), d, `${path} scores`);
    // Without the optional scores output the results are the same.
    const p2 = new Float32Array(H * nq * nk);
    const z2 = new Float32Array(H * nq * d);
    kernels.attention({ q, kT, v, mask, maskHeads, heads: H, nq, nk, d, pattern: p2, z: z2 });
    expect(p2).toEqual(pattern);
    expect(z2).toEqual(z);
  });

  it('rejects undersized buffers and a mask with the wrong head count', () => {
    if (!kernels.attention) return;
    const a = (n: number) => new Float32Array(n);
    expect(() => kernels.attention?.({ q: a(2 * 4 * 8), kT: a(2 * 8 * 4), v: a(2 * 4 * 8), mask: a(16), maskHeads: 1, heads: 2, nq: 4, nk: 4, d: 8, pattern: a(31), z: a(64) })).toThrow(/pattern/);
    expect(() => kernels.attention?.({ q: a(2 * 4 * 8), kT: a(2 * 8 * 4), v: a(2 * 4 * 8), mask: a(48), maskHeads: 3, heads: 2, nq: 4, nk: 4, d: 8, pattern: a(32), z: a(64) })).toThrow(/mask/);
  });
});

describe('portableAttention', () => {
  it('matches the float64 reference (the native path falls back to it for tiny inputs)', () => {
    const [H, nq, nk, d] = [3, 4, 6, 5];
    const q = random(H * nq * d, 1); const kT = random(H * d * nk, 2); const v = random(H * nk * d, 3); const mask = random(nq * nk, 4);
    mask.fill(-Infinity, 5, 6);
    const pattern = new Float32Array(H * nq * nk); const z = new Float32Array(H * nq * d); const scores = new Float32Array(H * nq * nk);
    portableAttention({ q, kT, v, mask, maskHeads: 1, heads: H, nq, nk, d, pattern, z, scores });
    const want = attentionReference(q, kT, v, mask, 1, H, nq, nk, d);
    expectClose(pattern, want.pattern, 8, 'portable pattern');
    expectClose(z, want.z, nk, 'portable z');
    expect(pattern[5]).toBe(0);
  });
});

describe.each(paths.filter((p) => p.k.logitSummary))('logitSummary on path $path', ({ path, k: kernels }) => {
  it.each([[1, 1, 5], [1000, 1, 5], [1000, 0.7, 20], [7, 2.5, 1]])('m=%i, temperature %f, top %i: matches the logits matmulT returns (log-sum-exp in float64), across row blocks', (m, temperature, top) => {
    const [k, n] = [8, 9000]; // a vocabulary-sized weight; 1000 rows take two row blocks (≤ 26 MB of logits each)
    const w = random(n * k, 31).map((x) => x * 6); // logits up to ~±50: the max shift matters
    const bias = random(n, 32);
    const handle = kernels.packWeight?.(w, k, n, true);
    if (!handle) kernels.prepareWeight?.(w, k, n, true);
    const a = random(m * k, 33 + m);
    const targets = Int32Array.from({ length: m }, (_, i) => (i * 977) % n);
    const s = kernels.logitSummary?.(a, handle ?? w, m, k, n, bias, { top, temperature, targets });
    expect(s, `${path} summarises a packed unembedding`).toBeDefined();
    const logits = kernels.matmulT(a, handle ?? w, m, k, n, bias);
    expectClose(logits, reference(a, w, m, k, n, true, bias), k, `${path} logits`);
    let worst = 0;
    for (let i = 0; i < m; i++) {
      const row = logits.subarray(i * n, (i + 1) * n);
      expect(s!.targetLogit[i]).toBe(row[targets[i]]);
      expect(s!.targetRank[i]).toBe(row.filter((x) => x > row[targets[i]]).length);
      if (i % 37 === 0 || i === m - 1 || i === 499 || i === 500) { // block edges; sorting every row would take seconds
        const order = Array.from(row.keys()).sort((x, y) => row[y] - row[x] || x - y);
        expect(Array.from(s!.topIds.subarray(i * top, (i + 1) * top)), `${path} top ids row ${i}`).toEqual(order.slice(0, top));
        expect(Array.from(s!.topLogits.subarray(i * top, (i + 1) * top))).toEqual(order.slice(0, top).map((j) => row[j]));
      }
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x / temperature);
      const want = max + Math.log(row.reduce((acc, x) => acc + Math.exp(x / temperature - max), 0));
      worst = Math.max(worst, Math.abs(s!.logSumExp[i] - want));
    }
    // Summed in float64: left are the float32 rounding of ℓ / T (logits up to ~50 here) and of each exp.
    expect(worst, `${path} max |lse − float64|`).toBeLessThan(temperature === 1 ? 1e-6 : 4e-6);
  });

  it('packed without a bias term (hasBias false): the same summaries and logits; a bias given anyway is still added', () => {
    const [m, k, n] = [300, 8, 9000];
    const w = random(n * k, 51).map((x) => x * 6);
    const handle = kernels.packWeight?.(w, k, n, true, undefined, false);
    if (!handle) return; // a path that keeps no packed copy has nothing to leave out
    const a = random(m * k, 52);
    const targets = Int32Array.from({ length: m }, (_, i) => (i * 131) % n);
    const s = kernels.logitSummary?.(a, handle, m, k, n, undefined, { top: 3, temperature: 1, targets });
    expect(s).toBeDefined();
    const logits = kernels.matmulT(a, handle, m, k, n);
    expectClose(logits, reference(a, w, m, k, n, true), k, `${path} bias-free logits`);
    for (let i = 0; i < m; i += 29) {
      const row = logits.subarray(i * n, (i + 1) * n);
      expect(s!.targetLogit[i]).toBe(row[targets[i]]);
      expect(s!.targetRank[i]).toBe(row.filter((x) => x > row[targets[i]]).length);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      expect(Math.abs(s!.logSumExp[i] - (max + Math.log(row.reduce((acc, x) => acc + Math.exp(x - max), 0))))).toBeLessThan(1e-6);
    }
    const bias = random(n, 53);
    expect(kernels.logitSummary?.(a, handle, m, k, n, bias, { top: 3, temperature: 1, targets })).toBeUndefined();
    expectClose(kernels.matmulT(a, handle, m, k, n, bias), reference(a, w, m, k, n, true, bias), k, `${path} bias added to a bias-free packing`);
  });

  it('is undefined for a weight that is not a packed unembedding, and checks its targets', () => {
    const w = random(64 * 8, 40);
    expect(kernels.logitSummary?.(random(8, 41), w, 1, 8, 64, undefined, { top: 5, temperature: 1, targets: new Int32Array(1) })).toBeUndefined();
    const big = random(9000 * 8, 42);
    kernels.prepareWeight?.(big, 8, 9000, true);
    expect(() => kernels.logitSummary?.(random(8, 43), big, 1, 8, 9000, undefined, { top: 5, temperature: 1, targets: Int32Array.of(9000) })).toThrow(/target/);
  });
});

describe.each(withAttention)('attention with a packed pattern on path $path', ({ path, k: kernels }) => {
  /** The packed layout of a full pattern, the way the trace's PatternStore packs it in JavaScript. */
  function packReference(full: Float32Array, H: number, n: number, triangle: boolean, u16: boolean): Float32Array | Uint16Array {
    const per = triangle ? (n * (n + 1)) / 2 : n * n;
    const out = u16 ? new Uint16Array(H * per) : new Float32Array(H * per);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < n; i++) {
        const len = triangle ? i + 1 : n;
        const at = h * per + (triangle ? (i * (i + 1)) / 2 : i * n);
        for (let j = 0; j < len; j++) out[at + j] = u16 ? full[(h * n + i) * n + j] * 65535 + 0.5 : full[(h * n + i) * n + j];
      }
    }
    return out;
  }

  it.each([
    [12, 40, true, false], [12, 40, true, true], [4, 33, false, false], [4, 33, false, true],
    [12, 600, true, true], // 17 MB of scores: runs in groups of heads
  ])('heads=%i n=%i triangle=%s uint16=%s: equals packing the full pattern, z unchanged', (H, n, triangle, u16) => {
    const d = 8;
    const q = random(H * n * d, 5 + n); const kT = random(H * d * n, 6); const v = random(H * n * d, 7);
    const mask = new Float32Array(n * n);
    if (triangle) for (let i = 0; i < n; i++) mask.fill(-Infinity, i * n + i + 1, (i + 1) * n);
    const full = new Float32Array(H * n * n); const z1 = new Float32Array(H * n * d);
    kernels.attention?.({ q, kT, v, mask, maskHeads: 1, heads: H, nq: n, nk: n, d, pattern: full, z: z1 });
    const per = triangle ? (n * (n + 1)) / 2 : n * n;
    const out = u16 ? new Uint16Array(H * per) : new Float32Array(H * per).fill(NaN);
    const z2 = new Float32Array(H * n * d);
    kernels.attention?.({ q, kT, v, mask, maskHeads: 1, heads: H, nq: n, nk: n, d, packed: { triangle, out }, z: z2 });
    expect(z2).toEqual(z1);
    const want = packReference(full, H, n, triangle, u16);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(out[i] - want[i]));
    // uint16: float32 vs float64 rounding of p·65535 + 0.5 may differ by one step at a .5 boundary.
    expect(worst, `${path} packed max diff`).toBeLessThanOrEqual(u16 ? 1 : 0);
  });
});
