// Trace storage (exact and quantised patterns, memory bound), the hook table and its generated docs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, type ModelConfig } from '../../../src/engine/config';
import type { LoadedModel } from '../../../src/engine/forward';
import { HOOKS, hookName, renderHooksMarkdown } from '../../../src/engine/hooks';
import { portableKernels } from '../../../src/engine/kernels/portable';
import { PATTERN_F32_BUDGET, PatternStore, StackRecorder, Trace } from '../../../src/engine/trace';

const root = path.resolve(__dirname, '../../..');

describe('hook table', () => {
  it('docs/hooks.md is generated from src/engine/hooks.ts', () => {
    const file = path.join(root, 'docs/hooks.md');
    if (process.env.TE_UPDATE_DOCS) fs.writeFileSync(file, renderHooksMarkdown());
    expect(fs.readFileSync(file, 'utf8'), 'regenerate with TE_UPDATE_DOCS=1 npx vitest run test/unit/engine/trace.test.ts').toBe(renderHooksMarkdown());
  });
  it('builds names in the TransformerLens grammar', () => {
    expect(hookName('pattern', 3)).toBe('blocks.3.attn.hook_pattern');
    expect(hookName('q', 0, 'cross_attn', 'decoder.')).toBe('decoder.blocks.0.cross_attn.hook_q');
    expect(hookName('ln_final', 0, 'attn', 'encoder.')).toBe('encoder.ln_final.hook_normalized');
    expect(hookName('embed')).toBe('hook_embed');
    for (const spec of Object.values(HOOKS)) expect(spec.shape).toMatch(/^\[[a-z_, ]+\]$/);
  });
});

function causalPattern(heads: number, n: number, seed: number): Float32Array {
  const p = new Float32Array(heads * n * n);
  let s = seed;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j <= i; j++) { s = (s * 1103515245 + 12345) % 2147483648; p[(h * n + i) * n + j] = s / 2147483648; sum += p[(h * n + i) * n + j]; }
      for (let j = 0; j <= i; j++) p[(h * n + i) * n + j] /= sum;
    }
  }
  return p;
}

describe('PatternStore', () => {
  it('keeps causal patterns exactly as triangles in float32', () => {
    const p = causalPattern(3, 7, 1);
    const store = new PatternStore(1, 3, 7, 7, true, 'f32');
    store.set(0, p);
    expect(store.layer(0)).toEqual(p);
    expect(store.bytes).toBe(3 * 28 * 4);
    expect(store.row(0, 2, 4)).toEqual(p.slice((2 * 7 + 4) * 7, (2 * 7 + 5) * 7));
  });
  it('quantises to uint16 within 1/131070', () => {
    const p = causalPattern(2, 9, 2);
    const store = new PatternStore(1, 2, 9, 9, true, 'u16');
    store.set(0, p);
    const back = store.layer(0);
    let max = 0;
    for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(back[i] - p[i]));
    expect(max).toBeLessThanOrEqual(1 / 131070 + 1e-9);
    expect(max).toBeGreaterThan(0);
  });
  it('stores bidirectional patterns in full', () => {
    const p = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 24);
    const store = new PatternStore(1, 2, 3, 4, false, 'f32');
    store.set(0, p);
    expect(store.layer(0)).toEqual(p);
  });
});

describe('trace memory for 1024 tokens of a GPT-2-small-shaped model', () => {
  it('is bounded: uint16 causal triangles + float32 residuals', () => {
    const L = 12, H = 12, n = 1024, d = 768;
    const cfg = { ...CONFIG_DEFAULTS, architecture: 'x', family: 'x', kind: 'decoder', d_model: d, n_heads: H, n_kv_heads: H, d_head: 64, n_layers: L, n_ctx: 1024, d_vocab: 50257, d_mlp: 3072, norm: 'layernorm', norm_eps: 1e-5, positional: 'learned', act: 'gelu_new', attn_scale: 0.125 } satisfies ModelConfig;
    const model = { cfg, kernels: portableKernels } as unknown as LoadedModel;
    const precision = PatternStore.bytesFor(L, H, n, n, true, 'f32') <= PATTERN_F32_BUDGET ? 'f32' : 'u16';
    expect(precision).toBe('u16');
    const expected = L * H * (n * (n + 1)) / 2 * 2 + L * n * d * 4 + n * d * 4 + (L + 1) * n * 4 + n * 64;
    const pattern = causalPattern(H, n, 3);
    const resid = new Float32Array(n * d).fill(0.5);
    const before = process.memoryUsage().arrayBuffers;
    const rec = new StackRecorder({ stack: 'decoder', prefix: '', layers: L, heads: H, n, causal: true, precision });
    for (let l = 0; l < L; l++) {
      rec.record(hookName('pattern', l), pattern, [H, n, n]);
      rec.record(hookName('resid_pre', l), resid, [n, d]);
    }
    const ids = Array.from({ length: n }, (_, i) => i);
    const trace = new Trace(model, String, '', { ids, tokens: ids.map(String), offsets: ids.map((i) => [i, i + 1] as [number, number]), special: ids.map(() => false) }, rec, new Float32Array(n * d));
    const measured = process.memoryUsage().arrayBuffers - before;
    console.log(`[trace memory] 1024 tokens, GPT-2-small shape: computed ${trace.memoryBytes()} B (${(trace.memoryBytes() / 2 ** 20).toFixed(1)} MiB), measured ArrayBuffer growth ${measured} B (${(measured / 2 ** 20).toFixed(1)} MiB)`);
    expect(trace.memoryBytes()).toBe(expected);
    expect(measured).toBeGreaterThan(expected * 0.95);
    expect(measured).toBeLessThan(expected * 1.1);
    expect(trace.patternRow(11, 5, 1023)[1023]).toBeCloseTo(pattern[(5 * n + 1023) * n + 1023], 5);
    expect(trace.residNorms[0]).toBeCloseTo(Math.sqrt(d * 0.25), 4);
  });
});
