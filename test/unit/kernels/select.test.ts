// Kernel selection: preference, TE_KERNELS override, bad values, fallback reasons.
import { describe, expect, it } from 'vitest';
import { selectKernels, tryKernels } from '../../../src/engine/kernels/select';

describe('selectKernels', () => {
  it('gives the portable path when asked, without logging', () => {
    const lines: string[] = [];
    expect(selectKernels({ prefer: 'portable', env: {}, log: (l) => lines.push(l) }).name).toBe('portable');
    expect(lines).toEqual([]);
  });

  it('lets TE_KERNELS override the caller', () => {
    expect(selectKernels({ prefer: 'auto', env: { TE_KERNELS: 'portable' }, log: () => undefined }).name).toBe('portable');
    expect(selectKernels({ prefer: 'portable', env: { TE_KERNELS: ' WASM ' }, log: () => undefined }).name).toMatch(/^(wasm-simd|portable)$/);
  });

  it('rejects an unknown TE_KERNELS value with the valid choices', () => {
    expect(() => selectKernels({ env: { TE_KERNELS: 'cuda' } })).toThrow(/TE_KERNELS="cuda".*auto, portable, wasm, onnx/);
  });

  it('auto picks the fastest path that loads, and every fallback is logged with a reason', () => {
    const lines: string[] = [];
    const k = selectKernels({ prefer: 'auto', env: {}, log: (l) => lines.push(l) });
    const onnx = tryKernels('onnx', 1);
    const wasm = tryKernels('wasm', 1);
    const expected = typeof onnx !== 'string' ? 'onnx' : typeof wasm !== 'string' ? 'wasm-simd' : 'portable';
    expect(k.name).toBe(expected);
    if (typeof onnx === 'string') expect(lines[0]).toMatch(/onnx path unavailable \(.+\); falling back/);
    else expect(lines).toEqual([]);
    k.dispose?.();
  });

  it('reads the thread count from TE_KERNEL_THREADS', () => {
    // Only observable through behaviour; a bad value must not break selection.
    expect(() => selectKernels({ env: { TE_KERNELS: 'portable', TE_KERNEL_THREADS: 'lots' } })).not.toThrow();
  });
});
