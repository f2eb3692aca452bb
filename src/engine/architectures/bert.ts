/**
 * BERT (BertForMaskedLM): learned absolute positions + token types, embedding LayerNorm, post-LayerNorm
 * blocks, erf GELU, and the MLM head LayerNorm(gelu(dense(x))) @ W_E^T + bias (decoder tied to the embeddings).
 */
import { CONFIG_DEFAULTS, type ModelConfig } from '../config';
import type { FamilyAdapter } from './family';
import { perLayer } from './family';
import { int, num, oneOf, str, tokenId } from './hfConfig';

export const bert: FamilyAdapter = {
  family: 'bert',
  config(hf, architecture): ModelConfig {
    const d = int(hf, 'hidden_size');
    const H = int(hf, 'num_attention_heads');
    oneOf(str(hf, 'position_embedding_type', 'absolute'), ['absolute'] as const, 'position_embedding_type', architecture);
    return {
      ...CONFIG_DEFAULTS,
      architecture, family: 'bert', kind: 'encoder',
      d_model: d, n_heads: H, n_kv_heads: H, d_head: d / H,
      n_layers: int(hf, 'num_hidden_layers'), n_ctx: int(hf, 'max_position_embeddings'),
      d_vocab: int(hf, 'vocab_size'), d_mlp: int(hf, 'intermediate_size'),
      norm: 'layernorm', norm_eps: num(hf, 'layer_norm_eps', 1e-12), norm_placement: 'post',
      final_norm: false, embed_norm: true, n_token_types: int(hf, 'type_vocab_size', 2),
      positional: 'learned',
      act: oneOf(str(hf, 'hidden_act', 'gelu'), ['gelu', 'gelu_new', 'relu', 'silu'] as const, 'hidden_act', architecture),
      attn_scale: 1 / Math.sqrt(d / H),
      attn_qkv_bias: true, attn_out_bias: true, mlp_bias: true, logit_bias: true, mlm_head: true,
      pad_token_id: tokenId(hf, 'pad_token_id'),
    };
  },
  weights(cfg) {
    const e = 'bert.embeddings';
    return {
      'embed.W_E': `${e}.word_embeddings.weight`,
      'pos_embed.W_pos': `${e}.position_embeddings.weight`,
      'embed.W_token_type': `${e}.token_type_embeddings.weight`,
      'embed.ln.w': `${e}.LayerNorm.weight`, 'embed.ln.b': `${e}.LayerNorm.bias`,
      ...perLayer(cfg.n_layers, (l) => {
        const h = `bert.encoder.layer.${l}`;
        const b = `blocks.${l}`;
        return {
          [`${b}.attn.W_Q`]: `${h}.attention.self.query.weight`, [`${b}.attn.b_Q`]: `${h}.attention.self.query.bias`,
          [`${b}.attn.W_K`]: `${h}.attention.self.key.weight`, [`${b}.attn.b_K`]: `${h}.attention.self.key.bias`,
          [`${b}.attn.W_V`]: `${h}.attention.self.value.weight`, [`${b}.attn.b_V`]: `${h}.attention.self.value.bias`,
          [`${b}.attn.W_O`]: `${h}.attention.output.dense.weight`, [`${b}.attn.b_O`]: `${h}.attention.output.dense.bias`,
          [`${b}.ln1.w`]: `${h}.attention.output.LayerNorm.weight`, [`${b}.ln1.b`]: `${h}.attention.output.LayerNorm.bias`,
          [`${b}.mlp.W_in`]: `${h}.intermediate.dense.weight`, [`${b}.mlp.b_in`]: `${h}.intermediate.dense.bias`,
          [`${b}.mlp.W_out`]: `${h}.output.dense.weight`, [`${b}.mlp.b_out`]: `${h}.output.dense.bias`,
          [`${b}.ln2.w`]: `${h}.output.LayerNorm.weight`, [`${b}.ln2.b`]: `${h}.output.LayerNorm.bias`,
        };
      }),
      'mlm_head.W': 'cls.predictions.transform.dense.weight', 'mlm_head.b': 'cls.predictions.transform.dense.bias',
      'mlm_head.ln.w': 'cls.predictions.transform.LayerNorm.weight', 'mlm_head.ln.b': 'cls.predictions.transform.LayerNorm.bias',
      'unembed.W_U': `${e}.word_embeddings.weight`, // tied decoder
      'unembed.b_U': 'cls.predictions.bias',
    };
  },
  // position_ids is a buffer; the decoder weight/bias are tied copies; pooler and NSP head are unused by the MLM.
  ignore: () => [/^bert\.embeddings\.position_ids$/, /^cls\.predictions\.decoder\.(weight|bias)$/, /^bert\.pooler\./, /^cls\.seq_relationship\./],
};
