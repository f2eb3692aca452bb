/**
 * Tokenization through Hugging Face's Rust `tokenizers` (npm, N-API), so ids match transformers exactly, plus
 * offsets in UTF-16 code units (JavaScript string indices), which is what the editor needs.
 *
 * Why this library and not the pure-JS one: docs/decisions/tokenizer.md.
 */
import * as path from 'node:path';
import { Tokenizer } from 'tokenizers';
import { EngineError } from './errors';
import { describeJsonError, fileExists, jsonErrorOffset, jsonObjectMembers, readJsonObject, readTextFile } from './files';

export interface TokenizedText {
  ids: number[];
  tokens: string[];
  /** [start, end) in UTF-16 code units of the input text; special tokens added by the post-processor get [0, 0] */
  offsets: [number, number][];
  /** true for special tokens (added by the post-processor or found in the text) */
  special: boolean[];
}

export interface SpecialTokenIds { bos?: number; eos?: number; unk?: number; pad?: number; mask?: number; cls?: number; sep?: number }

export interface TextTokenizer {
  /** default addSpecialTokens: true, as in transformers */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): Promise<TokenizedText>;
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): Promise<string>;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** including added tokens */
  readonly vocabSize: number;
  readonly specialTokens: SpecialTokenIds;
  readonly modelMaxLength?: number;
}

const ROLES = ['bos', 'eos', 'unk', 'pad', 'mask', 'cls', 'sep'] as const;

/** transformers writes int(1e30) for "no limit"; anything that large is not a real context length. */
const NO_MAX_LENGTH = 1e12;

/** Loads `tokenizer.json` (required) and `tokenizer_config.json` / `special_tokens_map.json` (optional) from `dir`. */
export function loadTokenizer(dir: string): TextTokenizer {
  const file = path.join(dir, 'tokenizer.json');
  const hint = 'The model folder needs a Hugging Face tokenizer.json (fast tokenizer); slow-only tokenizers are not supported.';
  const text = readTextFile(file, 'BAD_TOKENIZER', hint);
  // Only a few small fields are ours to read (the addon parses the rest), so they are found without parsing the
  // vocabulary and merges into objects (GPT-2: ~95 ms of a ~300 ms tokenizer load).
  let json: { added_tokens?: unknown; model?: { unk_token?: unknown } };
  try {
    json = smallFields(text);
  } catch {
    const error = jsonErrorOffset(text) >= 0 ? `is not valid JSON (${describeJsonError(text)})` : 'must contain a JSON object';
    throw new EngineError('BAD_TOKENIZER', `${file} ${error}.`, hint);
  }
  let native: Tokenizer;
  try {
    // fromFile, not fromString(text): the addon then reads the bytes itself instead of receiving a 1.3 MB
    // JavaScript string (GPT-2: 131 ms against 200 ms).
    native = Tokenizer.fromFile(file);
  } catch (e) {
    // The addon throws plain Errors with serde's message ("unknown variant `Foo`… at line 1 column 40").
    throw new EngineError('BAD_TOKENIZER', `${file} could not be loaded: ${(e as Error).message}`, hint);
  }
  // transformers disables tokenizer.json's own truncation/padding unless a call asks for them; so do we.
  native.disableTruncation();
  native.disablePadding();

  const specialIds = new Set<number>();
  for (const t of addedTokens(json as Record<string, unknown>)) if (t.special) specialIds.add(t.id);
  const config = optionalJson(path.join(dir, 'tokenizer_config.json'));
  const map = optionalJson(path.join(dir, 'special_tokens_map.json'));
  const specialTokens = resolveSpecialTokens(native, json as Record<string, unknown>, config, map, specialIds);
  const maxLen = config.model_max_length;
  const modelMaxLength = typeof maxLen === 'number' && Number.isSafeInteger(maxLen) && maxLen > 0 && maxLen < NO_MAX_LENGTH ? maxLen : undefined;
  return new HfTokenizer(native, file, specialIds, specialTokens, modelMaxLength);
}

/** tokenizer.json's `added_tokens` and `model.unk_token`, parsed; throws on a file that is not a JSON object. */
function smallFields(text: string): { added_tokens?: unknown; model?: { unk_token?: unknown } } {
  const top = jsonObjectMembers(text);
  const value = (range: [number, number] | undefined): unknown => (range ? JSON.parse(text.slice(range[0], range[1])) : undefined);
  const model = top.get('model');
  const modelFields = model && text[model[0]] === '{' ? jsonObjectMembers(text, model[0], 'unk_token') : undefined;
  return { added_tokens: value(top.get('added_tokens')), model: { unk_token: value(modelFields?.get('unk_token')) } };
}

interface AddedToken { id: number; content: string; special: boolean }

function addedTokens(json: Record<string, unknown>): AddedToken[] {
  const list = json.added_tokens;
  if (!Array.isArray(list)) return [];
  return list.filter((t): t is AddedToken => typeof t === 'object' && t !== null && typeof t.id === 'number' && typeof t.content === 'string').map((t) => ({ id: t.id, content: t.content, special: t.special === true }));
}

function optionalJson(file: string): Record<string, unknown> {
  return fileExists(file) ? readJsonObject(file, 'BAD_TOKENIZER') : {};
}

/** A special token entry is a string or an AddedToken dict `{content: "<s>", …}`. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function resolveSpecialTokens(native: Tokenizer, json: Record<string, unknown>, config: Record<string, unknown>, map: Record<string, unknown>, specialIds: Set<number>): SpecialTokenIds {
  const out: SpecialTokenIds = {};
  for (const role of ROLES) {
    // tokenizer_config.json wins over special_tokens_map.json, as in transformers.
    const content = tokenContent(config[`${role}_token`]) ?? tokenContent(map[`${role}_token`]);
    const id = content === undefined ? undefined : native.tokenToId(content);
    if (id !== null && id !== undefined) out[role] = id;
  }
  const model = json.model as Record<string, unknown> | undefined;
  if (out.unk === undefined && typeof model?.unk_token === 'string') out.unk = native.tokenToId(model.unk_token) ?? undefined;
  // GPT-2-style byte-level tokenizers name no roles at all: their one special token (<|endoftext|>) is
  // bos, eos and unk at once (transformers' GPT2Tokenizer defaults).
  if (out.bos === undefined && out.eos === undefined && specialIds.size === 1) {
    const only = [...specialIds][0]!;
    out.bos = out.eos = only;
    out.unk ??= only;
  }
  return out;
}

class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;

  constructor(
    private readonly native: Tokenizer,
    private readonly file: string,
    private readonly specialIds: ReadonlySet<number>,
    readonly specialTokens: SpecialTokenIds,
    readonly modelMaxLength: number | undefined,
  ) {
    this.vocabSize = native.getVocabSize(true);
  }

  async encode(text: string, opts: { addSpecialTokens?: boolean } = {}): Promise<TokenizedText> {
    if (typeof text !== 'string') throw new EngineError('BAD_INPUT', 'Text to tokenize must be a string.');
    let enc: Awaited<ReturnType<Tokenizer['encode']>>;
    try {
      enc = await this.native.encode(text, null, { addSpecialTokens: opts.addSpecialTokens ?? true });
    } catch (e) {
      throw new EngineError('BAD_TOKENIZER', `Tokenizing with ${this.file} failed: ${(e as Error).message}`);
    }
    const ids = enc.getIds();
    const mask = enc.getSpecialTokensMask();
    const toUnit = codePointToUtf16(text);
    const offsets = enc.getOffsets().map(([s, e]) => [toUnit[s!] ?? text.length, toUnit[e!] ?? text.length] as [number, number]);
    const tokens = enc.getTokens();
    return {
      ids,
      tokens,
      offsets,
      // Post-processor tokens carry the mask bit. A special token typed in the text ("[MASK]") is split out
      // with its own text as span; an unknown-character token that merely has a special id (<unk>, [UNK])
      // spans other text and is not special.
      special: ids.map((id, i) => mask[i] === 1 || (this.specialIds.has(id) && text.slice(offsets[i]![0], offsets[i]![1]).includes(this.idToToken(id) ?? '\u0000'))),
    };
  }

  async decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): Promise<string> {
    const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= this.vocabSize);
    if (bad !== undefined) throw new EngineError('BAD_INPUT', `Cannot decode token id ${bad}: ids must be integers in [0, ${this.vocabSize}).`);
    return this.native.decode(ids, opts.skipSpecialTokens ?? false);
  }

  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= 2 ** 32) return undefined;
    return this.native.idToToken(id) ?? undefined;
  }

  tokenToId(token: string): number | undefined {
    return this.native.tokenToId(token) ?? undefined;
  }
}

/**
 * The Rust library reports offsets in Unicode code points; JavaScript strings index UTF-16 code units.
 * Entry k is the UTF-16 index of code point k (entry count = code points + 1). A lone surrogate counts as
 * one code point on both sides (N-API turns it into U+FFFD), so the mapping stays aligned.
 */
export function codePointToUtf16(text: string): Uint32Array {
  const map = new Uint32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    map[cp++] = i;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  map[cp] = text.length;
  return map.subarray(0, cp + 1);
}
