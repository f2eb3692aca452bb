import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isEngineError } from '../../../src/engine/errors';
import { parseSafetensorsHeader, SafetensorsFile } from '../../../src/engine/safetensors';
import { loadCases, modelDir, readReferenceTensors } from '../../support/fixtures';
import { buildSafetensors, f32Bytes, u16Bytes, writeSafetensorsFile, type RawTensor } from '../../support/safetensorsBuilder';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'te-safetensors-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function writeTmp(bytes: Uint8Array): string {
  const p = path.join(tmp, `f${n++}.safetensors`);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Runs `fn` and returns the EngineError code it threw (fails the test if it threw anything else or nothing). */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!isEngineError(e)) throw e;
    return e.code;
  }
  throw new Error('expected an EngineError');
}

function parse(bytes: Uint8Array) {
  return parseSafetensorsHeader(bytes, bytes.length, 'test');
}

/** A file whose header is exactly `json`, followed by `dataBytes` zero bytes. */
function withData(json: string, dataBytes: number): Buffer {
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + dataBytes);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  return out;
}

describe('safetensors on the real fixtures', () => {
  it('lists the 47 stories260K tensors with their shapes and reads values at the offsets the header gives', () => {
    const file = path.join(modelDir('stories260K'), 'model.safetensors');
    const f = SafetensorsFile.open(file);
    try {
      expect(f.tensors.size).toBe(47);
      expect(f.metadata).toEqual({ format: 'pt' });
      expect(f.tensors.get('model.embed_tokens.weight')?.shape).toEqual([512, 64]);
      expect(f.tensors.get('model.layers.0.self_attn.k_proj.weight')?.shape).toEqual([32, 64]);
      expect(f.tensors.get('model.layers.4.mlp.down_proj.weight')?.shape).toEqual([64, 172]);
      // Independent decode: the header length and offsets straight from the bytes, values via readFloatLE.
      const raw = fs.readFileSync(file);
      const n = Number(raw.readBigUInt64LE(0));
      const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
      for (const name of ['model.embed_tokens.weight', 'model.norm.weight', 'model.layers.2.mlp.gate_proj.weight']) {
        const got = f.read(name);
        const [b, e] = header[name]!.data_offsets;
        expect(got.length).toBe((e - b) / 4);
        for (const i of [0, 1, got.length >> 1, got.length - 1]) expect(got[i]).toBe(raw.readFloatLE(8 + n + b + 4 * i));
      }
    } finally {
      f.close();
    }
  });

  it('reads every reference case file of every model with the shapes cases.json declares', () => {
    for (const model of ['stories260K', 'tiny-random-gpt2', 'tiny-random-t5']) {
      for (const c of loadCases(model)) {
        const t = readReferenceTensors(model, c.name);
        expect([...t.keys()].sort()).toEqual(Object.keys(c.tensors).sort());
        for (const [name, shape] of Object.entries(c.tensors)) {
          expect(t.get(name)!.shape).toEqual(shape);
          expect(t.get(name)!.data.length).toBe(shape.reduce((a, b) => a * b, 1));
        }
      }
    }
  });
});

describe('dtype conversion', () => {
  // Half-precision bit patterns with values fixed by IEEE 754 binary16.
  const f16: [number, number][] = [
    [0x0000, 0], [0x8000, -0], [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504],
    [0x0400, 2 ** -14], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x8001, -(2 ** -24)],
    [0x7c00, Infinity], [0xfc00, -Infinity],
  ];
  const bf16: [number, number][] = [[0x3f80, 1], [0xc049, -3.140625], [0x0001, 2 ** -133], [0x7f80, Infinity], [0xff80, -Infinity], [0x4780, 65536]];

  for (const mod of [0, 1, 2, 3]) {
    it(`F16, BF16 and F32 values are exact, including subnormals, ±inf and NaN (data start ≡ ${mod} mod 4)`, () => {
      const tensors: RawTensor[] = [
        { name: 'h', dtype: 'F16', shape: [f16.length + 2], bytes: u16Bytes([...f16.map(([b]) => b), 0x7e00, 0xfe01]) },
        { name: 'b', dtype: 'BF16', shape: [2, bf16.length / 2 + 1], bytes: u16Bytes([...bf16.map(([b]) => b), 0x7fc0, 0xffc1]) },
        { name: 'f', dtype: 'F32', shape: [3], bytes: f32Bytes([1.5, -1e-40, 3.4e38]) },
      ];
      const f = SafetensorsFile.open(writeTmp(buildSafetensors(tensors, { dataStartMod4: mod })));
      try {
        const h = f.read('h');
        f16.forEach(([, v], i) => expect(Object.is(h[i], v)).toBe(true));
        expect(Number.isNaN(h[f16.length])).toBe(true);
        expect(Number.isNaN(h[f16.length + 1])).toBe(true);
        const b = f.read('b');
        bf16.forEach(([, v], i) => expect(b[i]).toBe(v));
        expect(Number.isNaN(b[bf16.length])).toBe(true);
        expect([...f.read('f')]).toEqual([1.5, Math.fround(-1e-40), Math.fround(3.4e38)]);
      } finally {
        f.close();
      }
    });
  }

  it('converts F16 tensors larger than the read chunk (every integer 0..2048, repeated)', () => {
    const count = 700_000; // > the 512 Ki-element scratch buffer
    const bits: number[] = [];
    const want: number[] = [];
    for (let i = 0; i < count; i++) {
      const k = i % 2049; // integers up to 2048 are exact in binary16: 1.m × 2^e
      const e = k === 0 ? 0 : Math.floor(Math.log2(k));
      bits.push(k === 0 ? 0 : ((e + 15) << 10) | ((k / 2 ** e - 1) * 1024));
      want.push(k);
    }
    const f = SafetensorsFile.open(writeTmp(buildSafetensors([{ name: 'x', dtype: 'F16', shape: [count], bytes: u16Bytes(bits) }], { dataStartMod4: 2 })));
    const got = f.read('x');
    f.close();
    expect(got.length).toBe(count);
    let bad = 0;
    for (let i = 0; i < count; i++) if (got[i] !== want[i]) bad++;
    expect(bad).toBe(0);
  });

  it('empty and zero-sized tensors read as empty arrays; integer dtypes are listed but not loadable as weights', () => {
    const f = SafetensorsFile.open(writeTmp(buildSafetensors([
      { name: 'empty', dtype: 'F32', shape: [0, 5], bytes: new Uint8Array(0) },
      { name: 'scalar', dtype: 'F32', shape: [], bytes: f32Bytes([7]) },
      { name: 'ids', dtype: 'I64', shape: [2], bytes: new Uint8Array(16) },
    ])));
    expect(f.read('empty').length).toBe(0);
    expect([...f.read('scalar')]).toEqual([7]);
    expect(f.tensors.get('ids')?.dtype).toBe('I64');
    expect(codeOf(() => f.read('ids'))).toBe('BAD_SAFETENSORS');
    expect(codeOf(() => f.read('nope'))).toBe('BAD_CHECKPOINT');
    f.close();
    expect(codeOf(() => f.read('scalar'))).toBe('INTERNAL');
  });
});

describe('header validation', () => {
  const cases: [string, string, number][] = [
    ['not JSON', '{"a": ', 8],
    ['a JSON array', '[1,2]', 0],
    ['JSON null', 'null', 0],
    ['unknown dtype', '{"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}}', 2],
    ['dtype not a string', '{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', 4],
    ['negative shape', '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4],
    ['float shape', '{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,6]}}', 6],
    ['string shape entry', '{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}', 8],
    ['shape not an array', '{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}', 8],
    ['huge shape product', '{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', 8],
    ['size mismatch', '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8],
    ['offsets past the data', '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}', 8],
    ['begin > end', '{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}', 8],
    ['negative offset', '{"a":{"dtype":"U8","shape":[4],"data_offsets":[-4,0]}}', 8],
    ['three offsets', '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4,8]}}', 8],
    ['overlap', '{"a":{"dtype":"U8","shape":[6],"data_offsets":[0,6]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}', 8],
    ['entry not an object', '{"a":[0,8]}', 8],
    ['metadata value not a string', '{"__metadata__":{"format":1}}', 0],
    ['metadata not an object', '{"__metadata__":"pt"}', 0],
  ];
  for (const [what, json, data] of cases) {
    it(`rejects ${what}`, () => expect(codeOf(() => parse(withData(json, data)))).toBe('BAD_SAFETENSORS'));
  }

  it('rejects invalid UTF-8, a header length past the end or over 100 MB, and files under 8 bytes', () => {
    const bad = withData('{"x":1}', 0);
    bad[10] = 0xff;
    expect(codeOf(() => parse(bad))).toBe('BAD_SAFETENSORS');
    const long = withData('{}', 0);
    long.writeBigUInt64LE(3n, 0);
    expect(codeOf(() => parse(long))).toBe('BAD_SAFETENSORS');
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(2n ** 63n, 0);
    expect(codeOf(() => parseSafetensorsHeader(huge, 2 ** 40))).toBe('BAD_SAFETENSORS');
    huge.writeBigUInt64LE(100_000_001n, 0);
    expect(codeOf(() => parseSafetensorsHeader(huge, 2 ** 40))).toBe('BAD_SAFETENSORS');
    expect(codeOf(() => parse(new Uint8Array(7)))).toBe('BAD_SAFETENSORS');
  });

  it('accepts touching tensors, zero-length tensors anywhere, trailing spaces and returns absolute ranges', () => {
    const json = '{"__metadata__":{"k":"v"},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[2,2]}}   ';
    const r = parse(withData(json, 8));
    const start = 8 + Buffer.byteLength(json);
    expect(r.dataStart).toBe(start);
    expect(r.metadata).toEqual({ k: 'v' });
    expect(r.tensors.map((t) => [t.name, t.begin, t.end, t.file])).toEqual([['a', start, start + 4, 'test'], ['b', start + 4, start + 8, 'test'], ['z', start + 2, start + 2, 'test']]);
  });
});

describe('files on disk', () => {
  const tensors: RawTensor[] = [
    { name: 'a', dtype: 'F32', shape: [4], bytes: f32Bytes([1, 2, 3, 4]) },
    { name: 'b', dtype: 'F16', shape: [2], bytes: u16Bytes([0x3c00, 0x4000]) },
  ];
  const whole = buildSafetensors(tensors);

  it('fails with BAD_SAFETENSORS at every truncation point, and MISSING_FILE for an absent file', () => {
    for (let cut = 0; cut < whole.length; cut++) {
      expect(codeOf(() => SafetensorsFile.open(writeTmp(whole.subarray(0, cut))))).toBe('BAD_SAFETENSORS');
    }
    expect(codeOf(() => SafetensorsFile.open(path.join(tmp, 'absent.safetensors')))).toBe('MISSING_FILE');
  });

  it('reports a file that shrinks after opening instead of returning garbage', () => {
    const p = path.join(tmp, 'shrinks.safetensors');
    writeSafetensorsFile(p, tensors);
    const f = SafetensorsFile.open(p);
    fs.truncateSync(p, whole.length - 2);
    expect([...f.read('a')]).toEqual([1, 2, 3, 4]);
    expect(codeOf(() => f.read('b'))).toBe('BAD_SAFETENSORS');
    f.close();
  });
});

describe('lazy reading', () => {
  it('opening a 600 MB checkpoint and reading one small tensor allocates only that tensor; F16 widening needs no full-size scratch', () => {
    // A sparse file: a 400 MB F16 tensor nobody reads, a 64 MB F16 tensor, and a tiny F32 one at the end.
    const big = 200_000_000;
    const mid = 32_000_000;
    const header = JSON.stringify({
      huge: { dtype: 'F16', shape: [big], data_offsets: [0, 2 * big] },
      mid: { dtype: 'F16', shape: [mid], data_offsets: [2 * big, 2 * big + 2 * mid] },
      small: { dtype: 'F32', shape: [2], data_offsets: [2 * big + 2 * mid, 2 * big + 2 * mid + 8] },
    });
    const p = path.join(tmp, 'sparse.safetensors');
    const head = Buffer.alloc(8 + header.length);
    head.writeBigUInt64LE(BigInt(header.length), 0);
    head.write(header, 8);
    fs.writeFileSync(p, head);
    const size = head.length + 2 * big + 2 * mid + 8;
    fs.truncateSync(p, size - 8);
    fs.appendFileSync(p, Buffer.from(f32Bytes([5, 6])));
    try {
      const before = process.memoryUsage().arrayBuffers;
      const f = SafetensorsFile.open(p);
      expect([...f.read('small')]).toEqual([5, 6]);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4e6);
      const m = f.read('mid'); // 128 MB of float32 out; the 64 MB of F16 in go through a 1 MB scratch buffer
      const grew = process.memoryUsage().arrayBuffers - before;
      expect(m.length).toBe(mid);
      expect(m[mid - 1]).toBe(0);
      expect(grew).toBeLessThan(4 * mid + 8e6);
      f.close();
    } finally {
      fs.rmSync(p);
    }
  });
});
