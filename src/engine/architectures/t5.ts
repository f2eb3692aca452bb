/**
 * T5 (T5ForConditionalGeneration): encoder-decoder with RMS pre-norm, no score scaling, a bucketed relative
 * position bias stored in block 0 of each stack and reused by every block (bidirectional in the encoder,
 * causal in the decoder), ReLU or gated-GELU FFN, and tied embeddings rescaled by d_model^-0.5 before the head.
 */
import { CONFIG_DEFAULTS, type ModelConfig } from '../config';
import type { FamilyAdapter } from './family';
import { perLayer } from './family';
import { bool, int, num, oneOf, str, tokenId } from './hfConfig';

export const t5: FamilyAdapter = {
  family: 't5',
  config(hf, architecture): ModelConfig {
    const proj = str(hf, 'feed_forward_proj', 'relu');
    const gated = proj.startsWith('gated-');
    // HF: the activation is the part after "gated-", and "gated-gelu" means the tanh approximation.
    const act = proj === 'gated-gelu' ? 'gelu_new' : proj.replace(/^gated-/, '');
    const d = int(hf, 'd_model');
    const tied = bool(hf, 'tie_word_embeddings', true);
    return {
      ...CONFIG_DEFAULTS,
      architecture, family: 't5', kind: 'encoder-decoder',
      d_model: d, n_heads: int(hf, 'num_heads'), n_kv_heads: int(hf, 'num_heads'), d_head: int(hf, 'd_kv'),
      n_layers: int(hf, 'num_layers'), n_decoder_layers: int(hf, 'num_decoder_layers', int(hf, 'num_layers')),
      n_ctx: int(hf, 'n_positions', 512), d_vocab: int(hf, 'vocab_size'), d_mlp: int(hf, 'd_ff'),
      norm: 'rmsnorm', norm_eps: num(hf, 'layer_norm_epsilon', 1e-6), norm_bias: false,
      positional: 'relative_bias',
      relative_buckets: int(hf, 'relative_attention_num_buckets', 32), relative_max_distance: int(hf, 'relative_attention_max_distance', 128),
      act: oneOf(act, ['relu', 'gelu_new', 'gelu', 'silu'] as const, `feed_forward_proj "${proj}": activation`, architecture), gated_mlp: gated,
      attn_scale: 1, logit_scale: tied ? 1 / Math.sqrt(d) : 1, tied_head: tied,
      eos_token_id: tokenId(hf, 'eos_token_id'), pad_token_id: tokenId(hf, 'pad_token_id'), decoder_start_token_id: tokenId(hf, 'decoder_start_token_id'),
    };
  },
  weights(cfg) {
    const attn = (b: string, h: string) => ({ [`${b}.W_Q`]: `${h}.q.weight`, [`${b}.W_K`]: `${h}.k.weight`, [`${b}.W_V`]: `${h}.v.weight`, [`${b}.W_O`]: `${h}.o.weight` });
    const layers = (stack: 'encoder' | 'decoder', n: number) => perLayer(n, (l) => {
      const h = `${stack}.block.${l}.layer`;
      const b = `${stack}.blocks.${l}`;
      const ff = stack === 'decoder' ? 2 : 1; // the decoder's FFN sublayer comes after cross-attention
      return {
        ...attn(`${b}.attn`, `${h}.0.SelfAttention`), [`${b}.ln1.w`]: `${h}.0.layer_norm.weight`,
        ...(stack === 'decoder' ? { ...attn(`${b}.cross_attn`, `${h}.1.EncDecAttention`), [`${b}.ln_cross.w`]: `${h}.1.layer_norm.weight` } : {}),
        ...(cfg.gated_mlp
          ? { [`${b}.mlp.W_gate`]: `${h}.${ff}.DenseReluDense.wi_0.weight`, [`${b}.mlp.W_in`]: `${h}.${ff}.DenseReluDense.wi_1.weight` }
          : { [`${b}.mlp.W_in`]: `${h}.${ff}.DenseReluDense.wi.weight` }),
        [`${b}.mlp.W_out`]: `${h}.${ff}.DenseReluDense.wo.weight`, [`${b}.ln2.w`]: `${h}.${ff}.layer_norm.weight`,
      };
    });
    return {
      'embed.W_E': 'shared.weight',
      ...layers('encoder', cfg.n_layers),
      'encoder.ln_final.w': 'encoder.final_layer_norm.weight',
      'encoder.rel_bias': 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
      ...layers('decoder', cfg.n_decoder_layers),
      'decoder.ln_final.w': 'decoder.final_layer_norm.weight',
      'decoder.rel_bias': 'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
      'unembed.W_U': cfg.tied_head ? 'shared.weight' : 'lm_head.weight',
    };
  },
  ignore: (cfg) => [/^(encoder|decoder)\.embed_tokens\.weight$/, ...(cfg.tied_head ? [/^lm_head\.weight$/] : [])],
};
