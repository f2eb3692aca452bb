/**
 * Fuzzes the safetensors reader with mutations of real files (seeded, reproducible). Every outcome must be
 * either a clean BAD_SAFETENSORS EngineError or a header whose tensors lie inside the file, without overlap,
 * with shape × dtype size = byte length — never a RangeError/TypeError, a hang or an out-of-range read.
 *
 * Mutants are kept as (header bytes, file size): the pure parser only needs the header, so thousands of
 * mutations of a 1 MB checkpoint cost no copies. A sample of them (every success, some failures) is written
 * to disk and opened with SafetensorsFile, whose verdict must agree and whose reads must return whole tensors.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isEngineError } from '../../../src/engine/errors';
import { DTYPE_BYTES, parseSafetensorsHeader, SafetensorsFile, type SafetensorsDType } from '../../../src/engine/safetensors';
import { modelDir, referenceDir } from '../../support/fixtures';
import { buildSafetensors, f32Bytes, u16Bytes } from '../../support/safetensorsBuilder';

const SEED = 0x5afe7e45;
const MUTATIONS_PER_BASE = 8_000;

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

interface Base { name: string; bytes: Buffer; headerLen: number; header: Record<string, unknown>; data: Buffer }

function loadBase(name: string, bytes: Buffer): Base {
  const headerLen = Number(bytes.readBigUInt64LE(0));
  return { name, bytes, headerLen, header: JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>, data: bytes.subarray(8 + headerLen) };
}

/** A mutated file: its first bytes (at least the whole header when the length prefix is honest) and its size. */
interface Mutant { kind: string; head: Uint8Array; fileSize: number; data: Buffer }

function withHeaderText(base: Base, text: string | Buffer, kind: string, rng: Rng): Mutant {
  const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const head = Buffer.alloc(8 + body.length);
  let n = BigInt(body.length);
  if (rng.next() < 0.1) n += BigInt(rng.int(17) - 8); // a length prefix that disagrees with the JSON
  head.writeBigUInt64LE(n < 0n ? 0n : n, 0);
  body.copy(head, 8);
  return { kind, head, fileSize: head.length + base.data.length, data: base.data };
}

const DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'F8', 'f32', '', 'F32 ', 'U64', 'F8_E4M3', 'Q4_0'];
const WEIRD: unknown[] = [null, true, 'x', '12', -1, 1.5, 2 ** 53, 2 ** 64, 1e308, -0, [], {}, [[1]], { a: 1 }];

function randomNumber(rng: Rng, around: number): unknown {
  switch (rng.int(8)) {
    case 0: return around + rng.int(9) - 4;
    case 1: return -1 - rng.int(100);
    case 2: return around + 0.5;
    case 3: return rng.int(2 ** 31) * 2 ** rng.int(30);
    case 4: return String(around);
    case 5: return rng.pick(WEIRD);
    case 6: return 0;
    default: return around * (rng.int(3) + 2);
  }
}

/** One JSON-level mutation of the header; returns the header text (possibly no longer valid JSON). */
function mutateJson(base: Base, rng: Rng): { text: string; kind: string } {
  const h = structuredClone(base.header) as Record<string, Record<string, unknown>>;
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  const t = rng.pick(names);
  const e = h[t]!;
  const offs = e.data_offsets as [number, number];
  const shape = e.shape as number[];
  const dataSize = base.data.length;
  const op = rng.int(16);
  switch (op) {
    case 0: e.data_offsets = [randomNumber(rng, offs[0]), offs[1]]; return { text: JSON.stringify(h), kind: 'begin' };
    case 1: e.data_offsets = [offs[0], randomNumber(rng, offs[1])]; return { text: JSON.stringify(h), kind: 'end' };
    case 2: {
      const other = h[rng.pick(names)]!; // overlap: copy or straddle another tensor's range
      const o = other.data_offsets as [number, number];
      e.data_offsets = rng.next() < 0.5 ? [...o] : [o[0] + 1, o[0] + 1 + (offs[1] - offs[0])];
      return { text: JSON.stringify(h), kind: 'overlap' };
    }
    case 3: e.data_offsets = [dataSize - rng.int(8), dataSize + rng.int(8)]; return { text: JSON.stringify(h), kind: 'past-end' };
    case 4: e.dtype = rng.pick(DTYPES); return { text: JSON.stringify(h), kind: 'dtype' };
    case 5: {
      const s = [...shape];
      if (s.length) s[rng.int(s.length)] = randomNumber(rng, s[0]!) as number;
      else s.push(rng.int(4));
      e.shape = s;
      return { text: JSON.stringify(h), kind: 'shape' };
    }
    case 6: e.shape = rng.pick([[], [0], [...shape, 1], [...shape, 2], shape.slice(1), [2 ** 31, 2 ** 31, 2 ** 31], 'x', null, [null]]); return { text: JSON.stringify(h), kind: 'shape-form' };
    case 7: delete e[rng.pick(['dtype', 'shape', 'data_offsets'])]; return { text: JSON.stringify(h), kind: 'missing-field' };
    case 8: h[t] = rng.pick(WEIRD) as Record<string, unknown>; return { text: JSON.stringify(h), kind: 'entry-type' };
    case 9: h.__metadata__ = rng.pick([{ format: 1 }, { format: null }, { a: { b: 'c' } }, [], 'pt', null, { ['x'.repeat(1000)]: 'y' }, {}]) as Record<string, unknown>; return { text: JSON.stringify(h), kind: 'metadata' };
    case 10: {
      // Duplicate key: JSON.parse keeps the last one; the reader must still be consistent and in bounds.
      const dup = `"${t}":${JSON.stringify({ ...e, data_offsets: [0, dataSize + 4] })},`;
      return { text: `{${dup}${JSON.stringify(h).slice(1)}`, kind: 'duplicate-key' };
    }
    case 11: {
      const depth = 1 + rng.int(50_000);
      const nest = rng.next() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const tail = rng.next() < 0.2 ? '' : nest.slice(depth); // sometimes unbalanced
      return { text: JSON.stringify(h).replace(`"${t}":`, `"${t}":${nest.slice(0, depth)}${tail}${rng.next() < 0.5 ? '' : ','}"${t}x":`), kind: 'deep-nesting' };
    }
    case 12: return { text: rng.pick(['[]', '"str"', '42', 'null', 'true', '{}', '{"__metadata__":{}}', '[' + JSON.stringify(h) + ']', '']), kind: 'not-object' };
    case 13: {
      const s = JSON.stringify(h);
      const at = rng.int(s.length);
      const repl = rng.pick(['', 'NaN', 'Infinity', '-', '"', '}', ']', ',', ':', '\\', '1e400', '-0', '\u0000', '\ud800', '\\ud800', ' ']);
      return { text: s.slice(0, at) + repl + s.slice(at + (rng.next() < 0.5 ? 1 : 0)), kind: 'text-edit' };
    }
    case 14: {
      const renamed = rng.pick(['__proto__', 'constructor', '', 'x'.repeat(10_000), '\ud800', 'toString', 'hasOwnProperty']);
      const text = JSON.stringify(h).replace(JSON.stringify(t) + ':', JSON.stringify(renamed) + ':');
      return { text, kind: 'name' };
    }
    default: {
      h[`extra.${rng.int(1000)}`] = { dtype: rng.pick(DTYPES), shape: [rng.int(64)], data_offsets: [rng.int(dataSize + 16), rng.int(dataSize + 16)] };
      return { text: JSON.stringify(h), kind: 'extra-tensor' };
    }
  }
}

function mutate(base: Base, rng: Rng): Mutant {
  const full = 8 + base.headerLen;
  const op = rng.int(10);
  if (op === 0) {
    const cut = rng.int(base.bytes.length);
    return { kind: 'truncate', head: base.bytes.subarray(0, Math.min(cut, full)), fileSize: cut, data: base.data };
  }
  if (op === 1 || op === 2) {
    const head = Buffer.from(base.bytes.subarray(0, full));
    const flips = 1 + rng.int(8);
    for (let i = 0; i < flips; i++) {
      const at = op === 1 ? rng.int(full) : 8 + rng.int(base.headerLen); // op 2: JSON only
      head[at] = rng.next() < 0.5 ? head[at]! ^ (1 << rng.int(8)) : rng.int(256);
    }
    return { kind: op === 1 ? 'flip-any' : 'flip-json', head, fileSize: base.bytes.length, data: base.data };
  }
  if (op === 3) {
    const head = Buffer.from(base.bytes.subarray(0, full));
    const len = rng.pick([0n, 1n, 7n, BigInt(base.headerLen + 1), BigInt(base.bytes.length), BigInt(base.bytes.length - 7), 100_000_001n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n, BigInt(rng.int(2 ** 31))]);
    head.writeBigUInt64LE(len, 0);
    return { kind: 'header-length', head, fileSize: base.bytes.length, data: base.data };
  }
  if (op === 4) {
    const json = Buffer.from(base.bytes.subarray(8, full));
    const at = rng.int(json.length);
    const bad = rng.pick([[0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]);
    return withHeaderText(base, Buffer.concat([json.subarray(0, at), Buffer.from(bad), json.subarray(at)]), 'bad-utf8', rng);
  }
  const { text, kind } = mutateJson(base, rng);
  const m = withHeaderText(base, text, kind, rng);
  if (rng.next() < 0.15) m.fileSize = Math.max(0, m.fileSize - 1 - rng.int(base.data.length + 1)); // and truncated
  return m;
}

/** Applies the parser; returns a problem description if the outcome breaks the contract. */
function judge(m: Mutant): { ok: boolean; problem?: string } {
  let r: ReturnType<typeof parseSafetensorsHeader>;
  try {
    r = parseSafetensorsHeader(m.head, m.fileSize, 'fuzz');
  } catch (e) {
    if (isEngineError(e) && e.code === 'BAD_SAFETENSORS') return { ok: false };
    return { ok: false, problem: `${m.kind}: threw ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message).slice(0, 200)}` };
  }
  const ranges: [number, number][] = [];
  for (const t of r.tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!(t.begin >= r.dataStart && t.begin <= t.end && t.end <= m.fileSize)) return { ok: true, problem: `${m.kind}: ${t.name} [${t.begin},${t.end}) outside [${r.dataStart},${m.fileSize})` };
    if (count * DTYPE_BYTES[t.dtype as SafetensorsDType] !== t.end - t.begin) return { ok: true, problem: `${m.kind}: ${t.name} size mismatch` };
    if (t.end > t.begin) ranges.push([t.begin, t.end]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) if (ranges[i]![0] < ranges[i - 1]![1]) return { ok: true, problem: `${m.kind}: overlapping tensors accepted` };
  return { ok: true };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'te-fuzz-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes the mutant as a real file and checks that SafetensorsFile agrees with the pure parser. */
function checkOnDisk(m: Mutant, parsedOk: boolean): string | undefined {
  const file = path.join(tmp, 'mutant.safetensors');
  const bytes = Buffer.concat([m.head, m.data]).subarray(0, m.fileSize);
  if (bytes.length < m.fileSize) return undefined; // the header claims more than we hold: only the pure check applies
  fs.writeFileSync(file, bytes);
  let f: SafetensorsFile;
  try {
    f = SafetensorsFile.open(file);
  } catch (e) {
    if (isEngineError(e) && e.code === 'BAD_SAFETENSORS') return parsedOk ? `${m.kind}: open failed but the parser accepted it` : undefined;
    return `${m.kind}: open threw ${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  try {
    if (!parsedOk) return `${m.kind}: open accepted what the parser rejected`;
    for (const [name, t] of f.tensors) {
      try {
        const v = f.read(name);
        if (v.length * DTYPE_BYTES[t.dtype] !== t.end - t.begin) return `${m.kind}: read ${name} returned ${v.length} values`;
      } catch (e) {
        if (!(isEngineError(e) && e.code === 'BAD_SAFETENSORS' && !['F32', 'F16', 'BF16'].includes(t.dtype))) return `${m.kind}: read ${name} threw ${(e as Error).message}`;
      }
    }
    return undefined;
  } finally {
    f.close();
  }
}

function syntheticBase(): Buffer {
  return buildSafetensors([
    { name: 'h', dtype: 'F16', shape: [3, 5], bytes: u16Bytes(Array.from({ length: 15 }, (_, i) => 0x3c00 + i)) },
    { name: 'b', dtype: 'BF16', shape: [4], bytes: u16Bytes([0x3f80, 0xbf80, 0x7f80, 0x0001]) },
    { name: 'f', dtype: 'F32', shape: [2, 2], bytes: f32Bytes([1, 2, 3, 4]) },
    { name: 'ids', dtype: 'I64', shape: [3], bytes: new Uint8Array(24) },
    { name: 'mask', dtype: 'BOOL', shape: [5], bytes: new Uint8Array([1, 0, 1, 1, 0]) },
    { name: 'empty', dtype: 'F32', shape: [0], bytes: new Uint8Array(0) },
  ], { dataStartMod4: 2 });
}

describe('safetensors fuzzing', () => {
  const bases = [
    loadBase('stories260K/model.safetensors', fs.readFileSync(path.join(modelDir('stories260K'), 'model.safetensors'))),
    loadBase('stories260K/reference/short_english.safetensors', fs.readFileSync(path.join(referenceDir('stories260K'), 'short_english.safetensors'))),
    loadBase('synthetic F16/BF16/I64/BOOL, unaligned', syntheticBase()),
  ];

  it.each(bases.map((b, i) => [b.name, i] as const))(`%s: ${MUTATIONS_PER_BASE} mutations all end in BAD_SAFETENSORS or an in-bounds header`, (_name, i) => {
    const base = bases[i]!;
    const rng = prng(SEED + i);
    const problems: string[] = [];
    const kinds = new Map<string, { ok: number; bad: number }>();
    let onDisk = 0;
    let slowest = 0;
    const t0 = performance.now();
    for (let k = 0; k < MUTATIONS_PER_BASE; k++) {
      const m = mutate(base, rng);
      const s = performance.now();
      const verdict = judge(m);
      slowest = Math.max(slowest, performance.now() - s);
      if (verdict.problem) problems.push(verdict.problem);
      const tally = kinds.get(m.kind) ?? { ok: 0, bad: 0 };
      tally[verdict.ok ? 'ok' : 'bad']++;
      kinds.set(m.kind, tally);
      // Every accepted mutant, and one rejected in 50, also goes through the file reader.
      if (verdict.ok || k % 50 === 0) {
        const p = checkOnDisk(m, verdict.ok);
        onDisk++;
        if (p) problems.push(p);
      }
      if (problems.length > 20) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`${base.name}: ${MUTATIONS_PER_BASE} mutations in ${seconds.toFixed(1)} s (${onDisk} through SafetensorsFile), slowest parse ${slowest.toFixed(1)} ms`, Object.fromEntries(kinds));
    expect(problems).toEqual([]);
    expect(slowest).toBeLessThan(2000); // no pathological input may stall the parser
    // The mutators must actually reach both outcomes, or the test proves little.
    const totals = [...kinds.values()].reduce((a, b) => ({ ok: a.ok + b.ok, bad: a.bad + b.bad }), { ok: 0, bad: 0 });
    expect(totals.bad).toBeGreaterThan(MUTATIONS_PER_BASE / 2);
    expect(totals.ok).toBeGreaterThan(50);
  });

  it('every real fixture file truncated on disk at 100 cut points (7 boundaries + seeded random) fails to open with BAD_SAFETENSORS', () => {
    const rng = prng(SEED ^ 0xfeed);
    for (const base of bases) {
      const cuts = [0, 7, 8, 9, 8 + base.headerLen - 1, 8 + base.headerLen, base.bytes.length - 1];
      while (cuts.length < 100) cuts.push(rng.int(base.bytes.length));
      for (const cut of cuts) {
        const file = path.join(tmp, 'truncated.safetensors');
        fs.writeFileSync(file, base.bytes.subarray(0, cut));
        let code = 'none';
        try {
          SafetensorsFile.open(file).close();
        } catch (e) {
          code = isEngineError(e) ? e.code : `${(e as Error).constructor.name}`;
        }
        expect(code, `${base.name} cut at ${cut}`).toBe('BAD_SAFETENSORS');
      }
    }
  });
});
