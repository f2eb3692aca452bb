/**
 * Target-side tokenizer for seq2seq checkpoints whose target language has its own SentencePiece model next to
 * a joint vocab.json (e.g. opus-mt's `target.spm`). tokenizer.json only describes the source side, so we
 * derive a target tokenizer.json from it: target.spm's normalizer charsmap, and the joint vocabulary re-scored
 * with target.spm's piece scores (pieces only the source knows get −1000, so segmentation follows target.spm;
 * specials keep theirs), no post-processor (decoder inputs carry no EOS). It is loaded by the same HF
 * `tokenizers` path as every other tokenizer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from './errors';
import { loadTokenizer, type TextTokenizer } from './tokenizer';

interface SpmModel { readonly scores: Map<string, number>; readonly charsmap?: Buffer }

/** Minimal protobuf reader for sentencepiece's ModelProto: pieces (field 1) and normalizer_spec (field 3). */
export function parseSentencePieceModel(buf: Buffer, file: string): SpmModel {
  let pos = 0;
  const fail = (): never => { throw new EngineError('BAD_TOKENIZER', `${file} is not a valid SentencePiece model.`); };
  const varint = (end: number): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end || shift > 49) fail();
      const b = buf[pos++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  /** Iterates the fields of a message in [start, end): f(field, wireType, valueStart, valueEnd). */
  const fields = (start: number, end: number, f: (field: number, wire: number, s: number, e: number) => void): void => {
    pos = start;
    while (pos < end) {
      const key = varint(end);
      const wire = key & 7;
      if (wire === 2) {
        const len = varint(end);
        const s = pos;
        if (s + len > end) fail();
        f(Math.floor(key / 8), wire, s, s + len);
        pos = s + len;
        continue;
      }
      const s = pos;
      if (wire === 0) varint(end);
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else fail();
      if (pos > end) fail();
      const after = pos;
      f(Math.floor(key / 8), wire, s, after);
      pos = after;
    }
  };
  const scores = new Map<string, number>();
  let charsmap: Buffer | undefined;
  fields(0, buf.length, (field, wire, s, e) => {
    if (field === 1 && wire === 2) {
      let piece: string | undefined;
      let score = 0;
      fields(s, e, (f2, w2, s2, e2) => {
        if (f2 === 1 && w2 === 2) piece = buf.toString('utf8', s2, e2);
        if (f2 === 2 && w2 === 5) score = buf.readFloatLE(s2);
      });
      if (piece !== undefined) scores.set(piece, score);
    } else if (field === 3 && wire === 2) {
      fields(s, e, (f2, w2, s2, e2) => { if (f2 === 2 && w2 === 2) charsmap = buf.subarray(s2, e2); });
    }
  });
  if (scores.size === 0) fail();
  return { scores, charsmap };
}

/** Builds the target tokenizer from `dir`/tokenizer.json and `dir`/`spmName`. */
export function loadTargetTokenizer(dir: string, spmName: string): TextTokenizer {
  const spmFile = path.join(dir, spmName);
  if (!fs.existsSync(spmFile)) throw new EngineError('MISSING_FILE', `${spmFile} is missing: the target side of this model needs it.`);
  const spm = parseSentencePieceModel(fs.readFileSync(spmFile), spmFile);
  const source = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const model = source.model as { type?: string; vocab?: [string, number][] } | undefined;
  if (model?.type !== 'Unigram' || !Array.isArray(model.vocab)) {
    throw new EngineError('BAD_TOKENIZER', `${dir}/tokenizer.json: a target tokenizer can only be derived from a Unigram tokenizer.json.`);
  }
  const specials = new Set(((source.added_tokens as { content: string }[] | undefined) ?? []).map((t) => t.content));
  const vocab = model.vocab.map(([piece, score]) => [piece, specials.has(piece) ? score : spm.scores.get(piece) ?? -1000]);
  const target = {
    ...source,
    normalizer: spm.charsmap ? { type: 'Precompiled', precompiled_charsmap: spm.charsmap.toString('base64') } : source.normalizer,
    post_processor: null,
    model: { ...model, vocab },
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'te-target-tok-'));
  try {
    fs.writeFileSync(path.join(tmp, 'tokenizer.json'), JSON.stringify(target));
    return loadTokenizer(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
