// Family adapters and loud loading: config → ModelConfig, every canonical tensor filled once with the right
// shape, every checkpoint tensor accounted for, and clear errors for unsupported variants.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterFor, architectureOf, ARCHITECTURES, supportedArchitectures } from '../../../src/engine/architectures';
import { openCheckpoint, type Checkpoint } from '../../../src/engine/checkpoint';
import { EngineError } from '../../../src/engine/errors';
import { loadModel } from '../../../src/engine/model';
import { encodeSafetensors } from '../../../src/engine/safetensorsWriter';
import { ropeInvFreq } from '../../../src/engine/ops';
import { parseSentencePieceModel } from '../../../src/engine/targetTokenizer';
import { canonicalShapes, loadCanonicalTensors } from '../../../src/engine/weights';
import { modelDir } from '../../support/fixtures';

/** An in-memory checkpoint: tensor name → shape, values are a deterministic ramp. */
function fakeCheckpoint(config: Record<string, unknown>, shapes: Record<string, number[]>): Checkpoint {
  return {
    dir: '/fake', config,
    names: () => Object.keys(shapes),
    has: (n) => n in shapes,
    shape: (n) => shapes[n],
    read: (n) => Float32Array.from({ length: shapes[n].reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) * 0.1),
    info: () => undefined,
    close: () => undefined,
  };
}

const gpt2Config = { architectures: ['GPT2LMHeadModel'], n_embd: 8, n_head: 2, n_layer: 1, n_positions: 16, vocab_size: 11, n_inner: null, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5 };
function gpt2Shapes(prefix = 'transformer.'): Record<string, number[]> {
  const h = `${prefix}h.0`;
  return {
    [`${prefix}wte.weight`]: [11, 8], [`${prefix}wpe.weight`]: [16, 8],
    [`${h}.ln_1.weight`]: [8], [`${h}.ln_1.bias`]: [8], [`${h}.ln_2.weight`]: [8], [`${h}.ln_2.bias`]: [8],
    [`${h}.attn.c_attn.weight`]: [8, 24], [`${h}.attn.c_attn.bias`]: [24], [`${h}.attn.c_proj.weight`]: [8, 8], [`${h}.attn.c_proj.bias`]: [8],
    [`${h}.mlp.c_fc.weight`]: [8, 32], [`${h}.mlp.c_fc.bias`]: [32], [`${h}.mlp.c_proj.weight`]: [32, 8], [`${h}.mlp.c_proj.bias`]: [8],
    [`${prefix}ln_f.weight`]: [8], [`${prefix}ln_f.bias`]: [8],
  };
}

const llamaConfig = { architectures: ['LlamaForCausalLM'], hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 10, max_position_embeddings: 32, rms_norm_eps: 1e-5, rope_theta: 10000, rope_scaling: null, hidden_act: 'silu', tie_word_embeddings: true };
function llamaShapes(): Record<string, number[]> {
  const h = 'model.layers.0';
  return {
    'model.embed_tokens.weight': [10, 8], [`${h}.input_layernorm.weight`]: [8], [`${h}.post_attention_layernorm.weight`]: [8],
    [`${h}.self_attn.q_proj.weight`]: [8, 8], [`${h}.self_attn.k_proj.weight`]: [4, 8], [`${h}.self_attn.v_proj.weight`]: [4, 8], [`${h}.self_attn.o_proj.weight`]: [8, 8],
    [`${h}.mlp.gate_proj.weight`]: [12, 8], [`${h}.mlp.up_proj.weight`]: [12, 8], [`${h}.mlp.down_proj.weight`]: [8, 12],
    'model.norm.weight': [8],
  };
}

function load(config: Record<string, unknown>, shapes: Record<string, number[]>) {
  const arch = architectureOf(config);
  const adapter = adapterFor(arch);
  const cfg = adapter.config(config, arch);
  const ckpt = fakeCheckpoint(config, shapes);
  return { cfg, ...loadCanonicalTensors(cfg, ckpt, adapter.weights(cfg, ckpt.names()), adapter.ignore(cfg)) };
}

function engineError(f: () => unknown): EngineError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected an EngineError');
}

describe('architecture registry', () => {
  it('names the unsupported architecture and lists the supported ones', () => {
    const e = engineError(() => adapterFor('MambaForCausalLM'));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toBe(`not supported yet: MambaForCausalLM; supported: ${supportedArchitectures().join(', ')}.`);
    expect(e.message).toContain('GPT2LMHeadModel, LlamaForCausalLM');
    expect(() => adapterFor('toString')).toThrow(/not supported yet: toString/);
  });
  it('requires an architectures entry', () => {
    expect(engineError(() => architectureOf({ model_type: 'gpt2' })).message).toMatch(/no "architectures" entry \(model_type "gpt2"\)/);
  });
  it('adapter files stay small', () => {
    for (const family of new Set(Object.values(ARCHITECTURES).map((a) => a.family))) {
      const src = fs.readFileSync(`${__dirname}/../../../src/engine/architectures/${family}.ts`, 'utf8');
      expect(src.split('\n').length, family).toBeLessThan(150);
    }
  });
});

describe('GPT-2 adapter', () => {
  it('splits c_attn, transposes Conv1D weights and fills every canonical tensor', () => {
    const { cfg, tensors, paramCount } = load(gpt2Config, gpt2Shapes());
    expect(cfg).toMatchObject({ d_model: 8, n_heads: 2, n_kv_heads: 2, d_head: 4, d_mlp: 32, norm: 'layernorm', positional: 'learned', act: 'gelu_new', attn_scale: 0.5 });
    expect([...tensors.keys()].sort()).toEqual([...canonicalShapes(cfg).keys()].sort());
    for (const [name, shape] of canonicalShapes(cfg)) expect(tensors.get(name)!.length, name).toBe(shape.reduce((a, b) => a * b, 1));
    // W_K = columns 8..15 of c_attn [8, 24], transposed: W_K[o][i] = c_attn[i][8 + o]
    const cAttn = Float32Array.from({ length: 8 * 24 }, (_, i) => (i % 7) * 0.1);
    const wk = tensors.get('blocks.0.attn.W_K')!;
    for (let o = 0; o < 8; o++) for (let i = 0; i < 8; i++) expect(wk[o * 8 + i]).toBe(cAttn[i * 24 + 8 + o]);
    expect(tensors.get('unembed.W_U')).toBe(tensors.get('embed.W_E')); // tied: one array
    expect(paramCount).toBe(Object.values(gpt2Shapes()).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0));
  });
  it('accepts the original checkpoints without the "transformer." prefix and ignores mask buffers', () => {
    const shapes = { ...gpt2Shapes(''), 'h.0.attn.bias': [1, 1, 16, 16], 'h.0.attn.masked_bias': [] };
    expect(load(gpt2Config, shapes).tensors.size).toBeGreaterThan(0);
  });
  it('names the tensor and both shapes when a tensor has the wrong shape', () => {
    const shapes = { ...gpt2Shapes(), 'transformer.wpe.weight': [15, 8] };
    const e = engineError(() => load(gpt2Config, shapes));
    expect(e.code).toBe('BAD_CHECKPOINT');
    expect(e.message).toBe('Tensor "transformer.wpe.weight" has shape [15, 8] but pos_embed.W_pos needs [16, 8].');
    const e2 = engineError(() => load(gpt2Config, { ...gpt2Shapes(), 'transformer.h.0.mlp.c_fc.weight': [8, 30] }));
    expect(e2.message).toContain('"transformer.h.0.mlp.c_fc.weight" has shape [8, 30]');
    expect(e2.message).toContain('blocks.0.mlp.W_in needs [8, 32]');
  });
  it('fails on a missing tensor and on a tensor it does not understand', () => {
    const missing = gpt2Shapes();
    delete missing['transformer.ln_f.bias'];
    expect(engineError(() => load(gpt2Config, missing)).message).toMatch(/"transformer\.ln_f\.bias" \(for ln_final\.b, expected \[8\]\) is missing/);
    const stray = engineError(() => load(gpt2Config, { ...gpt2Shapes(), 'transformer.h.0.attn.extra.weight': [8] }));
    expect(stray.code).toBe('BAD_CHECKPOINT');
    expect(stray.message).toContain('"transformer.h.0.attn.extra.weight"');
  });
  it('rejects per-layer score scaling', () => {
    expect(engineError(() => load({ ...gpt2Config, scale_attn_by_inverse_layer_idx: true }, gpt2Shapes())).code).toBe('UNSUPPORTED_MODEL');
  });
});

describe('Llama adapter', () => {
  it('maps GQA, SwiGLU and a tied head', () => {
    const { cfg, tensors } = load(llamaConfig, llamaShapes());
    expect(cfg).toMatchObject({ n_heads: 4, n_kv_heads: 2, d_head: 2, norm: 'rmsnorm', norm_bias: false, positional: 'rope', rope_theta: 10000, gated_mlp: true, act: 'silu', tied_head: true });
    expect(tensors.get('unembed.W_U')).toBe(tensors.get('embed.W_E'));
  });
  it('uses lm_head.weight when the head is untied (the HF default)', () => {
    const { tie_word_embeddings: _, ...untied } = llamaConfig;
    expect(() => load(untied, llamaShapes())).toThrow(/"lm_head\.weight" \(for unembed\.W_U, expected \[10, 8\]\) is missing/);
    const { tensors } = load(untied, { ...llamaShapes(), 'lm_head.weight': [10, 8] });
    expect(tensors.get('unembed.W_U')).not.toBe(tensors.get('embed.W_E'));
  });
  it('honours head_dim, attention_bias and mlp_bias', () => {
    const cfgIn = { ...llamaConfig, head_dim: 4, attention_bias: true, mlp_bias: true };
    const h = 'model.layers.0';
    const shapes = {
      ...llamaShapes(), [`${h}.self_attn.q_proj.weight`]: [16, 8], [`${h}.self_attn.k_proj.weight`]: [8, 8], [`${h}.self_attn.v_proj.weight`]: [8, 8], [`${h}.self_attn.o_proj.weight`]: [8, 16],
      [`${h}.self_attn.q_proj.bias`]: [16], [`${h}.self_attn.k_proj.bias`]: [8], [`${h}.self_attn.v_proj.bias`]: [8], [`${h}.self_attn.o_proj.bias`]: [8],
      [`${h}.mlp.gate_proj.bias`]: [12], [`${h}.mlp.up_proj.bias`]: [12], [`${h}.mlp.down_proj.bias`]: [8],
    };
    const { cfg, tensors } = load(cfgIn, shapes);
    expect(cfg.d_head).toBe(4);
    expect(tensors.get('blocks.0.attn.b_O')!.length).toBe(8);
    expect(tensors.get('blocks.0.mlp.b_gate')!.length).toBe(12);
  });
  it('fails clearly on rope_scaling, sliding windows and other activations', () => {
    const e = engineError(() => load({ ...llamaConfig, rope_scaling: { rope_type: 'yarn', factor: 8 } }, llamaShapes()));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toBe('LlamaForCausalLM: "rope_scaling": {"rope_type":"yarn","factor":8} is not supported yet (implemented: linear, llama3).');
    expect(engineError(() => load({ ...llamaConfig, rope_scaling: { type: 'dynamic', factor: 2 } }, llamaShapes())).code).toBe('UNSUPPORTED_MODEL');
    expect(engineError(() => load({ ...llamaConfig, rope_scaling: { rope_type: 'llama3', factor: 8 } }, llamaShapes())).message).toMatch(/"low_freq_factor" is missing/);
    expect(engineError(() => load({ ...llamaConfig, sliding_window: 4096 }, llamaShapes())).message).toMatch(/sliding_window/);
    expect(engineError(() => load({ ...llamaConfig, hidden_act: 'gelu' }, llamaShapes())).message).toMatch(/hidden_act "gelu" is not supported yet; supported: silu/);
    expect(engineError(() => load({ ...llamaConfig, num_key_value_heads: 3 }, llamaShapes())).code).toBe('BAD_CONFIG');
    expect(engineError(() => load({ ...llamaConfig, hidden_size: 'big' }, llamaShapes())).message).toMatch(/"hidden_size" must be a non-negative integer/);
  });
});

describe('loading a real checkpoint folder through loadModel', () => {
  function copyWith(change: (name: string, shape: number[], data: Float32Array) => { shape: number[]; data: Float32Array } | null, config?: Record<string, unknown>): string {
    const src = modelDir('tiny-random-gpt2');
    const ckpt = openCheckpoint(src);
    const tensors = ckpt.names().flatMap((name) => {
      const t = change(name, ckpt.shape(name), ckpt.read(name));
      return t ? [{ name, ...t }] : [];
    });
    ckpt.close();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'te-arch-'));
    fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config ?? JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8'))));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    return dir;
  }
  it('a wrong-shaped tensor fails naming the tensor and both shapes', () => {
    const dir = copyWith((name, shape, data) => (name === 'transformer.wpe.weight' ? { shape: [255, 48], data: data.slice(0, 255 * 48) } : { shape, data }));
    const e = engineError(() => loadModel(dir, { kernels: 'portable' }));
    expect(e.code).toBe('BAD_CHECKPOINT');
    expect(e.message).toBe('Tensor "transformer.wpe.weight" has shape [255, 48] but pos_embed.W_pos needs [256, 48].');
    fs.rmSync(dir, { recursive: true });
  });
  it('a fused tensor of the wrong width names the checkpoint tensor', () => {
    const dir = copyWith((name, shape, data) => (name === 'transformer.h.1.attn.c_attn.weight' ? { shape: [48, 96], data: data.slice(0, 48 * 96) } : { shape, data }));
    const e = engineError(() => loadModel(dir, { kernels: 'portable' }));
    expect(e.message).toMatch(/^blocks\.1\.attn\.W_V: cannot take 96:144 of axis 1 of "transformer\.h\.1\.attn\.c_attn\.weight" with shape \[48, 96\]/);
    fs.rmSync(dir, { recursive: true });
  });
  it('an unknown architecture fails before anything else is read', () => {
    const dir = copyWith((_, shape, data) => ({ shape, data }), { architectures: ['FalconForCausalLM'], model_type: 'falcon' });
    expect(() => loadModel(dir, { kernels: 'portable' })).toThrow(`not supported yet: FalconForCausalLM; supported: ${supportedArchitectures().join(', ')}.`);
    fs.rmSync(dir, { recursive: true });
  });
  it('a good copy loads and reports its parameters', () => {
    const dir = copyWith((_, shape, data) => ({ shape, data }));
    expect(loadModel(dir, { kernels: 'portable' }).info).toMatchObject({ family: 'gpt2', n_layers: 3, n_heads: 3, d_model: 48, d_vocab: 50257, n_ctx: 256, params: 2509536 });
    fs.rmSync(dir, { recursive: true });
  });
});

describe('encoder and encoder-decoder adapters', () => {
  const fixtureConfig = (model: string) => JSON.parse(fs.readFileSync(path.join(modelDir(model), 'config.json'), 'utf8')) as Record<string, unknown>;
  const configOf = (hf: Record<string, unknown>) => adapterFor(architectureOf(hf)).config(hf, architectureOf(hf));
  it('BERT: post-LN encoder with token types, embedding norm and MLM head; other position types fail', () => {
    expect(configOf(fixtureConfig('tiny-random-bert'))).toMatchObject({ kind: 'encoder', norm_placement: 'post', final_norm: false, embed_norm: true, n_token_types: 2, act: 'gelu', mlm_head: true, logit_bias: true, norm_eps: 1e-12 });
    expect(engineError(() => configOf({ ...fixtureConfig('tiny-random-bert'), position_embedding_type: 'relative_key' })).message).toMatch(/position_embedding_type "relative_key" is not supported yet; supported: absolute/);
    expect(engineError(() => configOf({ ...fixtureConfig('tiny-random-bert'), num_attention_heads: null })).code).toBe('BAD_CONFIG');
  });
  it('Marian: sinusoidal, scaled embeddings, post-LN, SiLU; unsupported variants fail', () => {
    expect(configOf(fixtureConfig('tiny-random-marian'))).toMatchObject({ kind: 'encoder-decoder', n_layers: 2, n_decoder_layers: 2, positional: 'sinusoidal', act: 'silu', embed_scale: Math.sqrt(48), norm_placement: 'post', logit_bias: true, decoder_start_token_id: 54687 });
    expect(engineError(() => configOf({ ...fixtureConfig('tiny-random-marian'), decoder_attention_heads: 6 })).code).toBe('UNSUPPORTED_MODEL');
    expect(engineError(() => configOf({ ...fixtureConfig('tiny-random-marian'), normalize_before: true })).message).toMatch(/pre-norm/);
    expect(engineError(() => configOf({ ...fixtureConfig('tiny-random-marian'), activation_function: 'tanh' })).message).toMatch(/activation_function "tanh" is not supported yet/);
  });
  it('T5: relative bias, no score scaling, tied head rescaled; gated-GELU maps wi_0 / wi_1; untied heads use lm_head', () => {
    const base = fixtureConfig('tiny-random-t5');
    expect(configOf(base)).toMatchObject({ positional: 'relative_bias', relative_buckets: 32, relative_max_distance: 128, attn_scale: 1, logit_scale: 1 / Math.sqrt(48), act: 'relu', gated_mlp: false, norm: 'rmsnorm' });
    const gatedHf = { ...base, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false };
    const gated = configOf(gatedHf);
    expect(gated).toMatchObject({ gated_mlp: true, act: 'gelu_new', logit_scale: 1, tied_head: false });
    const mapping = adapterFor('T5ForConditionalGeneration').weights(gated, []);
    expect(mapping['decoder.blocks.1.mlp.W_gate']).toBe('decoder.block.1.layer.2.DenseReluDense.wi_0.weight');
    expect(mapping['decoder.blocks.1.mlp.W_in']).toBe('decoder.block.1.layer.2.DenseReluDense.wi_1.weight');
    expect(mapping['unembed.W_U']).toBe('lm_head.weight');
    expect(engineError(() => configOf({ ...base, feed_forward_proj: 'gated-tanh' })).message).toBe('T5ForConditionalGeneration: feed_forward_proj "gated-tanh": activation "tanh" is not supported yet; supported: relu, gelu_new, gelu, silu.');
  });
});

describe('RoPE scaling (HF rope_scaling)', () => {
  it('maps linear and llama3 and scales the frequencies like transformers', () => {
    expect(load({ ...llamaConfig, rope_scaling: { type: 'linear', factor: 4 } }, llamaShapes()).cfg.rope_scaling).toEqual({ type: 'linear', factor: 4 });
    expect(load({ ...llamaConfig, rope_scaling: { rope_type: 'default' } }, llamaShapes()).cfg.rope_scaling).toBeUndefined();
    const cfg = load({ ...llamaConfig, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 1000 } }, llamaShapes()).cfg;
    // d_head 8, θ 1e4 → inv_freq 1, 0.1, 0.01, 0.001 (wavelengths 6.3, 63, 628, 6283; bands at 250 and 1000)
    const f = ropeInvFreq(8, 10000, cfg.rope_scaling);
    expect(f[0]).toBeCloseTo(1, 12);
    expect(f[1]).toBeCloseTo(0.1, 12);
    const smooth = (1000 / (2 * Math.PI / 0.01) - 1) / 3; // 0.19718…
    expect(f[2]).toBeCloseTo((1 - smooth) * 0.01 / 8 + smooth * 0.01, 12);
    expect(f[2]).toBeCloseTo(0.00297535, 7);
    expect(f[3]).toBeCloseTo(0.001 / 8, 12);
    ropeInvFreq(8, 10000, { type: 'linear', factor: 2 }).forEach((x, i) => expect(x).toBeCloseTo([0.5, 0.05, 0.005, 0.0005][i], 12));
  });
});

describe('target-side SentencePiece (Marian target.spm)', () => {
  it('parses pieces, scores and the normalizer charsmap, and rejects garbage', () => {
    const file = `${modelDir('tiny-random-marian')}/target.spm`;
    const spm = parseSentencePieceModel(fs.readFileSync(file), file);
    expect(spm.scores.size).toBeGreaterThan(1000);
    expect(spm.scores.get('<unk>')).toBe(0);
    expect([...spm.scores.values()].filter((v) => v < 0).length).toBeGreaterThan(1000);
    expect(spm.charsmap!.length).toBeGreaterThan(1000);
    expect(() => parseSentencePieceModel(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), 'x.spm')).toThrowError(expect.objectContaining({ code: 'BAD_TOKENIZER' }));
    expect(() => parseSentencePieceModel(Buffer.alloc(0), 'x.spm')).toThrow(/not a valid SentencePiece model/);
  });
});
