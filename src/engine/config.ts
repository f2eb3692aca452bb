/**
 * The canonical description of a transformer, independent of where its checkpoint came from.
 *
 * Family adapters (src/engine/architectures/*.ts) translate a Hugging Face config.json into this shape; the
 * forward pass reads only these fields. A family quirk becomes one of these flags, never a name check in shared
 * code. Field names follow TransformerLens (d_model, n_heads, d_head, d_mlp, n_ctx, d_vocab …).
 */

export type NormKind = 'layernorm' | 'rmsnorm';
/** Where each sublayer's norm sits: before the sublayer (pre-LN) or after the residual add (post-LN, as in the original Transformer). */
export type NormPlacement = 'pre' | 'post';
/**
 * How position enters the model:
 * - `learned`: a trained table added to the embeddings;
 * - `sinusoidal`: a fixed sin/cos table added to the embeddings (read from the checkpoint, which stores it);
 * - `rope`: q and k rotated inside attention (rotate_half layout);
 * - `relative_bias`: a learned per-head bias over bucketed relative distances added to the scores.
 * Which family sets which flag is visible in one place: src/engine/architectures/*.ts.
 */
export type PositionalKind = 'learned' | 'sinusoidal' | 'rope' | 'relative_bias';
/** `gelu_new` is the tanh approximation; `gelu` is exact erf GELU; `silu` = swish. */
export type Activation = 'gelu_new' | 'gelu' | 'silu' | 'relu';
/**
 * RoPE frequency scaling of long-context checkpoints (HF `rope_scaling`): `linear` divides every frequency by
 * `factor`; `banded` (HF rope_type "llama3") divides low frequencies (wavelength > original_ctx / low_freq_factor)
 * by `factor`, keeps high ones (wavelength < original_ctx / high_freq_factor) and interpolates in between.
 */
export type RopeScaling =
  | { readonly type: 'linear'; readonly factor: number }
  | { readonly type: 'banded'; readonly factor: number; readonly low_freq_factor: number; readonly high_freq_factor: number; readonly original_max_position_embeddings: number };
/** decoder: causal LM; encoder: bidirectional (masked LM); encoder-decoder: seq2seq with cross-attention. */
export type ModelKind = 'decoder' | 'encoder' | 'encoder-decoder';

export interface ModelConfig {
  /** HF `architectures[0]`. Informational: shared code never branches on it. */
  readonly architecture: string;
  /** Name of the family adapter that produced this config. Informational only. */
  readonly family: string;
  readonly kind: ModelKind;

  /** Width of the residual stream. */
  readonly d_model: number;
  /** Query heads per attention layer. */
  readonly n_heads: number;
  /** Key/value heads (< n_heads for grouped-query attention; each serves n_heads / n_kv_heads query heads). */
  readonly n_kv_heads: number;
  /** Width of one head. Usually d_model / n_heads, but configs may set it explicitly (`head_dim`, `d_kv`). */
  readonly d_head: number;
  /** Blocks in the (only / encoder) stack. */
  readonly n_layers: number;
  /** Blocks in the decoder stack of an encoder-decoder; 0 otherwise. */
  readonly n_decoder_layers: number;
  /** Longest sequence the positional scheme supports (learned table size, max_position_embeddings). */
  readonly n_ctx: number;
  readonly d_vocab: number;
  /** Hidden width of the MLP. */
  readonly d_mlp: number;

  readonly norm: NormKind;
  readonly norm_eps: number;
  readonly norm_placement: NormPlacement;
  /** A norm after the last block of each stack (typical of pre-LN models; post-LN models have none). */
  readonly final_norm: boolean;
  /** A LayerNorm applied to the summed embeddings before block 0. */
  readonly embed_norm: boolean;

  readonly positional: PositionalKind;
  /** RoPE base θ (inv_freq_i = θ^(-2i/d_head)); 0 when positional ≠ rope. */
  readonly rope_theta: number;
  /** Optional RoPE frequency scaling (long-context checkpoints); undefined = plain θ^(-2i/d_head). */
  readonly rope_scaling?: RopeScaling;
  /** Relative-position buckets and the distance beyond which buckets saturate (relative_bias only; else 0). */
  readonly relative_buckets: number;
  readonly relative_max_distance: number;
  /** Token-type (segment) embeddings added to the input; 0 when absent. Inputs use type 0. */
  readonly n_token_types: number;

  readonly act: Activation;
  /** MLP is act(W_gate·x) ⊙ (W_in·x) (SwiGLU, gated-GELU) rather than act(W_in·x). */
  readonly gated_mlp: boolean;

  /** Multiplier on q·k: 1/sqrt(d_head) for most models, 1 when the weights' init absorbs the scale. */
  readonly attn_scale: number;
  /** Multiplier on token embeddings: sqrt(d_model) when the config says scale_embedding, 1 otherwise. */
  readonly embed_scale: number;
  /** Multiplier on the final hidden state before the unembedding (d_model^-0.5 for some tied heads), usually 1. */
  readonly logit_scale: number;

  /** Bias vectors present (they are then required in the checkpoint). */
  readonly attn_qkv_bias: boolean;
  readonly attn_out_bias: boolean;
  readonly mlp_bias: boolean;
  /** LayerNorm with a bias term (RMSNorm never has one). */
  readonly norm_bias: boolean;
  /** A bias added to the logits (an MLM head bias, final_logits_bias). */
  readonly logit_bias: boolean;
  /** The unembedding is the token embedding matrix (informational: the adapter maps both to the same tensor). */
  readonly tied_head: boolean;
  /** A masked-LM transform before the unembedding: LayerNorm(act(dense(x))). */
  readonly mlm_head: boolean;

  /** Special ids from config.json / generation_config.json (undefined when the model has none). */
  readonly bos_token_id?: number;
  readonly eos_token_id?: number;
  readonly pad_token_id?: number;
  readonly decoder_start_token_id?: number;
}

/** Defaults for the fields most families share; adapters spread this and override. */
export const CONFIG_DEFAULTS = {
  n_decoder_layers: 0,
  norm_placement: 'pre',
  final_norm: true,
  embed_norm: false,
  rope_theta: 0,
  relative_buckets: 0,
  relative_max_distance: 0,
  n_token_types: 0,
  gated_mlp: false,
  embed_scale: 1,
  logit_scale: 1,
  attn_qkv_bias: false,
  attn_out_bias: false,
  mlp_bias: false,
  norm_bias: true,
  logit_bias: false,
  tied_head: true,
  mlm_head: false,
} as const satisfies Partial<ModelConfig>;
