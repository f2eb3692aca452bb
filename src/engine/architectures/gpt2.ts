/**
 * GPT-2 (GPT2LMHeadModel): learned absolute positions, pre-LayerNorm, gelu_new MLP, tied head.
 * HF stores Conv1D weights [in, out] and fuses q|k|v into c_attn [d, 3d]: we split the columns and transpose
 * to the canonical [out, in]. The original openai-community checkpoints name tensors without "transformer.".
 */
import { CONFIG_DEFAULTS, type ModelConfig } from '../config';
import type { FamilyAdapter } from './family';
import { perLayer } from './family';
import { bool, int, num, oneOf, requireAbsent, str, tokenId } from './hfConfig';

export const gpt2: FamilyAdapter = {
  family: 'gpt2',
  config(hf, architecture): ModelConfig {
    const d = int(hf, ['n_embd', 'hidden_size']);
    const H = int(hf, ['n_head', 'num_attention_heads']);
    // gelu_pytorch_tanh is the same tanh approximation under another name.
    const act = str(hf, 'activation_function', 'gelu_new').replace('gelu_pytorch_tanh', 'gelu_new');
    if (bool(hf, 'scale_attn_by_inverse_layer_idx', false)) requireAbsent(hf, 'scale_attn_by_inverse_layer_idx', architecture, 'per-layer score scaling');
    return {
      ...CONFIG_DEFAULTS,
      architecture, family: 'gpt2', kind: 'decoder',
      d_model: d, n_heads: H, n_kv_heads: H, d_head: d / H,
      n_layers: int(hf, ['n_layer', 'num_hidden_layers']), n_ctx: int(hf, ['n_positions', 'n_ctx']),
      d_vocab: int(hf, 'vocab_size'), d_mlp: int(hf, 'n_inner', 4 * d),
      norm: 'layernorm', norm_eps: num(hf, 'layer_norm_epsilon', 1e-5),
      positional: 'learned',
      act: oneOf(act, ['gelu_new', 'gelu', 'relu', 'silu'] as const, 'activation_function', architecture),
      attn_scale: bool(hf, 'scale_attn_weights', true) ? 1 / Math.sqrt(d / H) : 1,
      attn_qkv_bias: true, attn_out_bias: true, mlp_bias: true,
      bos_token_id: tokenId(hf, 'bos_token_id'), eos_token_id: tokenId(hf, 'eos_token_id'),
    };
  },
  weights(cfg, names) {
    const p = names.includes('transformer.wte.weight') ? 'transformer.' : '';
    const d = cfg.d_model;
    const qkv = (i: number) => ({ axis: 1 as const, start: i * d, end: (i + 1) * d });
    const qkvBias = (i: number) => ({ axis: 0 as const, start: i * d, end: (i + 1) * d });
    return {
      'embed.W_E': `${p}wte.weight`,
      'pos_embed.W_pos': `${p}wpe.weight`,
      ...perLayer(cfg.n_layers, (l) => {
        const h = `${p}h.${l}`;
        const b = `blocks.${l}`;
        return {
          [`${b}.ln1.w`]: `${h}.ln_1.weight`, [`${b}.ln1.b`]: `${h}.ln_1.bias`,
          [`${b}.attn.W_Q`]: { from: `${h}.attn.c_attn.weight`, slice: qkv(0), transpose: true },
          [`${b}.attn.W_K`]: { from: `${h}.attn.c_attn.weight`, slice: qkv(1), transpose: true },
          [`${b}.attn.W_V`]: { from: `${h}.attn.c_attn.weight`, slice: qkv(2), transpose: true },
          [`${b}.attn.b_Q`]: { from: `${h}.attn.c_attn.bias`, slice: qkvBias(0) },
          [`${b}.attn.b_K`]: { from: `${h}.attn.c_attn.bias`, slice: qkvBias(1) },
          [`${b}.attn.b_V`]: { from: `${h}.attn.c_attn.bias`, slice: qkvBias(2) },
          [`${b}.attn.W_O`]: { from: `${h}.attn.c_proj.weight`, transpose: true }, [`${b}.attn.b_O`]: `${h}.attn.c_proj.bias`,
          [`${b}.ln2.w`]: `${h}.ln_2.weight`, [`${b}.ln2.b`]: `${h}.ln_2.bias`,
          [`${b}.mlp.W_in`]: { from: `${h}.mlp.c_fc.weight`, transpose: true }, [`${b}.mlp.b_in`]: `${h}.mlp.c_fc.bias`,
          [`${b}.mlp.W_out`]: { from: `${h}.mlp.c_proj.weight`, transpose: true }, [`${b}.mlp.b_out`]: `${h}.mlp.c_proj.bias`,
        };
      }),
      'ln_final.w': `${p}ln_f.weight`, 'ln_final.b': `${p}ln_f.bias`,
      'unembed.W_U': `${p}wte.weight`, // tied head
    };
  },
  // attn.bias / attn.masked_bias are the causal-mask buffers older checkpoints saved; lm_head is the tied copy.
  ignore: () => [/(^|\.)attn\.(masked_)?bias$/, /^lm_head\.weight$/],
};
