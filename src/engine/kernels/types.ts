import type { Activation, NormKind } from '../config';

/**
 * The numeric kernels the forward pass is written against. Row-major Float32 everywhere.
 * A portable TypeScript implementation always exists; faster paths implement the same interface
 * and are tested against it and against the fixtures.
 */
export interface Kernels {
  /** Human-readable name of the path, shown in benchmarks and the model info ("portable", "wasm-simd", "onnx"). */
  readonly name: string;
  /** out[m,n] = a[m,k] · b[k,n] (+ bias[n]). `b` is stored [k, n] (GPT-2 Conv1D layout). */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out?: Float32Array): Float32Array;
  /** out[m,n] = a[m,k] · bᵀ where `b` is stored [n, k] (nn.Linear / embedding layout) (+ bias[n]). */
  matmulT(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias?: Float32Array, out?: Float32Array): Float32Array;
  /**
   * Optional: every head's attention core in one call (callers loop over matmul/softmaxRows per head without it):
   * scores = q·kᵀ + mask, pattern = softmax(scores) over keys, z = pattern·v.
   */
  attention?(a: AttentionArgs): void;
  /**
   * Optional: what next-token views need from logits = a[m,k]·bᵀ (+ bias), for an unembedding-sized weight b
   * [n, k] packed at load, computed natively without handing the [m, n] logits back. undefined when b is not
   * such a weight on this path (callers then compute the logits with matmulT and summarise them themselves).
   */
  logitSummary?(a: Float32Array, b: Float32Array, m: number, k: number, n: number, bias: Float32Array | undefined, want: LogitSummaryRequest): LogitSummary | undefined;
  /** x = act(x) in place (same semantics as ops.applyActivation). */
  activation(kind: Activation, x: Float32Array): Float32Array;
  /** gate = act(gate) ⊙ up in place (SwiGLU / gated GELU; as ops.gatedActivation). */
  gatedActivation(kind: Activation, gate: Float32Array, up: Float32Array): Float32Array;
  /** Softmax of each row of x [rows, cols] in place; -Infinity entries (masked) become exactly 0 (as ops.softmaxRows). */
  softmaxRows(x: Float32Array, rows: number, cols: number): Float32Array;
  /** LayerNorm or RMSNorm of each row of x [rows, d] into `out` (default: a new array; never x itself) (as ops.normRows). */
  normRows(kind: NormKind, x: Float32Array, rows: number, d: number, w: Float32Array, b: Float32Array | undefined, eps: number, out?: Float32Array): Float32Array;
  /**
   * Optional hint, called once per weight matrix at load: `b` is a constant that will be the right-hand side
   * of many products (stored [n, k] for matmulT when `transposed`, else [k, n] for matmul). A path may pre-pack
   * it into its own layout now instead of on first use. Results never depend on whether this was called, and
   * `b` must not be modified afterwards.
   */
  prepareWeight?(b: Float32Array, k: number, n: number, transposed: boolean): void;
  /**
   * Optional, like prepareWeight, but the path keeps its own (packed) copy and returns a zero-length *handle*
   * that stands for the weight from then on: pass the handle as `b` to matmul/matmulT with the same k, n and
   * layout. `b` is neither kept nor modified, so the caller may reuse its memory at once: the loader reads every
   * weight into the same few buffers this way, and the model holds one copy of its weights instead of two.
   * Paths that keep no copy return undefined (keep using `b`). `hasBias` false (default true): products with this
   * weight never add a bias, so a path may leave the bias term out of its work (a product given one anyway still
   * adds it, more slowly); restoreWeight must then be told the same.
   */
  packWeight?(b: Float32Array, k: number, n: number, transposed: boolean, slot?: PackedWeightSlot, hasBias?: boolean): Float32Array | undefined;
  /**
   * Paths that can keep weights on disk for fast loading name what the kept files depend on here (runtime
   * version, CPU): they are only used where this is the same. With a `slot`, packWeight also writes the weight
   * there, and restoreWeight returns the handle of a weight an earlier load wrote there (undefined when absent,
   * damaged or unusable: then read and pack the weight as usual).
   */
  readonly packedLayoutId?: string;
  /**
   * Optional, packWeight with a slot for a weight that lies in a file exactly as `transposed` names it (float32,
   * e.g. a tied embedding table in the checkpoint): the path copies it to the slot without reading it into
   * memory whole. Undefined when it cannot (then read the weight and use packWeight).
   */
  packWeightFile?(source: { readonly file: string; readonly begin: number; readonly byteLength: number }, k: number, n: number, transposed: boolean, slot: PackedWeightSlot, hasBias?: boolean): Float32Array | undefined;
  restoreWeight?(k: number, n: number, transposed: boolean, slot: PackedWeightSlot, hasBias?: boolean): Float32Array | undefined;
  /**
   * Optional: a whole pre-norm block as two native calls instead of ~9 (see FusedBlock), for the blocks
   * `blockFusable` accepts. The block's linear weights are then held only by the returned FusedBlock (the caller
   * may reuse `w`'s memory at once). With a `slot`, the weights are also written there and `restoreBlock` opens
   * them at a later load (undefined when absent, damaged or unusable: then load and pack as usual).
   */
  blockFusable?(spec: BlockSpec): boolean;
  packBlock?(spec: BlockSpec, w: BlockTensors, slot?: PackedWeightSlot): FusedBlock;
  restoreBlock?(spec: BlockSpec, slot: PackedWeightSlot): FusedBlock | undefined;
  /**
   * Optional: weights opened from kept files may start in a form that opens fast and multiplies more slowly;
   * each call does one step of the work that brings them to full speed (results are the same before and after,
   * to float32 rounding). Returns false when there was nothing left to do. Callers run it when idle; a step
   * takes up to ~0.1 s.
   */
  packDeferred?(): boolean;
  /** Releases native resources (sessions, memory) the path holds; the kernels must not be used afterwards. */
  dispose?(): void;
}

/** Where a weight is kept between loads: a folder per model and layout id, and a file-name key. */
export interface PackedWeightSlot {
  readonly dir: string;
  readonly key: string;
}

/** Shapes are row-major and contiguous; `heads` query heads (GQA callers expand k and v to every head). */
export interface AttentionArgs {
  /** [heads, nq, d], already multiplied by the attention scale. */
  readonly q: Float32Array;
  /** Keys transposed: [heads, d, nk]. */
  readonly kT: Float32Array;
  /** [heads, nk, d]. */
  readonly v: Float32Array;
  /** Added to the scores: [maskHeads, nq, nk] (maskHeads 1: shared by every head); −Infinity hides a key. */
  readonly mask: Float32Array;
  readonly maskHeads: number;
  readonly heads: number;
  readonly nq: number;
  readonly nk: number;
  readonly d: number;
  /** Outputs: z [heads, nq, d]; the pattern [heads, nq, nk] and/or its packed form; the masked scores [heads, nq, nk] when given. */
  readonly z: Float32Array;
  readonly pattern?: Float32Array;
  readonly packed?: PackedPattern;
  readonly scores?: Float32Array;
}

/**
 * An attention pattern in the layout a trace stores it: per head, either every row (nq·nk values) or, for causal
 * self-attention over the same positions (nq = nk), the lower triangle row by row (nq(nq+1)/2 values); float32,
 * or uint16 fixed point (round(p · 65535), half up).
 */
export interface PackedPattern {
  readonly triangle: boolean;
  readonly out: Float32Array | Uint16Array;
}

/** Values per head of a packed pattern. */
export function packedPerHead(p: { readonly triangle: boolean }, nq: number, nk: number): number {
  return p.triangle ? (nq * (nq + 1)) / 2 : nq * nk;
}

/** Writes one softmax row (query i of head h, nk values) into its place in a packed pattern. */
export function packRow(p: PackedPattern, h: number, i: number, nq: number, nk: number, row: Float32Array): void {
  const len = p.triangle ? i + 1 : nk;
  const at = h * packedPerHead(p, nq, nk) + (p.triangle ? (i * (i + 1)) / 2 : i * nk);
  if (p.out instanceof Float32Array) p.out.set(row.subarray(0, len), at);
  else for (let j = 0; j < len; j++) p.out[at + j] = row[j] * 65535 + 0.5; // a Uint16Array store truncates
}

export interface LogitSummaryRequest {
  /** How many best entries per row (best first; equal logits: lower index first). */
  readonly top: number;
  /** log-sum-exp is of logits / temperature (> 0). */
  readonly temperature: number;
  /** Per row, the index whose logit and rank are wanted (any valid index where none is needed). */
  readonly targets: Int32Array;
}

/** Per row of logits ℓ: shapes [m], or [m, top] for the best entries. */
export interface LogitSummary {
  /** log Σ exp(ℓ / temperature). */
  readonly logSumExp: Float64Array;
  readonly topIds: Int32Array;
  /** ℓ at topIds (not divided by the temperature). */
  readonly topLogits: Float32Array;
  readonly targetLogit: Float32Array;
  /** How many entries are strictly greater than ℓ[target] (0: the target is the argmax). */
  readonly targetRank: Int32Array;
}

/** The shape and kind of a pre-norm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)) (no cross-attention). */
export interface BlockSpec {
  readonly d: number;
  readonly heads: number;
  /** Key/value heads (< heads: grouped-query attention, each serving heads / kvHeads query heads). */
  readonly kvHeads: number;
  readonly dHead: number;
  readonly dMlp: number;
  readonly norm: NormKind;
  readonly eps: number;
  readonly act: Activation;
  /** act(gate(x)) ⊙ in(x) instead of act(in(x)). */
  readonly gated: boolean;
  /** Multiplies q before q·kᵀ. */
  readonly attnScale: number;
  /** RoPE inverse frequencies [dHead / 2] (ops.applyRope's rotation of q and k by position); none for other models. */
  readonly rope?: Float64Array;
}

/** A linear layer's weight [nOut, nIn] (nn.Linear layout) and optional bias [nOut]. */
export interface BlockLinear {
  /** [out, in] (the canonical layout), or [in, out] with `inOut`. */
  readonly w: Float32Array;
  readonly b?: Float32Array;
  /** `w` is stored [in, out], as GPT-2's Conv1D stores it: used as it is instead of transposed at load. */
  readonly inOut?: boolean;
}

export interface BlockTensors {
  readonly ln1: { readonly w: Float32Array; readonly b?: Float32Array };
  readonly q: BlockLinear;
  readonly k: BlockLinear;
  readonly v: BlockLinear;
  readonly o: BlockLinear;
  readonly ln2: { readonly w: Float32Array; readonly b?: Float32Array };
  readonly in: BlockLinear;
  readonly out: BlockLinear;
  /** Gated MLPs only. */
  readonly gate?: BlockLinear;
}

/** What the first half of a fused block returns; each field only when asked for. */
export interface BlockAttnInputs {
  /** q, k, v = ln1(x)·Wᵀ + b: q [n, heads·dHead], k and v [n, kvHeads·dHead] (before RoPE; q not scaled). */
  readonly q?: Float32Array;
  readonly k?: Float32Array;
  readonly v?: Float32Array;
  /** RoPE models: q and k rotated by position (same shapes). */
  readonly rotQ?: Float32Array;
  readonly rotK?: Float32Array;
  /** The attention kernel's inputs, every query head (GQA: kv heads repeated): q·scale [heads, n, dHead], kᵀ [heads, dHead, n], v [heads, n, dHead]. */
  readonly qHeads?: Float32Array;
  readonly kT?: Float32Array;
  readonly vHeads?: Float32Array;
}

/** What the second half returns: the block output and, when asked for, its internals (hook names in forward.ts). */
export interface BlockRest {
  /** x + attn_out + mlp_out [n, d]. */
  readonly y: Float32Array;
  readonly attnOut?: Float32Array;
  readonly residMid?: Float32Array;
  readonly mlpPre?: Float32Array;
  readonly mlpPreGate?: Float32Array;
  readonly mlpPost?: Float32Array;
  readonly mlpOut?: Float32Array;
}

export type BlockInternal = 'attnOut' | 'residMid' | 'mlpPre' | 'mlpPreGate' | 'mlpPost' | 'mlpOut';

/**
 * One block in two native calls, with the attention core (Kernels.attention) between them:
 * attnInputs: ln1 and the q/k/v projections (and the heads' layouts for the attention kernel);
 * rest: output projection, residual, ln2, MLP, residual. Numerically the same operations as the per-op path.
 */
export interface FusedBlock {
  /** Rows of x sit at positions startPos… (RoPE). `rotated`: also return rotQ / rotK (RoPE models). */
  attnInputs(x: Float32Array, n: number, want: { readonly raw: boolean; readonly heads: boolean; readonly rotated?: boolean }, startPos?: number): BlockAttnInputs;
  /** z [n, heads·dHead] (heads merged) and the block input x [n, d]. */
  rest(z: Float32Array, x: Float32Array, n: number, want: ReadonlySet<BlockInternal>): BlockRest;
}
