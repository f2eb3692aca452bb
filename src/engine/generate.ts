/**
 * Token generation: greedy (argmax) or temperature sampling with a seeded PRNG, incremental with a KV cache.
 * Runs exactly `maxNewTokens` steps unless asked to stop at given token ids (e.g. EOS, or BOS for models
 * trained to end a text by emitting BOS).
 */
import { EngineError } from './errors';
import { forwardDecoder, unembedRows, type LoadedModel, type RunOptions, type StackOutput } from './forward';
import { KVCache } from './kvcache';
import { softmax64 } from './ops';

export interface GenerateOptions {
  readonly maxNewTokens: number;
  /** 0 (default) = greedy; > 0 samples from softmax(logits / temperature). */
  readonly temperature?: number;
  /** Seed of the sampling PRNG (default 0); the same seed gives the same tokens. */
  readonly seed?: number;
  /** Stop after emitting any of these ids (the stop token is included in newIds). */
  readonly stopIds?: readonly number[];
  /** Recompute the whole sequence each step instead of using the KV cache (slow; for tests). */
  readonly noCache?: boolean;
  readonly shouldCancel?: () => boolean;
  readonly signal?: AbortSignal;
  /** Called after each new token: (step index, id). */
  readonly onToken?: (step: number, id: number) => void;
}

export interface GeneratedIds {
  readonly newIds: number[];
  readonly stoppedBy: 'length' | 'stop-token';
}

/** mulberry32: small, fast, seedable; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks the next id from one row of logits: argmax (first max wins) or a sample at `temperature`. */
export function pickToken(logits: Float32Array, temperature: number, random: () => number): number {
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const p = softmax64(logits, temperature);
  let r = random();
  for (let i = 0; i < p.length; i++) {
    r -= p[i];
    if (r < 0) return i;
  }
  return p.length - 1;
}

/** Continues `promptIds` with up to maxNewTokens ids (decoder-only, or a seq2seq decoder given its encoder output). */
export function generateIds(m: LoadedModel, promptIds: readonly number[], opts: GenerateOptions, encoder?: StackOutput): GeneratedIds {
  const { maxNewTokens, temperature = 0, seed = 0 } = opts;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new EngineError('BAD_INPUT', `max new tokens must be a non-negative integer, got ${maxNewTokens}.`);
  if (!(temperature >= 0)) throw new EngineError('BAD_INPUT', `Temperature must be ≥ 0, got ${temperature}.`);
  if (promptIds.length === 0) throw new EngineError('BAD_INPUT', 'Generation needs at least one prompt token.');
  const run: RunOptions = { shouldCancel: opts.shouldCancel, signal: opts.signal };
  const random = seededRandom(seed);
  const stop = new Set(opts.stopIds ?? []);
  const cache = opts.noCache ? undefined : new KVCache();
  const all = [...promptIds];
  const newIds: number[] = [];
  let feed: number[] = all;
  for (let step = 0; step < maxNewTokens; step++) {
    const out = forwardDecoder(m, cache ? feed : all, run, cache, encoder);
    const logits = unembedRows(m, out.hidden, [out.n - 1]);
    const id = pickToken(logits, temperature, random);
    newIds.push(id);
    all.push(id);
    feed = [id];
    opts.onToken?.(step, id);
    if (stop.has(id)) return { newIds, stoppedBy: 'stop-token' };
  }
  return { newIds, stoppedBy: 'length' };
}
