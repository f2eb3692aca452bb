/**
 * Hands whole blocks to kernels that run a block as a few native calls (Kernels.packBlock) while the loader reads
 * the checkpoint. A block's linear weights are copied out of the loader's reused buffers into staging buffers until
 * the block is complete (28 MB for GPT-2 small), then packed together; the next block reuses the staging buffers
 * (fresh memory costs more than the copy: ~0.9 s of a GPT-2-small load when every block had its own), and the
 * model holds no other copy of the weights. With kept weights, a block an earlier load wrote is opened instead of read.
 * Weights the checkpoint stores [in, out] (GPT-2's Conv1D) are staged as stored; the kernels multiply them so.
 */
import type { ModelConfig } from './config';
import type { BlockSpec, BlockTensors, FusedBlock, Kernels, PackedWeightSlot } from './kernels/types';
import { ropeInvFreq } from './ops';
import { canonicalShapes, isLinearWeight, stackPrefixes } from './weights';

/**
 * The block shape when every block of this model can be fused (decoder-only and pre-norm: the GPT-2 and Llama
 * families; relative position biases and cross-attention stay per-op) and the kernels implement it; else undefined.
 */
export function fusableBlockSpec(cfg: ModelConfig, kernels: Kernels): BlockSpec | undefined {
  if (!kernels.packBlock || !kernels.blockFusable) return undefined;
  if (cfg.kind !== 'decoder' || cfg.norm_placement !== 'pre' || cfg.positional === 'relative_bias') return undefined;
  const spec: BlockSpec = {
    d: cfg.d_model, heads: cfg.n_heads, kvHeads: cfg.n_kv_heads, dHead: cfg.d_head, dMlp: cfg.d_mlp, norm: cfg.norm, eps: cfg.norm_eps,
    act: cfg.act, gated: cfg.gated_mlp, attnScale: cfg.attn_scale,
    rope: cfg.positional === 'rope' ? ropeInvFreq(cfg.d_head, cfg.rope_theta, cfg.rope_scaling) : undefined,
  };
  return kernels.blockFusable(spec) ? spec : undefined;
}

const BLOCK_NAME = /^blocks\.(\d+)\.(.+)$/;

export class BlockAssembler {
  /** The fused block of each layer (filled as the loader completes them). */
  readonly fused: (FusedBlock | undefined)[];
  private readonly pending = new Map<number, Map<string, Float32Array>>();
  /** Canonical tensors of each block, and its linear weights among them. */
  private readonly sizes = new Map<number, number>();
  private readonly linears = new Map<number, string[]>();
  private readonly restored = new Set<number>();
  /** Staging buffers by the weight's name within a block ("attn.W_Q"), reused from block to block. */
  private readonly staging = new Map<string, { buf: Float32Array; layer: number }>();
  /** Linear weights staged [in, out] (BlockLinear.inOut), by canonical name. */
  private readonly inOut = new Set<string>();

  constructor(private readonly cfg: ModelConfig, private readonly spec: BlockSpec, private readonly kernels: Kernels, private readonly slot?: (key: string) => PackedWeightSlot | undefined) {
    const prefix = stackPrefixes(cfg).decoder ?? '';
    if (prefix !== '') throw new Error('BlockAssembler: only single-stack decoders');
    this.fused = new Array(cfg.n_layers).fill(undefined);
    for (const name of canonicalShapes(cfg).keys()) {
      const layer = this.layerOf(name);
      if (layer === undefined) continue;
      this.sizes.set(layer, (this.sizes.get(layer) ?? 0) + 1);
      if (isLinearWeight(name)) this.linears.set(layer, [...(this.linears.get(layer) ?? []), name]);
    }
  }

  /** Blocks an earlier load kept, opened now: loader presets (zero-length handles) for their linear weights. */
  restore(): Map<string, Float32Array> {
    const presets = new Map<string, Float32Array>();
    for (let l = 0; l < this.cfg.n_layers; l++) {
      const slot = this.slot?.(blockKey(l));
      const block = slot ? this.kernels.restoreBlock?.(this.spec, slot) : undefined;
      if (!block) continue;
      this.fused[l] = block;
      this.restored.add(l);
      for (const name of this.linears.get(l) ?? []) presets.set(name, new Float32Array(0));
    }
    return presets;
  }

  /** True for the linear weights this assembler takes (the loader then calls stage instead of packing them itself). */
  owns(canonical: string): boolean {
    const layer = this.layerOf(canonical);
    return layer !== undefined && isLinearWeight(canonical);
  }

  /**
   * A linear weight of a block being assembled: copied (the loader reuses `w`'s memory); a placeholder handle is
   * returned. `inOut`: w is [in, out] (the checkpoint's layout, left untransposed).
   */
  stage(canonical: string, w: Float32Array, inOut = false): Float32Array {
    if (inOut) this.inOut.add(canonical);
    else this.inOut.delete(canonical);
    const part = (BLOCK_NAME.exec(canonical) as RegExpExecArray)[2];
    const layer = this.layerOf(canonical) as number;
    let slot = this.staging.get(part);
    // (a buffer still waiting in another unfinished block is not reused: the loader reads blocks one after another)
    if (!slot || slot.buf.length !== w.length || (slot.layer !== layer && this.pending.has(slot.layer))) slot = { buf: new Float32Array(w.length), layer };
    this.staging.set(part, { buf: slot.buf, layer });
    slot.buf.set(w);
    this.add(canonical, slot.buf);
    return new Float32Array(0);
  }

  /** Every canonical tensor the loader produced (handles included): a block is packed as soon as all of its tensors are in. */
  loaded(canonical: string, tensor: Float32Array): void {
    const layer = this.layerOf(canonical);
    if (layer === undefined || this.restored.has(layer)) return;
    if (isLinearWeight(canonical) && tensor.length === 0) return; // its staged copy is already in
    this.add(canonical, tensor);
  }

  private add(canonical: string, tensor: Float32Array): void {
    const layer = this.layerOf(canonical) as number;
    let parts = this.pending.get(layer);
    if (!parts) this.pending.set(layer, (parts = new Map()));
    parts.set((BLOCK_NAME.exec(canonical) as RegExpExecArray)[2], tensor);
    if (parts.size === this.sizes.get(layer)) {
      this.pending.delete(layer);
      // packBlock keeps no reference to the arrays (Kernels.packBlock), so the staging buffers are free again after it.
      const inOut = new Set([...this.inOut].filter((n) => this.layerOf(n) === layer).map((n) => (BLOCK_NAME.exec(n) as RegExpExecArray)[2]));
      this.fused[layer] = this.kernels.packBlock?.(this.spec, blockTensors(parts, inOut), this.slot?.(blockKey(layer)));
    }
  }

  private layerOf(canonical: string): number | undefined {
    const m = BLOCK_NAME.exec(canonical);
    return m ? Number(m[1]) : undefined;
  }
}

function blockKey(layer: number): string {
  return `fused.blocks.${layer}`;
}

function blockTensors(p: Map<string, Float32Array>, inOut: ReadonlySet<string>): BlockTensors {
  const get = (n: string): Float32Array => {
    const t = p.get(n);
    if (!t) throw new Error(`BlockAssembler: ${n} missing`);
    return t;
  };
  const linear = (w: string, b: string) => ({ w: get(w), b: p.get(b), inOut: inOut.has(w) });
  return {
    ln1: { w: get('ln1.w'), b: p.get('ln1.b') },
    q: linear('attn.W_Q', 'attn.b_Q'),
    k: linear('attn.W_K', 'attn.b_K'),
    v: linear('attn.W_V', 'attn.b_V'),
    o: linear('attn.W_O', 'attn.b_O'),
    ln2: { w: get('ln2.w'), b: p.get('ln2.b') },
    in: linear('mlp.W_in', 'mlp.b_in'),
    out: linear('mlp.W_out', 'mlp.b_out'),
    gate: p.has('mlp.W_gate') ? linear('mlp.W_gate', 'mlp.b_gate') : undefined,
  };
}
