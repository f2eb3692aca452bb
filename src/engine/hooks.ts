/**
 * Hook points of the forward pass, declared once (TransformerLens naming grammar). Renaming a hook is a
 * breaking change for the trace, the worker protocol and the views. `docs/hooks.md` is generated from this
 * table (`renderHooksMarkdown`) and a unit test keeps the two identical.
 *
 * Name templates: `{l}` is the block index; `{attn}` is `attn` (self-attention) or `cross_attn` (decoder →
 * encoder). Encoder-decoder models prefix every name with `encoder.` or `decoder.`.
 */
import type { PackedPattern } from './kernels/types';

export interface HookSpec {
  /** Name template. */
  readonly name: string;
  /** Shape of the recorded Float32Array (row-major). pos = query positions, key_pos = key positions. */
  readonly shape: string;
  readonly meaning: string;
}

export const HOOKS = {
  embed: { name: 'hook_embed', shape: '[pos, d_model]', meaning: 'Token embeddings W_E[ids] (already multiplied by embed_scale).' },
  pos_embed: { name: 'hook_pos_embed', shape: '[pos, d_model]', meaning: 'Positional embeddings added to the token embeddings (learned or sinusoidal tables only; RoPE and relative-bias models have none).' },
  token_type_embed: { name: 'hook_token_type_embed', shape: '[pos, d_model]', meaning: 'Token-type (segment) embeddings, type 0 (models with token types only).' },
  resid_pre: { name: 'blocks.{l}.hook_resid_pre', shape: '[pos, d_model]', meaning: 'Residual stream entering block l (= HF hidden_states[l]; block 0: embeddings incl. positions and embedding norm).' },
  q: { name: 'blocks.{l}.{attn}.hook_q', shape: '[pos, n_heads, d_head]', meaning: 'Queries (before RoPE).' },
  k: { name: 'blocks.{l}.{attn}.hook_k', shape: '[key_pos, n_kv_heads, d_head]', meaning: 'Keys of the positions computed in this call (before RoPE; the encoder output for cross-attention).' },
  v: { name: 'blocks.{l}.{attn}.hook_v', shape: '[key_pos, n_kv_heads, d_head]', meaning: 'Values of the positions computed in this call.' },
  rot_q: { name: 'blocks.{l}.{attn}.hook_rot_q', shape: '[pos, n_heads, d_head]', meaning: 'Queries after the RoPE rotation (RoPE models only).' },
  rot_k: { name: 'blocks.{l}.{attn}.hook_rot_k', shape: '[key_pos, n_kv_heads, d_head]', meaning: 'Keys after the RoPE rotation (RoPE models only).' },
  attn_scores: { name: 'blocks.{l}.{attn}.hook_attn_scores', shape: '[n_heads, pos, key_pos]', meaning: 'q·k × attn_scale + position bias, masked entries -Infinity (the softmax input).' },
  pattern: { name: 'blocks.{l}.{attn}.hook_pattern', shape: '[n_heads, pos, key_pos]', meaning: 'Attention probabilities: softmax of the masked scores (causal rows are 0 above the diagonal).' },
  z: { name: 'blocks.{l}.{attn}.hook_z', shape: '[pos, n_heads, d_head]', meaning: 'Per-head weighted sums of the values (pattern · V), before the output projection.' },
  attn_out: { name: 'blocks.{l}.hook_attn_out', shape: '[pos, d_model]', meaning: 'Self-attention output (after W_O and its bias) added to the residual.' },
  cross_attn_out: { name: 'blocks.{l}.hook_cross_attn_out', shape: '[pos, d_model]', meaning: 'Cross-attention output added to the residual (decoders of encoder-decoders).' },
  resid_mid: { name: 'blocks.{l}.hook_resid_mid', shape: '[pos, d_model]', meaning: 'Residual after the attention sublayer (post-norm models: after its LayerNorm).' },
  mlp_pre: { name: 'blocks.{l}.mlp.hook_pre', shape: '[pos, d_mlp]', meaning: 'MLP pre-activation: W_in·x + b_in (gated MLPs: the up projection).' },
  mlp_pre_gate: { name: 'blocks.{l}.mlp.hook_pre_gate', shape: '[pos, d_mlp]', meaning: 'Gated MLPs only: W_gate·x, the input of the activation.' },
  mlp_post: { name: 'blocks.{l}.mlp.hook_post', shape: '[pos, d_mlp]', meaning: 'MLP hidden activation after the non-linearity (and gating), the input of W_out.' },
  mlp_out: { name: 'blocks.{l}.hook_mlp_out', shape: '[pos, d_model]', meaning: 'MLP output added to the residual.' },
  resid_post: { name: 'blocks.{l}.hook_resid_post', shape: '[pos, d_model]', meaning: 'Residual stream leaving block l (post-norm models: after the last LayerNorm).' },
  ln_final: { name: 'ln_final.hook_normalized', shape: '[pos, d_model]', meaning: 'Residual after the final norm (only models that have one); the unembedding input.' },
} as const satisfies Record<string, HookSpec>;

export type HookKind = keyof typeof HOOKS;
export type AttnKind = 'attn' | 'cross_attn';

/** Concrete hook name: template of `kind` with the block index, attention kind and stack prefix filled in. */
export function hookName(kind: HookKind, layer = 0, attn: AttnKind = 'attn', prefix = ''): string {
  return prefix + HOOKS[kind].name.replace('{l}', String(layer)).replace('{attn}', attn);
}

/**
 * Receives activations at hook points. `data` is only valid during the call (the forward pass may reuse or
 * mutate it afterwards): copy what you keep. `wants` is asked first, so unrequested hooks cost nothing.
 */
export interface Recorder {
  wants(name: string): boolean;
  /**
   * `owned`: the forward pass will neither reuse nor modify `data` (a fresh array it hands on), so a recorder
   * may keep it without copying (a trace's stored residuals: 4.7 MB per 128-token GPT-2 trace not copied).
   */
  record(name: string, data: Float32Array, shape: readonly number[], owned?: boolean): void;
  /**
   * Optional, for attention patterns: the buffer this recorder keeps the pattern in, in its own packed layout.
   * When it returns one, the forward pass writes the pattern straight there (kernels that can pack never
   * materialise the full array), and calls record() for that hook only when `fullWanted` (another consumer
   * behind this recorder wants the full array; the packed copy is not stored twice).
   */
  packedPattern?(name: string): { readonly packed: PackedPattern; readonly fullWanted: boolean } | undefined;
}

/** A recorder that keeps copies of every hook whose name passes `filter`, keyed by name (a small ActivationCache). */
export class HookCache implements Recorder {
  readonly values = new Map<string, { data: Float32Array; shape: number[] }>();
  constructor(private readonly filter: (name: string) => boolean = () => true) {}
  wants(name: string): boolean {
    return this.filter(name);
  }
  record(name: string, data: Float32Array, shape: readonly number[]): void {
    this.values.set(name, { data: data.slice(), shape: [...shape] });
  }
  get(name: string): { data: Float32Array; shape: number[] } | undefined {
    return this.values.get(name);
  }
}

/** One recorder fanning out to several (each is asked `wants` separately). */
export function combineRecorders(...recorders: (Recorder | undefined)[]): Recorder {
  const list = recorders.filter((r): r is Recorder => r !== undefined);
  return {
    wants: (name) => list.some((r) => r.wants(name)),
    // Ownership cannot be handed to several recorders: each gets a borrowed view.
    record: (name, data, shape) => { for (const r of list) if (r.wants(name)) r.record(name, data, shape); },
  };
}

/** docs/hooks.md, generated from HOOKS. */
export function renderHooksMarkdown(): string {
  const rows = Object.entries(HOOKS).map(([kind, h]) => `| \`${h.name}\` | \`${kind}\` | \`${h.shape}\` | ${h.meaning} |`);
  return [
    '# Hook points',
    '',
    '<!-- Generated from src/engine/hooks.ts by renderHooksMarkdown(); test/unit/engine/trace.test.ts checks it. Do not edit by hand. -->',
    '',
    'The forward pass calls the recorder at these names (TransformerLens grammar). `{l}` is the block index and `{attn}` is',
    '`attn` (self-attention) or `cross_attn` (decoder attending to the encoder). Encoder-decoder models prefix every name',
    'with `encoder.` or `decoder.`. Only names accepted by the run\'s filter are copied, so unused hooks cost nothing.',
    '',
    '| name | kind | shape | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
