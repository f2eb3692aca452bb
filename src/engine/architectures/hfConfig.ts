/** Typed, loud accessors for fields of a Hugging Face config.json (used by the family adapters). */
import { EngineError } from '../errors';

type Json = Record<string, unknown>;

function describe(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v);
}

/** A positive integer field; the first key present wins (families renamed fields over time). */
export function int(cfg: Json, keys: string | string[], fallback?: number): number {
  for (const key of Array.isArray(keys) ? keys : [keys]) {
    const v = cfg[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new EngineError('BAD_CONFIG', `config.json: "${key}" must be a non-negative integer, got ${describe(v)}.`);
    }
    return v;
  }
  if (fallback !== undefined) return fallback;
  throw new EngineError('BAD_CONFIG', `config.json: required field "${[keys].flat().join('" or "')}" is missing.`);
}

export function num(cfg: Json, key: string, fallback?: number): number {
  const v = cfg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new EngineError('BAD_CONFIG', `config.json: required field "${key}" is missing.`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EngineError('BAD_CONFIG', `config.json: "${key}" must be a number, got ${describe(v)}.`);
  return v;
}

export function bool(cfg: Json, key: string, fallback: boolean): boolean {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new EngineError('BAD_CONFIG', `config.json: "${key}" must be true or false, got ${describe(v)}.`);
  return v;
}

export function str(cfg: Json, key: string, fallback: string): string {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new EngineError('BAD_CONFIG', `config.json: "${key}" must be a string, got ${describe(v)}.`);
  return v;
}

/** An optional token id; HF allows a list for eos (the first one is used). */
export function tokenId(cfg: Json, key: string): number | undefined {
  const v = cfg[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'number' && Number.isInteger(first) && first >= 0 ? first : undefined;
}

/** Fails clearly when a field that changes the computation is set to something this engine does not implement. */
export function requireAbsent(cfg: Json, key: string, architecture: string, why: string): void {
  const v = cfg[key];
  if (v !== undefined && v !== null && v !== false) {
    throw new EngineError('UNSUPPORTED_MODEL', `${architecture}: "${key}": ${describe(v)} is not supported yet (${why}).`);
  }
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], key: string, architecture: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new EngineError('UNSUPPORTED_MODEL', `${architecture}: ${key} "${value}" is not supported yet; supported: ${allowed.join(', ')}.`);
}
