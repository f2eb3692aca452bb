// Fused blocks (Kernels.packBlock, src/engine/fusedBlocks.ts, onnx/blocks.ts): a pre-norm block in three native
// calls instead of ~9. The same model loaded with and without fusion (both on ONNX Runtime, and the portable path)
// must agree at every hook, in the head math, the next-token statistics and generation with a KV cache — for a
// GPT-2-shaped model and for stories260K (Llama: RMSNorm, RoPE, grouped-query attention, SwiGLU); the fused model
// holds its block weights only in the fused sessions; and only the blocks the graphs implement are fused.
// (Against the float64 references: test/unit/kernels/fixtures.paths.test.ts, where both fixtures run fused on onnx.)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGpt2 } from '../../../bench/checkpoint';
import { generateIds } from '../../../src/engine/generate';
import { HookCache, HOOKS, hookName, type HookKind } from '../../../src/engine/hooks';
import type { Kernels } from '../../../src/engine/kernels/types';
import { tryKernels } from '../../../src/engine/kernels/select';
import { loadModel, type Model } from '../../../src/engine/model';
import { modelDir } from '../../support/fixtures';
import { maxAbsDiff } from './forwardReference';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'te-fused-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SHAPE = { n_layer: 2, n_embd: 128, n_head: 4, n_inner: 512, vocab_size: 50257, n_positions: 64 };
const TEXT = 'The quick brown fox jumps over the lazy dog, and then it rests by the river.';

/** ONNX kernels with fusion switched off (everything else the same), counting what they were asked to pack. */
function onnxKernels(fuse: boolean): { kernels: Kernels; packed: string[]; dispose(): void } {
  const inner = tryKernels('onnx', 2);
  if (typeof inner === 'string') throw new Error(inner);
  const packed: string[] = [];
  const kernels = new Proxy(inner, {
    get(target, prop, recv) {
      if (!fuse && (prop === 'packBlock' || prop === 'blockFusable' || prop === 'restoreBlock')) return undefined;
      if (prop === 'packWeight') {
        return (b: Float32Array, k: number, n: number, t: boolean) => {
          const h = inner.packWeight!(b, k, n, t);
          if (h) packed.push(`${n}x${k}`);
          return h;
        };
      }
      if (prop === 'packBlock') return (...a: Parameters<NonNullable<Kernels['packBlock']>>) => { packed.push('block'); return inner.packBlock!(...a); };
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { kernels, packed, dispose: () => inner.dispose?.() };
}

const BLOCK_HOOKS: HookKind[] = ['resid_pre', 'q', 'k', 'v', 'attn_scores', 'pattern', 'z', 'attn_out', 'resid_mid', 'mlp_pre', 'mlp_post', 'mlp_out', 'resid_post'];
/** Llama-family blocks add these (RoPE, gated MLP). */
const LLAMA_HOOKS: HookKind[] = ['rot_q', 'rot_k', 'mlp_pre_gate'];

function blockHooks(model: Model): HookKind[] {
  return model.config.positional === 'rope' ? [...BLOCK_HOOKS, ...LLAMA_HOOKS] : BLOCK_HOOKS;
}

async function everyHook(model: Model): Promise<HookCache> {
  const names = new Set(blockHooks(model).flatMap((k) => Array.from({ length: model.info.n_layers }, (_, l) => hookName(k, l))));
  const cache = new HookCache((name) => names.has(name));
  await model.trace(TEXT, { hooks: cache });
  return cache;
}

/** |a − b| ≤ tol · max(1, max |b|): float32 rounding of other kernels and summation orders. */
function expectClose(a: Float32Array, b: Float32Array, tol: number, label: string): void {
  expect(a.length, label).toBe(b.length);
  let scale = 1;
  for (const v of b) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const finite = (x: Float32Array) => x.map((v) => (Number.isFinite(v) ? v : -1e30));
  expect(maxAbsDiff(finite(a), finite(b)), label).toBeLessThanOrEqual(tol * scale);
}

const onnx = tryKernels('onnx', 1);
if (typeof onnx !== 'string') onnx.dispose?.();
describe.skipIf(typeof onnx === 'string')('fused blocks (onnx kernels)', () => {
  let dir: string;
  let fused: Model;
  let unfused: Model;
  let portable: Model;
  let fusedKernels: ReturnType<typeof onnxKernels>;
  let unfusedKernels: ReturnType<typeof onnxKernels>;
  beforeAll(() => {
    dir = path.join(tmp, 'gpt2');
    writeGpt2(dir, modelDir('gpt2-tokenizer'), SHAPE);
    fusedKernels = onnxKernels(true);
    unfusedKernels = onnxKernels(false);
    fused = loadModel(dir, { kernels: fusedKernels.kernels });
    unfused = loadModel(dir, { kernels: unfusedKernels.kernels });
    portable = loadModel(dir, { kernels: 'portable' });
  });
  afterAll(() => {
    fusedKernels.dispose();
    unfusedKernels.dispose();
  });

  it('fuses every block and holds its weights only there (the unembedding is the only single weight packed)', () => {
    expect(fused.loaded.fused?.size).toBe(SHAPE.n_layer);
    expect(fused.info.fused_blocks).toBe(SHAPE.n_layer);
    expect(unfused.info.fused_blocks).toBe(0);
    expect(fusedKernels.packed).toEqual(['block', 'block', `${SHAPE.vocab_size}x${SHAPE.n_embd}`]);
    for (const bw of fused.loaded.w.decoder?.blocks ?? []) {
      for (const l of [bw.attn.q, bw.attn.k, bw.attn.v, bw.attn.o, bw.mlp.in, bw.mlp.out]) expect(l.w.length).toBe(0);
    }
    expect(unfused.loaded.fused).toBeUndefined();
    expect(unfusedKernels.packed).toHaveLength(SHAPE.n_layer * 6 + 1);
  });

  it('gives every hook the values of the per-op path (ONNX Runtime and portable)', async () => {
    const [a, b, c] = [await everyHook(fused), await everyHook(unfused), await everyHook(portable)];
    for (let l = 0; l < SHAPE.n_layer; l++) {
      for (const kind of blockHooks(fused)) {
        const name = hookName(kind, l);
        const got = a.get(name);
        expect(got, `${name} recorded by the fused block`).toBeDefined();
        expect(got?.shape).toEqual(b.get(name)?.shape);
        const tol = kind === 'pattern' ? 1e-6 : 2e-6;
        expectClose(got!.data, b.get(name)!.data, tol, `${name} fused vs per-op onnx`);
        expectClose(got!.data, c.get(name)!.data, tol, `${name} fused vs portable`);
      }
    }
    expect(Object.keys(HOOKS)).toEqual(expect.arrayContaining(BLOCK_HOOKS));
  });

  it('agrees on the trace: patterns, residuals, next-token statistics and the head math', async () => {
    const [t1, t2] = [await fused.trace(TEXT), await unfused.trace(TEXT)];
    for (let l = 0; l < SHAPE.n_layer; l++) {
      expectClose(t1.patternLayer(l), t2.patternLayer(l), 1e-6, `pattern ${l}`);
      expectClose(t1.resid(l + 1), t2.resid(l + 1), 2e-6, `resid ${l + 1}`);
      const h1 = t1.headMath(l, 1, 7);
      const h2 = t2.headMath(l, 1, 7);
      for (const k of ['q', 'k', 'v', 'scores', 'weights', 'z'] as const) expectClose(h1[k], h2[k], 2e-6, `head math ${k} layer ${l}`);
      // the head math's weights are the stored pattern row
      expectClose(h1.weights, t1.patternRow(l, 1, 7).subarray(0, 8), 1e-6, `head math vs pattern, layer ${l}`);
    }
    const [s1, s2] = [t1.nextTokenStats(), t2.nextTokenStats()];
    expect(Array.from(s1.rank)).toEqual(Array.from(s2.rank));
    expectClose(Float32Array.from(s1.prob), Float32Array.from(s2.prob), 1e-6, 'next-token probabilities');
  });

  it('generates with a KV cache like the per-op path (the cached decoder steps run the fused halves too; so do uncached ones)', async () => {
    const prompt = (await fused.tokenize(TEXT)).ids;
    const [g1, g2] = [await fused.generateFromIds(prompt, { maxNewTokens: 6 }), await unfused.generateFromIds(prompt, { maxNewTokens: 6 })];
    expect(g1.newIds).toEqual(g2.newIds);
    expect(g1.newIds).toHaveLength(6);
    // without a cache and without a recorder: fused halves around row-wise attention (memory O(key positions))
    expect(generateIds(fused.loaded, prompt, { maxNewTokens: 6, noCache: true }).newIds).toEqual(g1.newIds);
  });

  it('checks what a fused block is given', () => {
    const fb = [...(fused.loaded.fused?.values() ?? [])][0];
    expect(() => fb.attnInputs(new Float32Array(10), 2, { raw: true, heads: false })).toThrow(RangeError);
    expect(() => fb.rest(new Float32Array(SHAPE.n_embd), new Float32Array(SHAPE.n_embd), 2, new Set())).toThrow(RangeError);
  });

  it('fuses Llama-family blocks (RMSNorm, RoPE, grouped-query attention, SwiGLU): every hook, the head math and cached generation agree', async () => {
    const k = [onnxKernels(true), onnxKernels(false)];
    try {
      const [f, u] = k.map((x) => loadModel(modelDir('stories260K'), { kernels: x.kernels }));
      const p = loadModel(modelDir('stories260K'), { kernels: 'portable' });
      expect(f.config.n_kv_heads).toBeLessThan(f.config.n_heads); // the fixture exercises GQA
      expect(f.loaded.fused?.size).toBe(f.info.n_layers);
      expect(u.loaded.fused).toBeUndefined();
      const [a, b, c] = [await everyHook(f), await everyHook(u), await everyHook(p)];
      expect(a.values.size).toBe(blockHooks(f).length * f.info.n_layers);
      for (const [name, got] of a.values) {
        expect(got.shape, name).toEqual(b.get(name)?.shape);
        // RoPE in float32 in the graph against float64 angles and products in ops.applyRope, five layers deep: a few
        // ulps apart (the float64 references allow 5e-5 for patterns, 1e-4 for residuals)
        const tol = 2e-5;
        expectClose(got.data, b.get(name)!.data, tol, `${name} fused vs per-op onnx`);
        expectClose(got.data, c.get(name)!.data, tol, `${name} fused vs portable`);
      }
      const [t1, t2] = [await f.trace(TEXT), await u.trace(TEXT)];
      for (let l = 0; l < f.info.n_layers; l++) {
        const [h1, h2] = [t1.headMath(l, 5, 9), t2.headMath(l, 5, 9)];
        expect(h1.kvHead).toBe(h2.kvHead);
        for (const key of ['q', 'k', 'v', 'weights', 'z'] as const) expectClose(h1[key], h2[key], 5e-6, `stories260K head math ${key} layer ${l}`);
      }
      const prompt = (await f.tokenize(TEXT)).ids;
      const [g1, g2] = [await f.generateFromIds(prompt, { maxNewTokens: 8 }), await u.generateFromIds(prompt, { maxNewTokens: 8 })];
      expect(g1.newIds).toEqual(g2.newIds);
    } finally {
      for (const x of k) x.dispose();
    }
  });

  it('leaves blocks the graphs do not implement to the per-op path (post-norm, encoder-decoder)', () => {
    for (const name of ['tiny-random-bert', 'tiny-random-t5', 'tiny-random-marian']) {
      const k = onnxKernels(true);
      try {
        const m = loadModel(modelDir(name), { kernels: k.kernels });
        expect(m.loaded.fused, name).toBeUndefined();
        expect(k.packed.filter((p) => p === 'block'), name).toEqual([]);
      } finally {
        k.dispose();
      }
    }
  });
});
