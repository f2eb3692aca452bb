/**
 * The engine facade: load a Hugging Face checkpoint folder, tokenize, trace, generate. Plain Node, no vscode,
 * no worker specifics; large outputs are typed arrays. The worker wraps this; the CLI and tests call it directly.
 */
import { adapterFor, architectureOf } from './architectures';
import { openCheckpoint } from './checkpoint';
import type { ModelConfig } from './config';
import { EngineError } from './errors';
import { forwardDecoder, prepareModel, type LoadedModel, type RunOptions } from './forward';
import { generateIds, type GenerateOptions } from './generate';
import type { Recorder } from './hooks';
import type { Kernels } from './kernels/types';
import { portableKernels } from './kernels/portable';
import { positionalScheme, type PositionalScheme } from './positional';
import { loadTokenizer, type TextTokenizer, type TokenizedText } from './tokenizer';
import { PATTERN_F32_BUDGET, PatternStore, StackRecorder, Trace, type PatternPrecision } from './trace';
import { assembleWeights, loadCanonicalTensors } from './weights';

export interface ModelInfo {
  readonly dir: string;
  readonly family: string;
  readonly architecture: string;
  readonly kind: ModelConfig['kind'];
  readonly n_layers: number;
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
}

export interface LoadOptions {
  readonly kernels?: Kernels;
}

export interface TraceOptions extends RunOptions {
  /** Add the tokenizer's special tokens (BOS for Llama, [CLS]/[SEP] for BERT). Default true, as HF does. */
  readonly addSpecialTokens?: boolean;
  /** Pattern storage: 'auto' (default: float32 within PATTERN_F32_BUDGET, else uint16), or forced. */
  readonly patternPrecision?: 'auto' | PatternPrecision;
  /** Extra hooks to observe during the run (e.g. a HookCache); the trace's own recording is unaffected. */
  readonly hooks?: Recorder;
}

export interface GenerateTextOptions extends GenerateOptions {
  readonly addSpecialTokens?: boolean;
}

export interface GenerateResult {
  readonly promptIds: number[];
  readonly newIds: number[];
  /** Decoded new tokens (special tokens skipped, as HF `decode(skip_special_tokens=True)`). */
  readonly newText: string;
  readonly stoppedBy: 'length' | 'stop-token';
}

export class Model {
  private constructor(readonly info: ModelInfo, readonly config: ModelConfig, readonly loaded: LoadedModel, readonly tokenizer: TextTokenizer) {}

  static load(dir: string, opts: LoadOptions = {}): Model {
    const ckpt = openCheckpoint(dir);
    try {
      const hf = { ...(ckpt.generationConfig ?? {}), ...ckpt.config };
      const architecture = architectureOf(hf);
      const adapter = adapterFor(architecture);
      const cfg = adapter.config(hf, architecture);
      const { tensors, paramCount } = loadCanonicalTensors(cfg, ckpt, adapter.weights(cfg, ckpt.names()), adapter.ignore(cfg));
      const kernels = opts.kernels ?? portableKernels;
      const loaded = prepareModel(cfg, assembleWeights(cfg, tensors), kernels);
      const tokenizer = loadTokenizer(dir);
      const info: ModelInfo = {
        dir, family: cfg.family, architecture, kind: cfg.kind, n_layers: cfg.n_layers, n_heads: cfg.n_heads, n_kv_heads: cfg.n_kv_heads,
        d_model: cfg.d_model, d_head: cfg.d_head, d_vocab: cfg.d_vocab, n_ctx: cfg.n_ctx, positional: cfg.positional, params: paramCount, kernels: kernels.name,
      };
      return new Model(info, cfg, loaded, tokenizer);
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

  /** Tokenizes `text` and runs the model, keeping what the views need (see trace.ts). */
  async trace(text: string, opts: TraceOptions = {}): Promise<Trace> {
    const tokens = await this.tokenize(text, { addSpecialTokens: opts.addSpecialTokens });
    return this.traceTokens(text, tokens, opts);
  }

  /** Runs already-tokenized text (offsets refer to `text`). */
  traceTokens(text: string, tokens: TokenizedText, opts: TraceOptions = {}): Trace {
    const cfg = this.config;
    if (cfg.kind !== 'decoder') throw new EngineError('UNSUPPORTED_MODEL', `Tracing ${cfg.kind} models (${cfg.architecture}) is not supported yet.`);
    const n = tokens.ids.length;
    if (n === 0) throw new EngineError('BAD_INPUT', 'The text has no tokens to analyse.', 'Select some text first.');
    if (cfg.positional === 'learned' && n > cfg.n_ctx) {
      throw new EngineError('BAD_INPUT', `The text has ${n} tokens but ${cfg.architecture} supports at most ${cfg.n_ctx}.`, 'Select a shorter text.');
    }
    const want = opts.patternPrecision ?? 'auto';
    const precision: PatternPrecision = want !== 'auto' ? want
      : PatternStore.bytesFor(cfg.n_layers, cfg.n_heads, n, n, true, 'f32') <= PATTERN_F32_BUDGET ? 'f32' : 'u16';
    const rec = new StackRecorder('decoder', '', cfg.n_layers, cfg.n_heads, n, true, precision, opts.hooks);
    const out = forwardDecoder(this.loaded, tokens.ids, { ...opts, recorder: rec });
    return new Trace(this.loaded, (id) => this.tokenString(id), text, tokens, rec, out.hidden);
  }

  /** Continues `text` (greedy by default). */
  async generate(text: string, opts: GenerateTextOptions): Promise<GenerateResult> {
    const { ids } = await this.tokenize(text, { addSpecialTokens: opts.addSpecialTokens });
    return this.generateFromIds(ids, opts);
  }

  async generateFromIds(promptIds: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
    if (this.config.kind !== 'decoder') throw new EngineError('UNSUPPORTED_MODEL', `Generation with ${this.config.kind} models is not supported yet.`);
    const { newIds, stoppedBy } = generateIds(this.loaded, promptIds, opts);
    const newText = await this.tokenizer.decode(newIds, { skipSpecialTokens: true });
    return { promptIds: [...promptIds], newIds, newText, stoppedBy };
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

export function loadModel(dir: string, opts: LoadOptions = {}): Model {
  return Model.load(dir, opts);
}
