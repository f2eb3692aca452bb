// The engine against the fixtures' float64 references, through the facade (tokenize → trace → slices):
// every case of every reference model, ids/tokens/offsets exact, tensors within the README tolerances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookCache } from '../../../src/engine/hooks';
import { loadModel, type Model } from '../../../src/engine/model';
import type { Trace } from '../../../src/engine/trace';
import { loadCase, loadCases, modelDir, readReferenceTensors } from '../../support/fixtures';
import { attnRows, checkClose, checkLogits, checkTop5, DiffTable, ref } from './forwardReference';

const diffs = new DiffTable();
afterAll(() => console.log(diffs.format('direct engine calls')));

/** attn.<l>, resid.<l>, resid.final of one stack against the reference names with `prefix`. */
function checkStack(model: string, t: Trace, tensors: ReturnType<typeof readReferenceTensors>, attnName: string, queries: number[] | null, label: string): void {
  for (let l = 0; l < t.nLayers; l++) {
    const want = ref(tensors, `${attnName}.${l}`);
    checkClose(diffs, model, 'attn', attnRows(t.patternLayer(l), t.nHeads, t.n, t.n, queries), want, `${label} ${attnName}.${l}`);
    checkClose(diffs, model, 'resid', t.resid(l), ref(tensors, `${attnName.replace(/(self_)?attn$/, '')}resid.${l}`), `${label} resid.${l}`);
  }
  checkClose(diffs, model, 'resid', t.finalHidden, ref(tensors, `${attnName.replace(/(self_)?attn$/, '')}resid.final`), `${label} resid.final`);
}

/** The head-math view's weights (recomputed from the stored residual) equal the recorded pattern row. */
function checkHeadMath(t: Trace, layer: number, head: number, query: number): void {
  const m = t.headMath(layer, head, query);
  const row = t.patternRow(layer, head, query);
  expect(m.weights).toHaveLength(t.causal ? query + 1 : t.n);
  m.weights.forEach((w, j) => expect(Math.abs(w - row[j]), `key ${j}`).toBeLessThan(1e-6));
  expect(m.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
}

describe.each(['stories260K', 'tiny-random-gpt2'])('%s (decoder-only)', (name) => {
  let model: Model;
  beforeAll(() => { model = loadModel(modelDir(name), { kernels: 'portable' }); });
  it.each(loadCases(name).map((c) => [c.name, c] as const))('case %s', async (_, c) => {
    const t = await model.trace(c.text);
    expect(t.tokens.ids).toEqual(c.input_ids);
    expect(t.tokens.tokens).toEqual(c.tokens);
    expect(t.tokens.offsets).toEqual(c.offsets);
    const tensors = readReferenceTensors(name, c.name);
    checkLogits(diffs, name, t.logitsAt(c.logits_positions), ref(tensors, 'logits'), c.name);
    checkStack(name, t, tensors, 'attn', c.attn_query_positions, c.name);
    checkHeadMath(t, t.nLayers - 1, t.nHeads - 1, t.n - 1);
    expect(c.top_next).toHaveLength(t.n);
    c.top_next!.forEach((want, p) => checkTop5(diffs, name, t.topK(p, 5), want, `${c.name} top_next[${p}]`));
    if (c.generate_greedy) {
      const g = await model.generateFromIds(c.generate_greedy.prompt_ids, { maxNewTokens: c.generate_greedy.new_ids.length });
      expect(g.newIds).toEqual(c.generate_greedy.new_ids);
      expect(g.newText).toBe(c.generate_greedy.new_text);
      const viaText = await model.generate(c.text, { maxNewTokens: c.generate_greedy.new_ids.length });
      expect(viaText.newIds).toEqual(c.generate_greedy.new_ids);
    }
  });
});

describe('tiny-random-bert (masked LM)', () => {
  const name = 'tiny-random-bert';
  let model: Model;
  beforeAll(() => { model = loadModel(modelDir(name), { kernels: 'portable' }); });
  it.each(loadCases(name).map((c) => [c.name, c] as const))('case %s', async (_, c) => {
    const t = await model.trace(c.text);
    expect(t.tokens.ids).toEqual(c.input_ids);
    expect(t.tokens.tokens).toEqual(c.tokens);
    expect(t.tokens.offsets).toEqual(c.offsets);
    const tensors = readReferenceTensors(name, c.name);
    checkLogits(diffs, name, t.logitsAt(c.logits_positions), ref(tensors, 'logits'), c.name);
    checkStack(name, t, tensors, 'attn', c.attn_query_positions, c.name);
    const masks = model.maskPositions(await model.tokenize(c.text));
    expect(masks).toEqual(c.mask_positions);
    c.top_mask!.forEach(({ position, top5 }) => checkTop5(diffs, name, t.topK(position, 5), top5, `${c.name} top_mask@${position}`));
    if (c.name === 'mask_short') checkHeadMath(t, 2, 1, 4);
  });
});

describe.each(['tiny-random-marian', 'tiny-random-t5'])('%s (encoder-decoder)', (name) => {
  let model: Model;
  beforeAll(() => { model = loadModel(modelDir(name), { kernels: 'portable' }); });
  it.each(loadCases(name).map((c) => [c.name, c] as const))('case %s', async (_, c) => {
    const src = await model.tokenize(c.text);
    expect(src.ids).toEqual(c.input_ids);
    expect(src.tokens).toEqual(c.tokens);
    expect(src.offsets).toEqual(c.offsets);
    const ours = await model.targetTokens(c.target_text!);
    expect(ours.ids).toEqual(c.decoder_input_ids);
    expect(ours.tokens).toEqual(c.decoder_tokens);
    const r = model.traceSeq2SeqTokens(c.text, src, c.target_text!, ours);
    const tensors = readReferenceTensors(name, c.name);
    checkLogits(diffs, name, r.decoder.logitsAt(c.logits_positions), ref(tensors, 'logits'), c.name);
    checkStack(name, r.encoder, tensors, 'encoder.attn', null, c.name);
    checkStack(name, r.decoder, tensors, 'decoder.self_attn', null, c.name);
    for (let l = 0; l < r.decoder.nLayers; l++) {
      checkClose(diffs, name, 'attn', r.decoder.crossPatternLayer(l), ref(tensors, `decoder.cross_attn.${l}`), `${c.name} cross_attn.${l}`);
    }
    c.top_next!.forEach((want, p) => checkTop5(diffs, name, r.decoder.topK(p, 5), want, `${c.name} top_next[${p}]`));
    expect(() => r.encoder.logitsAt([0])).toThrow(/no language-model head/);
    if (c.name === 'short_english') {
      checkHeadMath(r.encoder, 1, 2, 3);
      checkHeadMath(r.decoder, 1, 3, r.decoder.n - 1);
      const cross = r.decoder.crossHeadMath(1, 2, r.decoder.n - 1);
      const row = r.decoder.crossPattern(1, 2).subarray((r.decoder.n - 1) * r.encoder.n, r.decoder.n * r.encoder.n);
      expect(cross.weights).toHaveLength(r.encoder.n);
      cross.weights.forEach((w, j) => expect(Math.abs(w - row[j])).toBeLessThan(1e-6));
      expect(() => r.encoder.crossHeadMath(0, 0, 0)).toThrow(/no cross-attention/);
    }
  });
});

describe('trace slices on stories260K (a real model)', () => {
  let model: Model;
  let t: Trace;
  const text = 'Once upon a time, there was a little girl named Lily.';
  beforeAll(async () => {
    model = loadModel(modelDir('stories260K'), { kernels: 'portable' });
    t = await model.trace(text);
  });
  it('next-token probability, rank and surprisal agree with top-k and with the reference', () => {
    const s = t.nextTokenStats();
    expect(s.prob).toHaveLength(t.n - 1);
    for (let p = 0; p < t.n - 1; p++) {
      const top = t.topK(p, 512);
      const actual = t.tokens.ids[p + 1];
      const idx = top.findIndex((x) => x.id === actual);
      // The stats' softmax is float32 (the kernels'), topK's float64: they agree to float32 rounding.
      expect(Math.abs(s.prob[p] - top[idx].prob) / top[idx].prob).toBeLessThan(1e-5);
      expect(s.rank[p]).toBe(top.filter((x) => x.prob > top[idx].prob).length);
      expect(s.surprisalNats[p]).toBeCloseTo(-Math.log(s.prob[p]), 10);
      expect(s.surprisalBits[p]).toBeCloseTo(s.surprisalNats[p] / Math.LN2, 10);
    }
    // the model knows this story: "upon" after "Once" is its top choice
    expect(s.rank[1]).toBe(0);
  });
  it('next-token probability and rank equal the float64 reference wherever the actual token is in its top-5', async () => {
    let checked = 0;
    for (const c of loadCases('stories260K')) {
      const s = (await model.trace(c.text)).nextTokenStats();
      c.top_next!.forEach((top5, p) => {
        const hit = top5.findIndex((x) => x.id === c.input_ids[p + 1]);
        if (p >= c.input_ids.length - 1 || hit < 0) return;
        expect(s.rank[p]).toBe(hit);
        expect(Math.abs(s.prob[p] - top5[hit].prob)).toBeLessThan(1e-5);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(10);
  });
  it('logit lens: its last row is the model output, earlier rows are real distributions', () => {
    const lens = t.logitLens(4, 3);
    expect(lens).toHaveLength(t.nLayers + 1);
    expect(lens[t.nLayers].top.map((x) => x.id)).toEqual(t.topK(4, 3).map((x) => x.id));
    for (const row of lens) expect(row.top[0].prob).toBeGreaterThan(row.top[1].prob);
  });
  it('temperature flattens or sharpens top-k', () => {
    expect(t.topK(3, 1, 2)[0].prob).toBeLessThan(t.topK(3, 1, 1)[0].prob);
    expect(t.topK(3, 1, 0.5)[0].prob).toBeGreaterThan(t.topK(3, 1, 1)[0].prob);
    expect(() => t.topK(3, 1, 0)).toThrow(/Temperature/);
  });
  it('head math recomputed from the stored residual equals the recorded q, k, pattern and z', async () => {
    const hooks = new HookCache((n) => n.startsWith('blocks.2.attn.'));
    const t2 = await model.trace(text, { hooks });
    const layer = 2, head = 5, query = 9;
    const m = t2.headMath(layer, head, query);
    const { n_heads: H, n_kv_heads: Hkv, d_head: dh } = model.config;
    expect(m.kvHead).toBe(Math.floor(head / (H / Hkv)));
    const rotQ = hooks.get('blocks.2.attn.hook_rot_q')!.data;
    expect(Array.from(m.q)).toEqual(Array.from(rotQ.subarray((query * H + head) * dh, (query * H + head + 1) * dh)));
    const rotK = hooks.get('blocks.2.attn.hook_rot_k')!.data;
    for (let j = 0; j <= query; j++) expect(Array.from(m.k.subarray(j * dh, (j + 1) * dh))).toEqual(Array.from(rotK.subarray((j * Hkv + m.kvHead) * dh, (j * Hkv + m.kvHead + 1) * dh)));
    const row = t2.patternRow(layer, head, query);
    m.weights.forEach((w, j) => expect(Math.abs(w - row[j])).toBeLessThan(1e-6));
    expect(row.subarray(query + 1).every((v) => v === 0)).toBe(true);
    const z = hooks.get('blocks.2.attn.hook_z')!.data.subarray((query * H + head) * dh, (query * H + head + 1) * dh);
    m.z.forEach((v, i) => expect(Math.abs(v - z[i])).toBeLessThan(1e-6));
    m.scores.forEach((s, j) => expect(s).toBeCloseTo(m.dots[j] * m.scale, 5));
  });
  it('uint16-quantised patterns (used for long inputs) stay within the attention tolerance', async () => {
    const c = loadCase('stories260K', 'long');
    const q = await model.trace(c.text, { patternPrecision: 'u16' });
    expect(q.patternPrecision).toBe('u16');
    const tensors = readReferenceTensors('stories260K', c.name);
    for (let l = 0; l < q.nLayers; l++) checkClose(diffs, 'stories260K (u16 patterns)', 'attn', attnRows(q.patternLayer(l), q.nHeads, q.n, q.n, c.attn_query_positions), ref(tensors, `attn.${l}`), `u16 attn.${l}`);
    expect(q.memoryBytes()).toBeLessThan((await model.trace(c.text)).memoryBytes());
  });
  it('residual norms and bad slice requests', () => {
    expect(t.residNorms).toHaveLength((t.nLayers + 1) * t.n);
    expect(() => t.pattern(5, 0)).toThrowError(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => t.topK(t.n)).toThrow(/outside/);
    expect(t.memoryBytes()).toBeGreaterThan(t.nLayers * t.n * model.config.d_model * 4);
  });
  it('model info and the positional scheme', () => {
    expect(model.info).toMatchObject({ family: 'llama', architecture: 'LlamaForCausalLM', n_layers: 5, n_heads: 8, n_kv_heads: 4, d_model: 64, d_vocab: 512, n_ctx: 512, params: 260032, positional: 'rope' });
    expect(model.info.kernels).toBe(process.env.TE_KERNELS ? model.loaded.kernels.name : 'portable');
    expect(model.positional()).toMatchObject({ kind: 'rope', rope_theta: 10000, d_head: 8 });
    expect(model.positionTable()).toBeUndefined();
  });
});
