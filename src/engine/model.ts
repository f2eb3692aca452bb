/**
 * The engine facade: load a Hugging Face checkpoint folder, tokenize, trace, generate. Plain Node, no vscode,
 * no worker specifics; large outputs are typed arrays. The worker wraps this; the CLI and tests call it directly.
 */
import { adapterFor, architectureOf } from './architectures';
import { openCheckpoint, type Checkpoint } from './checkpoint';
import { FileEmbeddingRows } from './embeddingFile';
import type { ModelConfig } from './config';
import { EngineError } from './errors';
import { forwardDecoder, forwardEncoder, prepareModel, type LoadedModel, type RunOptions } from './forward';
import { BlockAssembler, fusableBlockSpec } from './fusedBlocks';
import { generateIds, type GeneratedIds, type GenerateOptions } from './generate';
import { combineRecorders, type Recorder } from './hooks';
import type { Kernels } from './kernels/types';
import { selectKernels, type KernelPreference } from './kernels/select';
import { positionalScheme, type PositionalScheme } from './positional';
import { loadTargetTokenizer } from './targetTokenizer';
import { loadTokenizer, type TextTokenizer, type TokenizedText } from './tokenizer';
import { PATTERN_F32_BUDGET, PatternStore, StackRecorder, Trace, type PatternPrecision } from './trace';
import { openPackCache, type PackCache } from './packCache';
import { assembleWeights, loadCanonicalTensors, type WeightMapping } from './weights';

export interface ModelInfo {
  readonly dir: string;
  readonly family: string;
  readonly architecture: string;
  readonly kind: ModelConfig['kind'];
  /** Blocks of the only stack, or of the encoder of an encoder-decoder. */
  readonly n_layers: number;
  /** Decoder blocks of an encoder-decoder (0 otherwise). */
  readonly n_decoder_layers: number;
  readonly n_heads: number;
  readonly n_kv_heads: number;
  readonly d_model: number;
  readonly d_head: number;
  readonly d_vocab: number;
  /** Longest input the positional scheme supports. */
  readonly n_ctx: number;
  readonly positional: ModelConfig['positional'];
  /** Parameters stored in the checkpoint tensors the model uses (tied tensors counted once). */
  readonly params: number;
  /** Kernel path in use ("portable", …). */
  readonly kernels: string;
  /** Blocks the kernels run as fused native graphs (Kernels.packBlock); 0 where every block runs op by op. */
  readonly fused_blocks: number;
}

export interface LoadOptions {
  /**
   * Kernels object, or a path preference for selectKernels (default 'auto': the fastest path that loads here;
   * env TE_KERNELS overrides a preference).
   */
  readonly kernels?: Kernels | KernelPreference;
  /**
   * A folder where kernels that pre-pack weights (onnx) keep them for fast loading (see packCache.ts): the first
   * load of a model writes them in a form the kernels open directly, later loads open those instead of reading
   * and converting the checkpoint. Default: none.
   */
  readonly packCache?: string;
}

export interface TraceOptions extends RunOptions {
  /** Add the tokenizer's special tokens (BOS, [CLS]/[SEP]…). Default true, as HF does. */
  readonly addSpecialTokens?: boolean;
  /** Pattern storage: 'auto' (default: float32 within PATTERN_F32_BUDGET, else uint16), or forced. */
  readonly patternPrecision?: 'auto' | PatternPrecision;
  /** Extra hooks to observe during the run (e.g. a HookCache); the trace's own recording is unaffected. */
  readonly hooks?: Recorder;
}

export interface GenerateTextOptions extends GenerateOptions {
  readonly addSpecialTokens?: boolean;
  /** Encoder-decoders: the target prefix the decoder continues (default empty: start from decoder_start). */
  readonly target?: string;
}

/** An encoder-decoder run: each side with its own tokens and offsets; the decoder also holds cross-attention. */
export interface Seq2SeqTrace {
  readonly encoder: Trace;
  readonly decoder: Trace;
}

export interface GenerateResult {
  readonly promptIds: number[];
  readonly newIds: number[];
  /** Decoded new tokens (special tokens skipped, as HF `decode(skip_special_tokens=True)`). */
  readonly newText: string;
  readonly stoppedBy: 'length' | 'stop-token';
}

export class Model {
  private constructor(
    readonly info: ModelInfo,
    readonly config: ModelConfig,
    readonly loaded: LoadedModel,
    readonly tokenizer: TextTokenizer,
    /** Seq2seq models whose target side has its own segmentation (else the source tokenizer serves both). */
    readonly targetTokenizer: TextTokenizer = tokenizer,
    /** True when load() created the kernels (and so dispose() releases them). */
    private readonly ownsKernels = false,
  ) {}

  /** Releases native kernel resources this model created; the model must not be used afterwards. */
  dispose(): void {
    if (this.ownsKernels) this.loaded.kernels.dispose?.();
  }

  /** One step of bringing weights opened fast to full speed (Kernels.packDeferred); false when none was left. */
  packDeferred(): boolean {
    return this.loaded.kernels.packDeferred?.() ?? false;
  }

  static load(dir: string, opts: LoadOptions = {}): Model {
    const ckpt = openCheckpoint(dir);
    try {
      const hf = { ...(ckpt.generationConfig ?? {}), ...ckpt.config };
      const architecture = architectureOf(hf);
      const adapter = adapterFor(architecture);
      const cfg = adapter.config(hf, architecture);
      const tokenizer = loadTokenizer(dir);
      const targetTokenizer = adapter.targetSpm ? loadTargetTokenizer(dir, adapter.targetSpm) : tokenizer;
      // Kernels before the weights, so each linear weight is packed as it is read (one pass over the memory);
      // kernels we created hold native resources, so they are disposed if the load fails after this.
      const ownKernels = typeof opts.kernels !== 'object';
      const kernels = typeof opts.kernels === 'object' ? opts.kernels : selectKernels({ prefer: opts.kernels ?? 'auto' });
      try {
        const mapping = adapter.weights(cfg, ckpt.names());
        const cache = packCacheFor(opts.packCache, dir, kernels, mapping);
        const slot = (name: string) => cache?.slot(name);
        // Whole blocks go to the kernels as they complete when the kernels can fuse them (fusedBlocks.ts).
        const spec = fusableBlockSpec(cfg, kernels);
        const blocks = spec ? new BlockAssembler(cfg, spec, kernels, slot) : undefined;
        const packOne = (w: Float32Array, k: number, n: number, name: string) => kernels.packWeight?.(w, k, n, true, slot(name));
        const pack = kernels.packWeight || blocks ? (w: Float32Array, k: number, n: number, name: string, inOut?: boolean) => (blocks?.owns(name) ? blocks.stage(name, w, inOut) : packOne(w, k, n, name)) : undefined;
        const restore = cache && kernels.restoreWeight ? (k: number, n: number, name: string, hasBias?: boolean) => (blocks?.owns(name) ? undefined : kernels.restoreWeight?.(k, n, true, cache.slot(name), hasBias)) : undefined;
        const tiedRows = tiedEmbeddingRows(ckpt, mapping);
        const presets = new Map([...(restore ? restoredUnembedding(cfg, mapping, tiedRows, restore) ?? [] : []), ...(blocks?.restore() ?? [])]);
        if (cache && tiedRows && !presets.has('unembed.W_U')) {
          // A tied F32 table the kernels can copy into the kept files straight from the checkpoint is never read whole.
          const handle = kernels.packWeightFile?.(tiedRows.region, cfg.d_model, cfg.d_vocab, true, cache.slot('unembed.W_U'), cfg.logit_bias);
          if (handle) presets.set('unembed.W_U', handle).set('embed.W_E', new Float32Array(0));
        }
        const { tensors, paramCount } = loadCanonicalTensors(cfg, ckpt, mapping, adapter.ignore(cfg), { pack, restore, presets, onTensor: blocks && ((name, t) => blocks.loaded(name, t)), packsInOut: blocks && ((name) => blocks.owns(name)) });
        const loaded = prepareModel(cfg, assembleWeights(cfg, tensors), kernels, tiedRows, slot('unembed.W_U'), blocks?.fused);
        const info: ModelInfo = {
          dir, family: cfg.family, architecture, kind: cfg.kind, n_layers: cfg.n_layers, n_decoder_layers: cfg.n_decoder_layers, n_heads: cfg.n_heads, n_kv_heads: cfg.n_kv_heads,
          d_model: cfg.d_model, d_head: cfg.d_head, d_vocab: cfg.d_vocab, n_ctx: cfg.n_ctx, positional: cfg.positional, params: paramCount, kernels: kernels.name,
          fused_blocks: loaded.fused?.size ?? 0,
        };
        return new Model(info, cfg, loaded, tokenizer, targetTokenizer, ownKernels);
      } catch (e) {
        if (ownKernels) kernels.dispose?.();
        throw e;
      }
    } finally {
      ckpt.close();
    }
  }

  /** Token string of an id as the vocabulary spells it ("Ġworld", "▁Hello", "<0xF0>"). */
  tokenString(id: number): string {
    return this.tokenizer.idToToken(id) ?? `<${id}>`;
  }

  tokenize(text: string, opts: { addSpecialTokens?: boolean } = {}): Promise<TokenizedText> {
    return this.tokenizer.encode(text, { addSpecialTokens: opts.addSpecialTokens ?? true });
  }

  /** Tokenizes `text` and runs the model, keeping what the views need (see trace.ts). Decoder-only and encoder models. */
  async trace(text: string, opts: TraceOptions = {}): Promise<Trace> {
    const tokens = await this.tokenize(text, { addSpecialTokens: opts.addSpecialTokens });
    return this.traceTokens(text, tokens, opts);
  }

  /** Runs already-tokenized text (offsets refer to `text`). */
  traceTokens(text: string, tokens: TokenizedText, opts: TraceOptions = {}): Trace {
    const cfg = this.config;
    if (cfg.kind === 'encoder-decoder') {
      throw new EngineError('BAD_INPUT', `${cfg.architecture} is an encoder-decoder: it needs a source and a target text.`, 'Use traceSeq2Seq(source, target).');
    }
    const n = this.checkLength(tokens.ids.length, 'text');
    const stack = cfg.kind === 'encoder' ? 'encoder' : 'decoder';
    const rec = new StackRecorder({ stack, prefix: '', layers: cfg.n_layers, heads: cfg.n_heads, n, causal: stack === 'decoder', precision: this.precision(n, n, opts), extra: opts.hooks });
    const run = { ...opts, recorder: rec };
    const out = stack === 'encoder' ? forwardEncoder(this.loaded, tokens.ids, run) : forwardDecoder(this.loaded, tokens.ids, run);
    return new Trace(this.loaded, (id) => this.tokenString(id), text, tokens, rec, out.hidden);
  }

  /**
   * Encoder-decoder run: the encoder reads `source`, the decoder reads [decoder_start] + tokens of the target
   * prefix (no EOS). The decoder trace also holds the cross-attention patterns.
   */
  async traceSeq2Seq(source: string, target: string, opts: TraceOptions = {}): Promise<Seq2SeqTrace> {
    const src = await this.tokenize(source, { addSpecialTokens: opts.addSpecialTokens });
    return this.traceSeq2SeqTokens(source, src, target, await this.targetTokens(target), opts);
  }

  traceSeq2SeqTokens(source: string, src: TokenizedText, target: string, tgt: TokenizedText, opts: TraceOptions = {}): Seq2SeqTrace {
    const cfg = this.config;
    if (cfg.kind !== 'encoder-decoder') throw new EngineError('BAD_INPUT', `${cfg.architecture} is not an encoder-decoder; use trace(text).`);
    const S = this.checkLength(src.ids.length, 'source');
    const T = this.checkLength(tgt.ids.length, 'target');
    const { n_layers, n_decoder_layers, n_heads } = cfg;
    const encRec = new StackRecorder({ stack: 'encoder', prefix: 'encoder.', layers: n_layers, heads: n_heads, n: S, causal: false, precision: this.precision(S, S, opts) });
    const decRec = new StackRecorder({ stack: 'decoder', prefix: 'decoder.', layers: n_decoder_layers, heads: n_heads, n: T, causal: true, precision: this.precision(T, T + S, opts), crossLen: S });
    const run = { ...opts, recorder: combineRecorders(encRec, decRec, opts.hooks) };
    const enc = forwardEncoder(this.loaded, src.ids, run);
    const dec = forwardDecoder(this.loaded, tgt.ids, run, undefined, enc);
    const name = (id: number) => this.tokenString(id);
    return {
      encoder: new Trace(this.loaded, name, source, src, encRec, enc.hidden, false),
      decoder: new Trace(this.loaded, name, target, tgt, decRec, dec.hidden, true, enc),
    };
  }

  /** Decoder input for a target prefix: [decoder_start_token_id] + its tokens without special tokens (offsets refer to `target`). */
  async targetTokens(target: string): Promise<TokenizedText> {
    const start = this.config.decoder_start_token_id;
    if (start === undefined) throw new EngineError('BAD_CONFIG', `${this.config.architecture}: config.json has no decoder_start_token_id.`);
    const t = await this.targetTokenizer.encode(target, { addSpecialTokens: false });
    return { ids: [start, ...t.ids], tokens: [this.tokenString(start), ...t.tokens], offsets: [[0, 0], ...t.offsets], special: [true, ...t.special] };
  }

  /** Positions of the mask token ([MASK]) in a tokenized text (masked-LM models). */
  maskPositions(tokens: TokenizedText): number[] {
    const mask = this.tokenizer.specialTokens.mask;
    return mask === undefined ? [] : tokens.ids.flatMap((id, i) => (id === mask ? [i] : []));
  }

  private checkLength(n: number, what: string): number {
    const cfg = this.config;
    if (n === 0) throw new EngineError('BAD_INPUT', `The ${what} has no tokens to analyse.`, 'Select some text first.');
    if ((cfg.positional === 'learned' || cfg.positional === 'sinusoidal') && n > cfg.n_ctx) {
      throw new EngineError('BAD_INPUT', `The ${what} has ${n} tokens but ${cfg.architecture} supports at most ${cfg.n_ctx}.`, 'Select a shorter text.');
    }
    return n;
  }

  private precision(nq: number, nk: number, opts: TraceOptions): PatternPrecision {
    const want = opts.patternPrecision ?? 'auto';
    if (want !== 'auto') return want;
    const layers = this.config.n_layers + this.config.n_decoder_layers;
    return PatternStore.bytesFor(layers, this.config.n_heads, nq, nk, false, 'f32') <= PATTERN_F32_BUDGET ? 'f32' : 'u16';
  }

  /** Continues `text` (greedy by default). Encoder-decoders translate/continue: `text` is the source, opts.target the target prefix. */
  async generate(text: string, opts: GenerateTextOptions): Promise<GenerateResult> {
    const { ids } = await this.tokenize(text, { addSpecialTokens: opts.addSpecialTokens });
    if (this.config.kind === 'encoder-decoder') {
      const target = await this.targetTokens(opts.target ?? '');
      const encoder = forwardEncoder(this.loaded, ids, { shouldCancel: opts.shouldCancel, signal: opts.signal });
      return this.finishGeneration(target.ids, generateIds(this.loaded, target.ids, opts, encoder), this.targetTokenizer);
    }
    return this.generateFromIds(ids, opts);
  }

  async generateFromIds(promptIds: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
    if (this.config.kind !== 'decoder') throw new EngineError('BAD_INPUT', `${this.config.architecture} cannot continue a token sequence on its own; use generate(source, {target}).`);
    return this.finishGeneration(promptIds, generateIds(this.loaded, promptIds, opts));
  }

  private async finishGeneration(promptIds: readonly number[], g: GeneratedIds, tokenizer = this.tokenizer): Promise<GenerateResult> {
    const newText = await tokenizer.decode(g.newIds, { skipSpecialTokens: true });
    return { promptIds: [...promptIds], newIds: g.newIds, newText, stoppedBy: g.stoppedBy };
  }

  /** The model's positional scheme (tables via positionTable / positional.ts). */
  positional(): PositionalScheme {
    return positionalScheme(this.config);
  }

  /** The stored position table [n_ctx, d_model] for learned / stored sinusoidal schemes, else undefined. */
  positionTable(): Float32Array | undefined {
    return this.loaded.w.W_pos;
  }
}

/** The model's folder of kept weights, when asked for and the kernels can use one; never fails the load. */
function packCacheFor(root: string | undefined, dir: string, kernels: Kernels, mapping: WeightMapping): PackCache | undefined {
  if (!root || !kernels.restoreWeight || !kernels.packedLayoutId) return undefined;
  try {
    return openPackCache(root, dir, kernels.packedLayoutId, mapping);
  } catch (e) {
    console.warn(`[engine] weights are not kept for fast loading in ${root}: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * The unembedding opened from the kept weights, as loader presets. A tied table is only skipped when its embedding
 * rows can come from the file instead (the placeholder prepareModel swaps for them); otherwise the table is
 * read anyway and the unembedding packed from it as usual.
 */
function restoredUnembedding(cfg: ModelConfig, mapping: WeightMapping, tiedRows: FileEmbeddingRows | undefined, restore: (k: number, n: number, name: string, hasBias?: boolean) => Float32Array | undefined): Map<string, Float32Array> | undefined {
  const source = (e: WeightMapping[string] | undefined) => (typeof e === 'string' ? e : e?.from);
  const tied = source(mapping['unembed.W_U']) === source(mapping['embed.W_E']);
  if (tied && !tiedRows) return undefined;
  // packed as prepareModel packs it: without a bias term unless the model has a logit bias
  const handle = restore(cfg.d_model, cfg.d_vocab, 'unembed.W_U', cfg.logit_bias);
  if (!handle) return undefined;
  return new Map(tied ? [['unembed.W_U', handle], ['embed.W_E', new Float32Array(0)]] : [['unembed.W_U', handle]]);
}

/**
 * A file row source for the token embedding when the unembedding is the same checkpoint tensor (tied) and it is
 * stored as plain F32 (no slicing or conversion needed to read one row); undefined otherwise.
 */
function tiedEmbeddingRows(ckpt: Checkpoint, mapping: WeightMapping): FileEmbeddingRows | undefined {
  const plain = (e: WeightMapping[string] | undefined) => (typeof e === 'string' ? e : e && !e.slice && !e.transpose && !e.reshape ? e.from : undefined);
  const from = plain(mapping['embed.W_E']);
  const info = from !== undefined && from === plain(mapping['unembed.W_U']) ? ckpt.info(from) : undefined;
  return info?.dtype === 'F32' && info.shape.length === 2 ? new FileEmbeddingRows(info) : undefined;
}

export function loadModel(dir: string, opts: LoadOptions = {}): Model {
  return Model.load(dir, opts);
}
