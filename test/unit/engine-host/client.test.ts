/**
 * The engine through the real worker pool, as the extension uses it: analyse → slices / hover / mask / generate,
 * compared with the float64 reference fixtures (never with the engine's own output).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient } from '../../../src/engine-host/client';
import { EnginePool } from '../../../src/engine-host/pool';
import { EngineError } from '../../../src/engine/errors';
import { buildWorkerForTests } from '../../support/buildWorker';
import { loadCase, modelDir, readReferenceTensors } from '../../support/fixtures';

let pool: EnginePool;
let client: EngineClient;
beforeAll(async () => {
  pool = new EnginePool({ workerScript: await buildWorkerForTests() });
  client = new EngineClient(pool);
});
afterAll(() => pool.dispose());

const ATTN_TOL = 5e-5;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('EngineClient on stories260K through worker threads', () => {
  const dir = modelDir('stories260K');
  const c = loadCase('stories260K', 'short_english');
  const ref = readReferenceTensors('stories260K', 'short_english');

  it('analyses: tokens, offsets and the early token event match the reference', async () => {
    let early: unknown;
    const r = await client.analyze({ dir, text: c.text }, { onTokens: (t) => (early = t) });
    expect(r.tokens.map((t) => t.id)).toEqual(c.input_ids);
    expect(r.tokens.map((t) => [t.start, t.end])).toEqual(c.offsets);
    expect(r.tokens.map((t) => t.token)).toEqual(c.tokens);
    expect(early).toEqual(r.tokens);
    expect(r.model.info.n_layers).toBe(5);
    expect(r.truncatedAt).toBeUndefined();
  });

  it('attention slices equal the reference patterns, head by head and as a mean', async () => {
    const r = await client.analyze({ dir, text: c.text });
    for (const layer of [0, 4]) {
      const attn = ref.get(`attn.${layer}`)!; // [heads, n, n]
      const [H, n] = attn.shape;
      const s = await client.slice(r.traceId, { slice: 'attention', query: { stack: 'self', layer, aggregation: 'head', heads: [0, H - 1] } });
      expect(s.nq).toBe(n);
      expect(maxDiff(s.matrices[0].data, attn.data.subarray(0, n * n))).toBeLessThan(ATTN_TOL);
      expect(maxDiff(s.matrices[1].data, attn.data.subarray((H - 1) * n * n, H * n * n))).toBeLessThan(ATTN_TOL);
      const mean = await client.slice(r.traceId, { slice: 'attention', query: { stack: 'self', layer, aggregation: 'mean', heads: Array.from({ length: H }, (_, h) => h) } });
      const expected = new Float32Array(n * n);
      for (let h = 0; h < H; h++) for (let i = 0; i < n * n; i++) expected[i] += attn.data[h * n * n + i] / H;
      expect(maxDiff(mean.matrices[0].data, expected)).toBeLessThan(ATTN_TOL);
    }
  });

  it('predictions slice: top-5 ids and probabilities at every position match top_next', async () => {
    const r = await client.analyze({ dir, text: c.text });
    const p = await client.slice(r.traceId, { slice: 'predictions', query: { k: 5, temperature: 1 } });
    expect(p.top).toHaveLength(c.input_ids.length);
    c.top_next!.forEach((expected, pos) => {
      expect(p.top[pos].map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expected.forEach((e, i) => expect(Math.abs(p.top[pos][i].prob - e.prob)).toBeLessThan(1e-5));
    });
    // the actual next token's probability is the softmax of the reference logits at that token
    const logits = ref.get('logits')!;
    const V = logits.shape[1];
    for (let pos = 0; pos < c.input_ids.length - 1; pos++) {
      const row = logits.data.subarray(pos * V, (pos + 1) * V);
      const max = Math.max(...row);
      const z = row.reduce((s, x) => s + Math.exp(x - max), 0);
      const expected = Math.exp(row[c.input_ids[pos + 1]] - max) / z;
      expect(Math.abs(p.actualProb[pos] - expected)).toBeLessThan(1e-5);
    }
  });

  it('hover answers from the cached trace: attention row of the chosen head and next-token top-k', async () => {
    const r = await client.analyze({ dir, text: c.text });
    const attn = ref.get('attn.2')!;
    const n = attn.shape[1];
    const pos = 5;
    const h = await client.hover({ traceId: r.traceId, position: pos, layer: 2, head: 1, k: 3 });
    const row = attn.data.subarray((1 * n + pos) * n, (1 * n + pos + 1) * n);
    const best = Array.from(row.keys()).sort((a, b) => row[b] - row[a])[0];
    expect(h.attended[0].index).toBe(best);
    expect(Math.abs(h.attended[0].weight - row[best])).toBeLessThan(ATTN_TOL);
    expect(h.next.map((e) => e.id)).toEqual(c.top_next![pos].slice(0, 3).map((e) => e.id));
    expect(h.token.id).toBe(c.input_ids[pos]);
  });

  it('generate reproduces the reference greedy continuation', async () => {
    const g = loadCase('stories260K', 'greedy_prompt');
    const out = await client.generate({ dir, text: g.text, maxNewTokens: g.generate_greedy!.new_ids.length });
    expect(out.newIds).toEqual(g.generate_greedy!.new_ids);
  });

  it('truncates to the token limit and says where the analysed text stops', async () => {
    const r = await client.analyze({ dir, text: c.text, maxTokens: 6 });
    expect(r.tokens).toHaveLength(6);
    expect(r.totalTokens).toBe(c.input_ids.length);
    expect(r.truncatedAt).toBe(c.offsets[5][1]);
  });

  it('a newer analysis on the same channel cancels the older one', async () => {
    const long = loadCase('stories260K', 'long');
    const first = client.analyze({ dir, text: long.text.repeat(2) });
    const second = client.analyze({ dir, text: c.text });
    await expect(first).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(second).resolves.toMatchObject({ totalTokens: c.input_ids.length });
  });

  it('slices of a released or unknown trace fail with a re-run hint', async () => {
    const err = await client.slice('t999999', { slice: 'logitLens', k: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).hint).toMatch(/Analyze/);
  });

  it('malformed requests are rejected in the worker', async () => {
    await expect(pool.request('analyze', { dir, text: 42 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(pool.request('slice', { traceId: 't1', request: { slice: 'attention', query: { layer: -1 } } })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(client.loadModel('/nonexistent/model')).rejects.toMatchObject({ code: 'MISSING_FILE' });
  });
});

describe('EngineClient on the other families', () => {
  it('BERT: [MASK] predictions and "mask this token" follow the reference', async () => {
    const c = loadCase('tiny-random-bert', 'mask_short');
    const r = await client.analyze({ dir: modelDir('tiny-random-bert'), text: c.text });
    expect(r.maskPositions).toEqual(c.mask_positions);
    const p = await client.slice(r.traceId, { slice: 'predictions', query: { k: 5, temperature: 1 } });
    for (const m of c.top_mask!) {
      expect(p.masks!.find((x) => x.position === m.position)!.top.map((e) => e.id)).toEqual(m.top5.map((e) => e.id));
    }
    // masking a position that already is [MASK] must give the same answer as the plain run
    const pos = c.mask_positions![0];
    const masked = await client.maskToken(r.traceId, pos, 5);
    expect(masked.map((e) => e.id)).toEqual(c.top_mask!.find((m) => m.position === pos)!.top5.map((e) => e.id));
  });

  it('T5: encoder, decoder and cross attention slices equal the reference', async () => {
    const c = loadCase('tiny-random-t5', 'short_english');
    const ref = readReferenceTensors('tiny-random-t5', 'short_english');
    const r = await client.analyze({ dir: modelDir('tiny-random-t5'), text: c.text, target: c.target_text });
    expect(r.targetTokens!.map((t) => t.id)).toEqual(c.decoder_input_ids);
    for (const [stack, name] of [['encoder', 'encoder.attn.1'], ['decoder', 'decoder.self_attn.1'], ['cross', 'decoder.cross_attn.1']] as const) {
      const t = ref.get(name)!;
      const [, nq, nk] = t.shape;
      const s = await client.slice(r.traceId, { slice: 'attention', query: { stack, layer: 1, aggregation: 'head', heads: [2] } });
      expect([s.nq, s.nk]).toEqual([nq, nk]);
      expect(maxDiff(s.matrices[0].data, t.data.subarray(2 * nq * nk, 3 * nq * nk))).toBeLessThan(ATTN_TOL);
    }
    const pos = await client.slice(r.traceId, { slice: 'positional', count: 16 });
    expect(pos.kind).toBe('relative_bias');
    expect(pos.t5Bias!.rows).toBe(4);
  });
});
