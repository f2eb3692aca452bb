/**
 * Llama (LlamaForCausalLM) and Llama-shaped checkpoints (SmolLM, TinyLlama, …): RMSNorm, rotate_half RoPE,
 * grouped-query attention, SwiGLU MLP (W_gate = gate_proj, W_in = up_proj), tied or untied head.
 * Variants that change the computation in ways not implemented here fail at load with UNSUPPORTED_MODEL.
 */
import { CONFIG_DEFAULTS, type ModelConfig, type RopeScaling } from '../config';
import { EngineError } from '../errors';
import type { FamilyAdapter, HfConfig } from './family';
import { perLayer } from './family';
import { bool, int, num, oneOf, requireAbsent, str, tokenId } from './hfConfig';

/** HF rope_scaling → RopeScaling: "linear" and "llama3" are implemented; other schemes fail clearly. */
function ropeScaling(hf: HfConfig, architecture: string): RopeScaling | undefined {
  const rs = hf.rope_scaling;
  if (rs === undefined || rs === null) return undefined;
  if (typeof rs !== 'object' || Array.isArray(rs)) throw new EngineError('BAD_CONFIG', `${architecture}: "rope_scaling" must be an object or null.`);
  const r = rs as HfConfig;
  const type = str(r, 'rope_type', str(r, 'type', 'default'));
  if (type === 'default') return undefined;
  if (type === 'linear') return { type: 'linear', factor: num(r, 'factor') };
  if (type === 'llama3') {
    return { type: 'banded', factor: num(r, 'factor'), low_freq_factor: num(r, 'low_freq_factor'), high_freq_factor: num(r, 'high_freq_factor'), original_max_position_embeddings: int(r, 'original_max_position_embeddings') };
  }
  throw new EngineError('UNSUPPORTED_MODEL', `${architecture}: "rope_scaling": ${JSON.stringify(rs)} is not supported yet (implemented: linear, llama3).`);
}

export const llama: FamilyAdapter = {
  family: 'llama',
  config(hf, architecture): ModelConfig {
    const d = int(hf, 'hidden_size');
    const H = int(hf, 'num_attention_heads');
    const Hkv = int(hf, 'num_key_value_heads', H);
    const dh = int(hf, 'head_dim', d / H);
    if (!Number.isInteger(dh) || H % Hkv !== 0 || dh % 2 !== 0) {
      throw new EngineError('BAD_CONFIG', `${architecture}: inconsistent heads (hidden ${d}, heads ${H}, kv heads ${Hkv}, head_dim ${dh}).`);
    }
    requireAbsent(hf, 'sliding_window', architecture, 'sliding-window attention');
    if (num(hf, 'partial_rotary_factor', 1) !== 1) requireAbsent(hf, 'partial_rotary_factor', architecture, 'partial rotary embeddings');
    return {
      ...CONFIG_DEFAULTS,
      architecture, family: 'llama', kind: 'decoder',
      d_model: d, n_heads: H, n_kv_heads: Hkv, d_head: dh,
      n_layers: int(hf, 'num_hidden_layers'), n_ctx: int(hf, 'max_position_embeddings', 2048),
      d_vocab: int(hf, 'vocab_size'), d_mlp: int(hf, 'intermediate_size'),
      norm: 'rmsnorm', norm_eps: num(hf, 'rms_norm_eps', 1e-6), norm_bias: false,
      positional: 'rope', rope_theta: num(hf, 'rope_theta', 10000), rope_scaling: ropeScaling(hf, architecture),
      act: oneOf(str(hf, 'hidden_act', 'silu'), ['silu'] as const, 'hidden_act', architecture), gated_mlp: true,
      attn_scale: 1 / Math.sqrt(dh),
      attn_qkv_bias: bool(hf, 'attention_bias', false), attn_out_bias: bool(hf, 'attention_bias', false),
      mlp_bias: bool(hf, 'mlp_bias', false),
      // HF's LlamaConfig defaults to an untied head.
      tied_head: bool(hf, 'tie_word_embeddings', false),
      bos_token_id: tokenId(hf, 'bos_token_id'), eos_token_id: tokenId(hf, 'eos_token_id'), pad_token_id: tokenId(hf, 'pad_token_id'),
    };
  },
  weights(cfg) {
    const bias = (on: boolean, name: string, from: string) => (on ? { [name]: from } : {});
    return {
      'embed.W_E': 'model.embed_tokens.weight',
      ...perLayer(cfg.n_layers, (l) => {
        const h = `model.layers.${l}`;
        const b = `blocks.${l}`;
        return {
          [`${b}.ln1.w`]: `${h}.input_layernorm.weight`,
          [`${b}.attn.W_Q`]: `${h}.self_attn.q_proj.weight`, [`${b}.attn.W_K`]: `${h}.self_attn.k_proj.weight`,
          [`${b}.attn.W_V`]: `${h}.self_attn.v_proj.weight`, [`${b}.attn.W_O`]: `${h}.self_attn.o_proj.weight`,
          ...bias(cfg.attn_qkv_bias, `${b}.attn.b_Q`, `${h}.self_attn.q_proj.bias`),
          ...bias(cfg.attn_qkv_bias, `${b}.attn.b_K`, `${h}.self_attn.k_proj.bias`),
          ...bias(cfg.attn_qkv_bias, `${b}.attn.b_V`, `${h}.self_attn.v_proj.bias`),
          ...bias(cfg.attn_out_bias, `${b}.attn.b_O`, `${h}.self_attn.o_proj.bias`),
          [`${b}.ln2.w`]: `${h}.post_attention_layernorm.weight`,
          [`${b}.mlp.W_gate`]: `${h}.mlp.gate_proj.weight`, [`${b}.mlp.W_in`]: `${h}.mlp.up_proj.weight`,
          [`${b}.mlp.W_out`]: `${h}.mlp.down_proj.weight`,
          ...bias(cfg.mlp_bias, `${b}.mlp.b_gate`, `${h}.mlp.gate_proj.bias`),
          ...bias(cfg.mlp_bias, `${b}.mlp.b_in`, `${h}.mlp.up_proj.bias`),
          ...bias(cfg.mlp_bias, `${b}.mlp.b_out`, `${h}.mlp.down_proj.bias`),
        };
      }),
      'ln_final.w': 'model.norm.weight',
      'unembed.W_U': cfg.tied_head ? 'model.embed_tokens.weight' : 'lm_head.weight',
    };
  },
  // rotary_emb.inv_freq is a buffer some exports saved; a tied checkpoint may still carry a copy of lm_head.
  ignore: (cfg) => [/\.rotary_emb\.inv_freq$/, ...(cfg.tied_head ? [/^lm_head\.weight$/] : [])],
};
