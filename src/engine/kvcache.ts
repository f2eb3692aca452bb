/** The key/value cache that lets generation feed one new token at a time. */
import type { ModelConfig } from './config';

/** Keys and values of earlier positions per layer, so generation feeds one new token at a time. */
export class KVCache {
  /** Per layer: k, v as [n_kv_heads, capacity, d_head]. */
  readonly layers: { k: Float32Array; v: Float32Array }[] = [];
  /** Cross-attention keys/values per layer ([n_kv_heads, encoder_len, d_head]), computed once per source. */
  readonly cross: { k: Float32Array; v: Float32Array; n: number }[] = [];
  length = 0;
  capacity = 0;
}

/** Grows every layer's buffers to hold `needed` positions, keeping the cached rows. */
export function reserveCache(cfg: ModelConfig, cache: KVCache, layers: number, needed: number): void {
  if (needed <= cache.capacity && cache.layers.length === layers) return;
  const { n_kv_heads: Hkv, d_head: dh } = cfg;
  const cap = Math.max(needed, cache.capacity * 2, 16);
  for (let l = 0; l < layers; l++) {
    const old = cache.layers[l];
    const k = new Float32Array(Hkv * cap * dh);
    const v = new Float32Array(Hkv * cap * dh);
    if (old) {
      for (let h = 0; h < Hkv; h++) {
        k.set(old.k.subarray(h * cache.capacity * dh, (h * cache.capacity + cache.length) * dh), h * cap * dh);
        v.set(old.v.subarray(h * cache.capacity * dh, (h * cache.capacity + cache.length) * dh), h * cap * dh);
      }
    }
    cache.layers[l] = { k, v };
  }
  cache.capacity = cap;
}
