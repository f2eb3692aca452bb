// The forward pass's parts on small random models of every kind: hooks are free and do not change results,
// the KV-cached incremental path equals the full recomputation, the explicit attention path obeys its
// contract, and the element-wise ops / positional tables match closed forms.
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, type ModelConfig } from '../../../src/engine/config';
import { attendExplicit, attendRowwise, forwardDecoder, forwardEncoder, prepareModel, unembedRows, type AttnHeads, type LoadedModel } from '../../../src/engine/forward';
import { generateIds, pickToken, seededRandom } from '../../../src/engine/generate';
import { HOOKS, HookCache, hookName } from '../../../src/engine/hooks';
import { KVCache } from '../../../src/engine/kvcache';
import { portableKernels } from '../../../src/engine/kernels/portable';
import { activation, applyRope, erf, normRows, ropeInvFreq, softmaxRows } from '../../../src/engine/ops';
import { positionSimilarity, relativeBucket, ropeAngles, ropeRelativeScores, sinusoidalTable } from '../../../src/engine/positional';
import { encodeSafetensors } from '../../../src/engine/safetensorsWriter';
import { assembleWeights, canonicalShapes } from '../../../src/engine/weights';

function randomModel(over: Partial<ModelConfig>, seed = 1): LoadedModel {
  const cfg: ModelConfig = {
    ...CONFIG_DEFAULTS, architecture: 'Test', family: 'test', kind: 'decoder', d_model: 16, n_heads: 4, n_kv_heads: 4, d_head: 4, n_layers: 2,
    n_ctx: 32, d_vocab: 23, d_mlp: 24, norm: 'layernorm', norm_eps: 1e-5, positional: 'learned', act: 'gelu_new', attn_scale: 0.5, ...over,
  };
  const random = seededRandom(seed);
  const tensors = new Map<string, Float32Array>();
  for (const [name, shape] of canonicalShapes(cfg)) {
    const isNormWeight = /\.(ln\w*|ln_final)\.w$/.test(name);
    tensors.set(name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (isNormWeight ? 1 : 0) + (random() - 0.5) * 0.8));
  }
  return prepareModel(cfg, assembleWeights(cfg, tensors), portableKernels);
}

const LLAMA_LIKE: Partial<ModelConfig> = { norm: 'rmsnorm', norm_bias: false, positional: 'rope', rope_theta: 10000, n_kv_heads: 2, gated_mlp: true, act: 'silu' };
const GPT2_LIKE: Partial<ModelConfig> = { attn_qkv_bias: true, attn_out_bias: true, mlp_bias: true };
const T5_LIKE: Partial<ModelConfig> = { kind: 'encoder-decoder', n_decoder_layers: 2, norm: 'rmsnorm', norm_bias: false, positional: 'relative_bias', relative_buckets: 8, relative_max_distance: 16, act: 'relu', attn_scale: 1, logit_scale: 0.25 };
const BERT_LIKE: Partial<ModelConfig> = { ...GPT2_LIKE, kind: 'encoder', norm_placement: 'post', final_norm: false, embed_norm: true, n_token_types: 2, act: 'gelu', logit_bias: true, mlm_head: true };
const ids = [3, 7, 1, 22, 0, 9, 9, 14];

describe('hooks', () => {
  it.each([['gpt2-like', GPT2_LIKE], ['llama-like', LLAMA_LIKE]])('%s: logits are identical with every hook recorded or none', (_, over) => {
    const m = randomModel(over);
    const plain = forwardDecoder(m, ids);
    const cache = new HookCache();
    const hooked = forwardDecoder(m, ids, { recorder: cache });
    expect(unembedRows(m, hooked.hidden, [0, 7])).toEqual(unembedRows(m, plain.hidden, [0, 7]));
    expect(cache.values.size).toBeGreaterThan(20);
    expect(cache.get('blocks.1.hook_resid_post')!.shape).toEqual([8, 16]);
    // resid_post of block l is resid_pre of block l + 1, and ln_final exists only once
    expect(cache.get('blocks.0.hook_resid_post')!.data).toEqual(cache.get('blocks.1.hook_resid_pre')!.data);
    expect(cache.get('ln_final.hook_normalized')!.data).toEqual(plain.hidden);
  });
  it('only calls record for names that pass the filter', () => {
    const m = randomModel(LLAMA_LIKE);
    const seen: string[] = [];
    forwardDecoder(m, ids, { recorder: { wants: (n) => { seen.push(n); return n.endsWith('hook_rot_q'); }, record: (n) => expect(n).toMatch(/hook_rot_q$/) } });
    expect(seen).toContain('blocks.0.attn.hook_rot_q');
    expect(seen).toContain('blocks.1.mlp.hook_pre_gate');
  });
  it('reports progress per block and cancels between blocks', () => {
    const m = randomModel(GPT2_LIKE);
    const progress: string[] = [];
    forwardDecoder(m, ids, { onProgress: (d, t) => progress.push(`${d}/${t}`) });
    expect(progress).toEqual(['1/2', '2/2']);
    let calls = 0;
    expect(() => forwardDecoder(m, ids, { shouldCancel: () => ++calls > 1 })).toThrow(/cancelled/);
    const ac = new AbortController();
    ac.abort();
    expect(() => forwardDecoder(m, ids, { signal: ac.signal })).toThrowError(expect.objectContaining({ code: 'CANCELLED' }));
  });
});

describe('attention', () => {
  it.each([
    ['causal GQA', LLAMA_LIKE, true, false, 0],
    ['causal with cache offset and position bias', T5_LIKE, true, true, 3],
    ['bidirectional with position bias', T5_LIKE, false, true, 0],
  ] as const)('explicit (materialised pattern) and row-wise paths agree: %s', (_, over, causal, withBias, startPos) => {
    const m = randomModel(over);
    const { n_heads: H, n_kv_heads: Hkv, d_head: dh } = m.cfg;
    const r = seededRandom(5);
    const nq = 5, nk = startPos + nq;
    const rand = (len: number) => Float32Array.from({ length: len }, () => r() * 2 - 1);
    const hd: AttnHeads = { q: rand(H * nq * dh), k: rand(Hkv * nk * dh), v: rand(Hkv * nk * dh), nq, nk, kvStride: nk };
    const bias = withBias ? rand(H * nq * nk) : undefined;
    const explicit = attendExplicit(m, hd, causal, startPos, bias, { o: {}, layer: 0, attn: 'attn', prefix: '' });
    const rowwise = attendRowwise(m, hd, causal, startPos, bias);
    for (let i = 0; i < explicit.length; i++) expect(Math.abs(explicit[i] - rowwise[i])).toBeLessThan(1e-6);
  });
  it('pattern rows are causal softmaxes of the recorded scores', () => {
    const m = randomModel(LLAMA_LIKE);
    const c = new HookCache();
    forwardDecoder(m, ids, { recorder: c });
    const scores = c.get('blocks.1.attn.hook_attn_scores')!;
    const pattern = c.get('blocks.1.attn.hook_pattern')!;
    expect(pattern.shape).toEqual([4, 8, 8]);
    const n = 8;
    for (let h = 0; h < 4; h++) {
      for (let i = 0; i < n; i++) {
        const row = pattern.data.subarray((h * n + i) * n, (h * n + i + 1) * n);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
        for (let j = i + 1; j < n; j++) { expect(row[j]).toBe(0); expect(scores.data[(h * n + i) * n + j]).toBe(-Infinity); }
        const max = Math.max(...scores.data.subarray((h * n + i) * n, (h * n + i) * n + i + 1));
        const z = Array.from({ length: i + 1 }, (_, j) => Math.exp(scores.data[(h * n + i) * n + j] - max)).reduce((a, b) => a + b, 0);
        expect(row[0]).toBeCloseTo(Math.exp(scores.data[(h * n + i) * n] - max) / z, 6);
      }
    }
  });
  it.each([['gpt2-like', GPT2_LIKE], ['llama-like (GQA, RoPE)', LLAMA_LIKE]])('%s: KV-cached incremental logits equal the full recomputation', (_, over) => {
    const m = randomModel(over);
    const full = forwardDecoder(m, ids);
    const cache = new KVCache();
    const a = forwardDecoder(m, ids.slice(0, 5), {}, cache);
    const rows: Float32Array[] = [unembedRows(m, a.hidden, [4])];
    for (let t = 5; t < ids.length; t++) rows.push(unembedRows(m, forwardDecoder(m, [ids[t]], {}, cache).hidden, [0]));
    rows.forEach((r, i) => {
      const want = unembedRows(m, full.hidden, [4 + i]);
      for (let j = 0; j < r.length; j++) expect(Math.abs(r[j] - want[j])).toBeLessThan(1e-5);
    });
    expect(cache.length).toBe(ids.length);
  });
  it('generation with and without the cache gives the same tokens (greedy and seeded sampling)', () => {
    const m = randomModel(LLAMA_LIKE);
    expect(generateIds(m, [1, 2], { maxNewTokens: 12 }).newIds).toEqual(generateIds(m, [1, 2], { maxNewTokens: 12, noCache: true }).newIds);
    const s1 = generateIds(m, [1, 2], { maxNewTokens: 12, temperature: 1.5, seed: 7 }).newIds;
    expect(generateIds(m, [1, 2], { maxNewTokens: 12, temperature: 1.5, seed: 7, noCache: true }).newIds).toEqual(s1);
    expect(generateIds(m, [1, 2], { maxNewTokens: 12, temperature: 1.5, seed: 8 }).newIds).not.toEqual(s1);
    const stopAt = s1[3];
    const stopped = generateIds(m, [1, 2], { maxNewTokens: 12, temperature: 1.5, seed: 7, stopIds: [stopAt] });
    expect(stopped.stoppedBy).toBe('stop-token');
    expect(stopped.newIds).toEqual(s1.slice(0, s1.indexOf(stopAt) + 1));
  });
  it('encoder-decoder: cross-attention hooks, relative bias, cached decoding equals full', () => {
    const m = randomModel(T5_LIKE);
    const c = new HookCache();
    const enc = forwardEncoder(m, ids, { recorder: c });
    const dec = forwardDecoder(m, [0, 5, 6], { recorder: c }, undefined, enc);
    expect(c.get('decoder.blocks.1.cross_attn.hook_pattern')!.shape).toEqual([4, 3, 8]);
    expect(c.get('encoder.blocks.0.attn.hook_pattern')!.data.some((v, i) => i % 8 === 7 && v > 0)).toBe(true); // bidirectional
    const cache = new KVCache();
    forwardDecoder(m, [0, 5], {}, cache, enc);
    const last = forwardDecoder(m, [6], {}, cache, enc);
    const want = unembedRows(m, dec.hidden, [2]);
    unembedRows(m, last.hidden, [0]).forEach((v, j) => expect(Math.abs(v - want[j])).toBeLessThan(1e-5));
  });
  it('masked-LM encoder runs bidirectionally with the MLM head', () => {
    const m = randomModel(BERT_LIKE);
    const c = new HookCache((n) => n.includes('hook_pattern'));
    const out = forwardEncoder(m, ids, { recorder: c });
    expect(c.get('blocks.0.attn.hook_pattern')!.data[7]).toBeGreaterThan(0);
    expect(unembedRows(m, out.hidden, [2]).length).toBe(23);
  });
});

describe('ops', () => {
  it('erf matches known values to 1.2e-7', () => {
    const known: [number, number][] = [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [-1.5, -0.9661051464753108], [3, 0.9999779095030014]];
    for (const [x, v] of known) expect(Math.abs(erf(x) - v)).toBeLessThan(1.2e-7);
    expect(activation('gelu')(1)).toBeCloseTo(0.8413447460685429, 6);
    expect(activation('gelu_new')(1)).toBeCloseTo(0.8411919906082768, 7);
    expect(activation('silu')(2)).toBeCloseTo(2 / (1 + Math.exp(-2)), 7);
  });
  it('LayerNorm and RMSNorm', () => {
    const x = new Float32Array([1, 2, 3, 4]);
    const ln = normRows('layernorm', x, 1, 4, new Float32Array([1, 1, 1, 1]), new Float32Array([0, 0, 0, 1]), 0);
    expect(Array.from(ln).map((v) => +v.toFixed(5))).toEqual([-1.34164, -0.44721, 0.44721, 2.34164]);
    const rms = normRows('rmsnorm', x, 1, 4, new Float32Array([2, 2, 2, 2]), undefined, 0);
    expect(rms[3]).toBeCloseTo((2 * 4) / Math.sqrt(7.5), 5);
  });
  it('softmax gives exact zeros for -Infinity', () => {
    const s = softmaxRows(new Float32Array([0, Math.log(3), -Infinity]), 1, 3);
    expect(Array.from(s)).toEqual([0.25, 0.75, 0]);
  });
  it('pickToken: argmax takes the first maximum; sampling follows the distribution', () => {
    expect(pickToken(new Float32Array([1, 3, 3, 2]), 0, Math.random)).toBe(1);
    const r = seededRandom(42);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[pickToken(new Float32Array([0, Math.log(3)]), 1, r)]++;
    expect(counts[1] / 4000).toBeCloseTo(0.75, 1);
  });
});

describe('positional', () => {
  it('RoPE: rotated q·k depends only on the distance and matches ropeRelativeScores', () => {
    const dh = 8;
    const inv = ropeInvFreq(dh, 10000);
    const q = Float32Array.from({ length: dh }, (_, i) => Math.sin(i + 1));
    const k = Float32Array.from({ length: dh }, (_, i) => Math.cos(2 * i));
    const dotAt = (qp: number, kp: number) => {
      const qq = applyRope(q.slice(), 1, 1, dh, inv, qp);
      const kk = applyRope(k.slice(), 1, 1, dh, inv, kp);
      return qq.reduce((s, v, i) => s + v * kk[i], 0);
    };
    const profile = ropeRelativeScores(inv, 10, q, k);
    for (const delta of [0, 3, 10]) {
      expect(dotAt(20 + delta, 20)).toBeCloseTo(profile[delta], 4);
      expect(dotAt(5 + delta, 5)).toBeCloseTo(profile[delta], 4);
    }
    expect(ropeAngles([0, 2], inv)[4]).toBeCloseTo(2, 12);
  });
  it('sinusoidal tables: interleaved and Marian half layout', () => {
    const t = sinusoidalTable(3, 4, 'interleaved');
    expect(t[4 + 0]).toBeCloseTo(Math.sin(1), 6);
    expect(t[4 + 1]).toBeCloseTo(Math.cos(1), 6);
    expect(t[4 + 2]).toBeCloseTo(Math.sin(1 / 100), 6);
    const h = sinusoidalTable(3, 4, 'half');
    expect(Array.from(h.subarray(4, 8)).map((v) => +v.toFixed(6))).toEqual([Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)].map((v) => +v.toFixed(6)));
    const sim = positionSimilarity(t, 3, 4);
    expect(sim[0]).toBeCloseTo(1, 6);
    expect(sim[1]).toBeCloseTo(sim[3], 6);
  });
  it('T5 buckets (HF _relative_position_bucket, 32 buckets, max distance 128)', () => {
    // values computed by hand from the HF formula
    expect(relativeBucket(0, true, 32, 128)).toBe(0);
    expect(relativeBucket(3, true, 32, 128)).toBe(19);
    expect(relativeBucket(-3, true, 32, 128)).toBe(3);
    expect(relativeBucket(-8, true, 32, 128)).toBe(8); // 8 + floor(log(1)/log(16)·8)
    expect(relativeBucket(-20, true, 32, 128)).toBe(10); // 8 + floor(log(2.5)/log(16)·8) = 8 + 2
    expect(relativeBucket(-500, true, 32, 128)).toBe(15);
    expect(relativeBucket(5, false, 32, 128)).toBe(0); // future keys share bucket 0 in the causal decoder
    expect(relativeBucket(-20, false, 32, 128)).toBe(17); // 16 + floor(log(20/16)/log(8)·16) = 16 + 1
  });
});

describe('safetensors writer', () => {
  it('writes an 8-byte aligned header with offsets and metadata', () => {
    const buf = encodeSafetensors([{ name: 'a', shape: [2], data: new Float32Array([1, 2]) }, { name: 'b.0', shape: [1, 1], data: new Float32Array([3]) }]);
    const len = Number(buf.readBigUInt64LE(0));
    expect((8 + len) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + len).toString());
    expect(header).toEqual({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, 'b.0': { dtype: 'F32', shape: [1, 1], data_offsets: [8, 12] } });
    expect(buf.readFloatLE(8 + len + 8)).toBe(3);
    expect(() => encodeSafetensors([{ name: 'x', shape: [3], data: new Float32Array(2) }])).toThrow(/needs 3 values/);
  });
});

describe('hook names used by the forward pass are declared', () => {
  it('every recorded name matches a template', () => {
    const c = new HookCache();
    const m = randomModel(T5_LIKE);
    forwardDecoder(m, [0, 1], { recorder: c }, undefined, forwardEncoder(m, ids, { recorder: c }));
    const templates = [...new Set([...c.values.keys()].map((n) => n.replace(/^(encoder|decoder)\./, '').replace(/\.\d+\./, '.{l}.').replace('.cross_attn.', '.{attn}.').replace('.attn.', '.{attn}.')))];
    const declared = new Set(Object.keys(HOOK_KINDS).map((k) => HOOK_KINDS[k]));
    for (const t of templates) expect(declared, t).toContain(t);
    expect(hookName('resid_pre', 1, 'attn', 'decoder.')).toBe('decoder.blocks.1.hook_resid_pre');
  });
});

const HOOK_KINDS: Record<string, string> = Object.fromEntries(Object.entries(HOOKS).map(([k, v]) => [k, v.name]));
