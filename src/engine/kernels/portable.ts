import { applyActivation, gatedActivation, normRows, softmaxRows } from '../ops';
import { checkGemmArgs } from './check';
import type { Kernels } from './types';

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
