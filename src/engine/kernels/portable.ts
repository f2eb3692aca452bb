import { applyActivation, gatedActivation, normRows, softmaxRows } from '../ops';
import { checkGemmArgs } from './check';
import { packRow, type AttentionArgs, type Kernels } from './types';

/** Straightforward loops, ordered for sequential memory access. The reference every faster path is checked against. */
export const portableKernels: Kernels = {
  name: 'portable',
  matmul(a, b, m, k, n, bias, out = new Float32Array(m * n)) {
    checkGemmArgs('matmul', a, b, m, k, n, bias, out);
    for (let i = 0; i < m; i++) {
      const row = i * n;
      if (bias) out.set(bias.subarray(0, n), row); else out.fill(0, row, row + n);
      for (let p = 0; p < k; p++) {
        const av = a[i * k + p];
        if (av === 0) continue;
        const bRow = p * n;
        for (let j = 0; j < n; j++) out[row + j] += av * b[bRow + j];
      }
    }
    return out;
  },
  matmulT(a, b, m, k, n, bias, out = new Float32Array(m * n)) {
    checkGemmArgs('matmulT', a, b, m, k, n, bias, out);
    for (let i = 0; i < m; i++) {
      const aRow = i * k;
      for (let j = 0; j < n; j++) {
        const bRow = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[aRow + p] * b[bRow + p];
        out[i * n + j] = bias ? s + bias[j] : s;
      }
    }
    return out;
  },
  activation: applyActivation,
  gatedActivation,
  softmaxRows,
  normRows,
  prepareWeight() {
    // Nothing to pack: plain loops read the weight as stored.
  },
  packWeight() {
    return undefined; // the caller's array is the only copy
  },
};

/** Kernels.attention in plain loops (the reference for the native version, and its path for tiny inputs). */
export function portableAttention(x: AttentionArgs): void {
  const { heads: H, nq, nk, d, maskHeads } = x;
  const row = new Float32Array(nk);
  for (let h = 0; h < H; h++) {
    const mask = x.mask.subarray((maskHeads === 1 ? 0 : h) * nq * nk);
    for (let i = 0; i < nq; i++) {
      const q = x.q.subarray((h * nq + i) * d, (h * nq + i + 1) * d);
      for (let j = 0; j < nk; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q[c] * x.kT[(h * d + c) * nk + j];
        row[j] = s + mask[i * nk + j];
      }
      const at = (h * nq + i) * nk;
      x.scores?.set(row, at);
      softmaxRows(row, 1, nk);
      x.pattern?.set(row, at);
      if (x.packed) packRow(x.packed, h, i, nq, nk, row);
      const z = x.z.subarray((h * nq + i) * d, (h * nq + i + 1) * d);
      z.fill(0);
      for (let j = 0; j < nk; j++) {
        const p = row[j];
        if (p === 0) continue;
        const v = x.v.subarray((h * nk + j) * d, (h * nk + j + 1) * d);
        for (let c = 0; c < d; c++) z[c] += p * v[c];
      }
    }
  }
}
