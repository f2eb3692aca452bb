/**
 * Chooses the kernel path at model load. Order for 'auto': ONNX Runtime (MLAS, pre-packed weights: fastest
 * measured here), then WebAssembly SIMD (any platform), then portable TypeScript. A path that cannot load
 * falls back to the next with a logged reason, never an error. `TE_KERNELS=portable|wasm|onnx|auto` in the
 * environment overrides the caller's preference (tests use it to run the fixture suite on every path), and
 * `TE_KERNEL_THREADS` the thread count.
 */
import * as os from 'node:os';
import { OnnxKernels } from './onnx/kernels';
import { loadOrtRuntime } from './onnx/runtime';
import { portableKernels } from './portable';
import type { Kernels } from './types';
import { WasmKernels, wasmSimdSupported } from './wasm/kernels';

export type KernelPath = 'portable' | 'wasm' | 'onnx';
export type KernelPreference = KernelPath | 'auto';
export const KERNEL_PATHS: readonly KernelPath[] = ['portable', 'wasm', 'onnx'];

export interface SelectKernelsOptions {
  readonly prefer?: KernelPreference;
  /** Threads for paths that use several (onnx). Default: all cores, at most 4. */
  readonly threads?: number;
  /** Receives one line per fallback (why a faster path was not used). Default: console.warn. */
  readonly log?: (message: string) => void;
  /** Environment to read TE_KERNELS / TE_KERNEL_THREADS from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

function parsePreference(v: string | undefined): KernelPreference | undefined {
  if (v === undefined || v === '') return undefined;
  const p = v.trim().toLowerCase();
  if (p === 'auto' || (KERNEL_PATHS as readonly string[]).includes(p)) return p as KernelPreference;
  throw new Error(`TE_KERNELS="${v}" is not a kernel path; use one of auto, ${KERNEL_PATHS.join(', ')}.`);
}

function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

/** Tries one path: the kernels, or the reason it cannot run here. */
export function tryKernels(path: KernelPath, threads: number): Kernels | string {
  switch (path) {
    case 'portable':
      return portableKernels;
    case 'wasm':
      if (!wasmSimdSupported()) return 'this JavaScript engine has no WebAssembly SIMD';
      try {
        return new WasmKernels();
      } catch (e) {
        return `the WebAssembly module failed to load: ${(e as Error).message}`;
      }
    case 'onnx': {
      const rt = loadOrtRuntime();
      if (rt instanceof Error) return `onnxruntime-node is not available for ${process.platform}-${process.arch}: ${rt.message.split('\n')[0]}`;
      try {
        return new OnnxKernels(rt, { threads });
      } catch (e) {
        return `onnxruntime-node failed to start: ${(e as Error).message}`;
      }
    }
  }
}

export function selectKernels(options: SelectKernelsOptions = {}): Kernels {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => console.warn(m));
  const prefer = parsePreference(env.TE_KERNELS) ?? options.prefer ?? 'auto';
  const envThreads = Number(env.TE_KERNEL_THREADS);
  const threads = Number.isInteger(envThreads) && envThreads > 0 ? envThreads : options.threads ?? defaultThreads();
  const order: KernelPath[] = prefer === 'auto' ? ['onnx', 'wasm', 'portable'] : prefer === 'onnx' ? ['onnx', 'wasm', 'portable'] : prefer === 'wasm' ? ['wasm', 'portable'] : ['portable'];
  for (const path of order) {
    const k = tryKernels(path, threads);
    if (typeof k !== 'string') return k;
    log(`[kernels] ${path} path unavailable (${k}); falling back.`);
  }
  return portableKernels;
}
