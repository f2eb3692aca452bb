/**
 * Kernel microbenchmark: GFLOP/s of matmulT/matmul on GPT-2-small shapes for every available path, and the
 * machine's GEMM peak (best single large product). Used by bench/main.ts (`npm run bench`), which reports the
 * peak next to the end-to-end numbers.
 */
import { tryKernels, type KernelPath } from '../src/engine/kernels/select';
import type { Kernels } from '../src/engine/kernels/types';

export interface GemmShape { readonly m: number; readonly k: number; readonly n: number; readonly label: string }

/** The products of one GPT-2-small forward at 128 tokens, plus the logits and an attention head. */
export const GPT2_SHAPES: readonly GemmShape[] = [
  { m: 128, k: 768, n: 768, label: 'q/k/v/o proj' },
  { m: 128, k: 768, n: 3072, label: 'mlp in' },
  { m: 128, k: 3072, n: 768, label: 'mlp out' },
  { m: 128, k: 768, n: 50257, label: 'logits' },
  { m: 512, k: 768, n: 3072, label: 'mlp in @512' },
];

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

export interface GemmResult { readonly shape: GemmShape; readonly ms: number; readonly gflops: number }

/** Median time of `reps` weight-layout (matmulT) products after a warm-up that also pre-packs the weight. */
export function timeGemm(kernels: Kernels, shape: GemmShape, reps = 5): GemmResult {
  const { m, k, n } = shape;
  const a = random(m * k, 1);
  const w = random(n * k, 2);
  const bias = random(n, 3);
  const out = new Float32Array(m * n);
  kernels.prepareWeight?.(w, k, n, true);
  kernels.matmulT(a, w, m, k, n, bias, out);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    kernels.matmulT(a, w, m, k, n, bias, out);
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)];
  return { shape, ms, gflops: (2 * m * k * n) / ms / 1e6 };
}

export function runKernelBench(paths: readonly KernelPath[], threads: readonly number[], log: (line: string) => void): Map<string, GemmResult[]> {
  const all = new Map<string, GemmResult[]>();
  for (const path of paths) {
    for (const t of path === 'onnx' ? threads : [1]) {
      const k = tryKernels(path, t);
      if (typeof k === 'string') {
        log(`${path}: skipped (${k})`);
        continue;
      }
      const shapes = path === 'portable' ? GPT2_SHAPES.filter((s) => s.n <= 3072 && s.m <= 128) : GPT2_SHAPES;
      const results = shapes.map((s) => timeGemm(k, s, path === 'portable' ? 3 : 5));
      const key = `${path}×${t}`;
      all.set(key, results);
      for (const r of results) log(`${key.padEnd(12)} ${r.shape.label.padEnd(14)} ${`${r.shape.m}x${r.shape.k}x${r.shape.n}`.padEnd(16)} ${r.ms.toFixed(2).padStart(9)} ms ${r.gflops.toFixed(1).padStart(7)} GFLOP/s`);
      k.dispose?.();
    }
  }
  return all;
}
