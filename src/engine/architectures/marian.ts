/**
 * Marian (MarianMTModel): encoder-decoder with Marian's sin-half/cos-half sinusoidal positions (stored in the
 * checkpoint), embeddings × sqrt(d_model), post-LayerNorm blocks, SiLU ("swish") FFN, shared tied embeddings
 * and final_logits_bias. Queries are scaled by head_dim^-0.5 (= attn_scale on q·k).
 */
import { CONFIG_DEFAULTS, type ModelConfig } from '../config';
import { EngineError } from '../errors';
import type { FamilyAdapter } from './family';
import { perLayer } from './family';
import { bool, int, oneOf, str, tokenId } from './hfConfig';

const ACT: Record<string, 'silu' | 'gelu' | 'gelu_new' | 'relu'> = { swish: 'silu', silu: 'silu', gelu: 'gelu', gelu_new: 'gelu_new', relu: 'relu' };

export const marian: FamilyAdapter = {
  family: 'marian',
  config(hf, architecture): ModelConfig {
    const d = int(hf, 'd_model');
    const H = int(hf, 'encoder_attention_heads');
    const f = int(hf, 'encoder_ffn_dim');
    if (int(hf, 'decoder_attention_heads', H) !== H || int(hf, 'decoder_ffn_dim', f) !== f) {
      throw new EngineError('UNSUPPORTED_MODEL', `${architecture}: different encoder and decoder widths are not supported yet.`);
    }
    if (bool(hf, 'normalize_before', false) || bool(hf, 'normalize_embedding', false)) {
      throw new EngineError('UNSUPPORTED_MODEL', `${architecture}: pre-norm or embedding-norm Marian variants are not supported yet.`);
    }
    if (!bool(hf, 'share_encoder_decoder_embeddings', true)) throw new EngineError('UNSUPPORTED_MODEL', `${architecture}: separate decoder embeddings are not supported yet.`);
    return {
      ...CONFIG_DEFAULTS,
      architecture, family: 'marian', kind: 'encoder-decoder',
      d_model: d, n_heads: H, n_kv_heads: H, d_head: d / H,
      n_layers: int(hf, 'encoder_layers'), n_decoder_layers: int(hf, 'decoder_layers'),
      n_ctx: int(hf, 'max_position_embeddings'), d_vocab: int(hf, 'vocab_size'), d_mlp: f,
      norm: 'layernorm', norm_eps: 1e-5, norm_placement: 'post', final_norm: false,
      positional: 'sinusoidal',
      act: ACT[oneOf(str(hf, 'activation_function', 'swish'), Object.keys(ACT), 'activation_function', architecture)],
      attn_scale: 1 / Math.sqrt(d / H), embed_scale: bool(hf, 'scale_embedding', false) ? Math.sqrt(d) : 1,
      attn_qkv_bias: true, attn_out_bias: true, mlp_bias: true, logit_bias: true,
      eos_token_id: tokenId(hf, 'eos_token_id'), pad_token_id: tokenId(hf, 'pad_token_id'), decoder_start_token_id: tokenId(hf, 'decoder_start_token_id'),
    };
  },
  weights(cfg) {
    const attn = (b: string, h: string) => Object.fromEntries((['Q', 'K', 'V', 'O'] as const).flatMap((x) => {
      const proj = `${h}.${{ Q: 'q', K: 'k', V: 'v', O: 'out' }[x]}_proj`;
      return [[`${b}.W_${x}`, `${proj}.weight`], [`${b}.b_${x}`, `${proj}.bias`]];
    }));
    const layers = (stack: 'encoder' | 'decoder', n: number) => perLayer(n, (l) => {
      const h = `model.${stack}.layers.${l}`;
      const b = `${stack}.blocks.${l}`;
      return {
        ...attn(`${b}.attn`, `${h}.self_attn`),
        [`${b}.ln1.w`]: `${h}.self_attn_layer_norm.weight`, [`${b}.ln1.b`]: `${h}.self_attn_layer_norm.bias`,
        ...(stack === 'decoder' ? {
          ...attn(`${b}.cross_attn`, `${h}.encoder_attn`),
          [`${b}.ln_cross.w`]: `${h}.encoder_attn_layer_norm.weight`, [`${b}.ln_cross.b`]: `${h}.encoder_attn_layer_norm.bias`,
        } : {}),
        [`${b}.mlp.W_in`]: `${h}.fc1.weight`, [`${b}.mlp.b_in`]: `${h}.fc1.bias`,
        [`${b}.mlp.W_out`]: `${h}.fc2.weight`, [`${b}.mlp.b_out`]: `${h}.fc2.bias`,
        [`${b}.ln2.w`]: `${h}.final_layer_norm.weight`, [`${b}.ln2.b`]: `${h}.final_layer_norm.bias`,
      };
    });
    return {
      'embed.W_E': 'model.shared.weight',
      'pos_embed.W_pos': 'model.encoder.embed_positions.weight',
      ...layers('encoder', cfg.n_layers),
      ...layers('decoder', cfg.n_decoder_layers),
      'unembed.W_U': 'model.shared.weight',
      'unembed.b_U': { from: 'final_logits_bias', reshape: [cfg.d_vocab] },
    };
  },
  // The decoder's sinusoid table is identical to the encoder's (both fixed); embed_tokens / lm_head are tied copies.
  targetSpm: 'target.spm', // opus-mt segments the target language with its own SentencePiece model
  ignore: () => [/^model\.decoder\.embed_positions\.weight$/, /^model\.(encoder|decoder)\.embed_tokens\.weight$/, /^lm_head\.weight$/],
};
