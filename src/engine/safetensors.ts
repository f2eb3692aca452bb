/**
 * Safetensors reader: a bounds-checked header parser and lazy, positioned tensor reads.
 *
 * Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`, then the data area.
 * `data_offsets` are relative to the data area. Every check below turns a malformed file into a
 * BAD_SAFETENSORS EngineError before any byte of tensor data is touched, so a hostile or truncated file can
 * never cause an out-of-range read, a huge allocation or a RangeError/TypeError escaping to the caller.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { EngineError } from './errors';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** absolute byte range in the file */
  begin: number;
  end: number;
  file: string;
}

export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** The Rust reference implementation caps the header at 100 MB too; anything bigger is corrupt or hostile. */
export const MAX_HEADER_BYTES = 100_000_000;

// Float32 reads fill typed arrays straight from the file, which is only correct on little-endian hosts
// (the format is little-endian; every platform VS Code ships on is too).
if (os.endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');

function bad(file: string | undefined, msg: string): EngineError {
  return new EngineError('BAD_SAFETENSORS', `${file ? `${file}: ` : ''}${msg}`, 'The weights file is corrupt or truncated; download it again.');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Header length from the 8-byte prefix, checked against the file size and the hard cap. */
export function headerLength(prefix: Uint8Array, fileSize: number, file?: string): number {
  if (prefix.length < 8 || fileSize < 8) throw bad(file, `file is ${fileSize} bytes, too short for the 8-byte header length`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) throw bad(file, `header length ${hi * 2 ** 32 + lo} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (8 + lo > fileSize) throw bad(file, `header length ${lo} runs past the end of the ${fileSize}-byte file (truncated?)`);
  if (lo < 2) throw bad(file, `header length ${lo} is too small for a JSON object`);
  return lo;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and validates the header. `bytes` must hold at least the first 8 + N bytes of the file (it may be
 * the whole file); `fileSize` is the size of the whole file, which bounds the data area. Pure: no I/O.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize: number, file?: string): { tensors: TensorInfo[]; metadata: Record<string, string>; dataStart: number } {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw bad(file, `invalid file size ${fileSize}`);
  const n = headerLength(bytes, fileSize, file);
  if (bytes.length < 8 + n) throw bad(file, `only ${bytes.length} header bytes available, ${8 + n} needed`);
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;

  let text: string;
  try {
    text = utf8.decode(bytes.subarray(8, dataStart));
  } catch {
    throw bad(file, 'header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    // SyntaxError, or RangeError for pathological nesting: both mean the header is not usable JSON.
    throw bad(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) throw bad(file, 'header is not a JSON object');

  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const name of Object.keys(header)) {
    const entry = header[name];
    if (name === '__metadata__') {
      if (!isPlainObject(entry)) throw bad(file, '__metadata__ is not an object');
      for (const k of Object.keys(entry)) {
        const v = entry[k];
        if (typeof v !== 'string') throw bad(file, `__metadata__["${clip(k)}"] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(parseEntry(name, entry, dataStart, dataSize, file));
  }

  // No two tensors may share bytes. Sorting by begin makes this one pass; empty tensors overlap nothing.
  const sorted = tensors.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.begin < prev.end) throw bad(file, `tensors "${clip(prev.name)}" and "${clip(cur.name)}" overlap`);
  }
  return { tensors, metadata, dataStart };
}

function parseEntry(name: string, entry: unknown, dataStart: number, dataSize: number, file?: string): TensorInfo {
  const what = `tensor "${clip(name)}"`;
  if (!isPlainObject(entry)) throw bad(file, `${what}: entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) throw bad(file, `${what}: unknown dtype ${clip(JSON.stringify(dtype) ?? String(dtype))}`);
  if (!Array.isArray(shape)) throw bad(file, `${what}: shape is not an array`);
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) throw bad(file, `${what}: shape entry ${clip(JSON.stringify(d) ?? String(d))} is not a non-negative integer`);
    count *= d as number;
    if (!Number.isSafeInteger(count)) throw bad(file, `${what}: shape [${shape.join(', ')}] has too many elements`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) throw bad(file, `${what}: data_offsets must be [begin, end]`);
  const [begin, end] = offsets as unknown[];
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end)) throw bad(file, `${what}: data_offsets are not integers`);
  const b = begin as number;
  const e = end as number;
  if (b < 0 || b > e || e > dataSize) throw bad(file, `${what}: data_offsets [${b}, ${e}] lie outside the ${dataSize}-byte data area`);
  const nbytes = count * DTYPE_BYTES[dtype as SafetensorsDType];
  if (!Number.isSafeInteger(nbytes) || nbytes !== e - b) throw bad(file, `${what}: shape [${shape.join(', ')}] × ${dtype} needs ${nbytes} bytes but data_offsets span ${e - b}`);
  return { name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin: dataStart + b, end: dataStart + e, file: file ?? '' };
}

/** Keeps hostile names/values from flooding an error message. */
function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

/** Reads exactly `dst.length` bytes at `position`, or fails: the file may have shrunk since it was opened. */
function readFully(fd: number, dst: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < dst.length) {
    // readSync takes an int32 length; stay well under it.
    const n = fs.readSync(fd, dst, done, Math.min(dst.length - done, 1 << 30), position + done);
    if (n === 0) throw bad(file, `unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

let f16Table: Float32Array | undefined;
/** All 65536 half-precision values as float32 (256 KB, built once): exact for subnormals, ±inf and NaN. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24; // zero / subnormal
    else if (exp === 31) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return (f16Table = t);
}

/** Half-width inputs are converted through a scratch buffer of this many bytes, so memory stays ≈ the output size. */
const CHUNK_BYTES = 1 << 20;

export class SafetensorsFile {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    readonly size: number,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.fd = fd;
  }

  /** Opens the file and reads only its header; tensor bytes are read on demand by `read`. */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new EngineError('MISSING_FILE', `Weights file not found: ${path}`);
      throw bad(path, `cannot open (${(e as Error).message})`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const prefix = new Uint8Array(8);
      if (size >= 8) readFully(fd, prefix, 0, path);
      const n = headerLength(prefix, size, path);
      const head = new Uint8Array(8 + n);
      head.set(prefix);
      readFully(fd, head.subarray(8), 8, path);
      const { tensors, metadata } = parseSafetensorsHeader(head, size, path);
      return new SafetensorsFile(path, fd, size, new Map(tensors.map((t) => [t.name, t])), metadata);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /**
   * One tensor as row-major float32 (F32 as is; F16/BF16 widened exactly): a fresh array, or the first
   * elements of `into` when given (the loader reuses one buffer for weights it hands straight to the kernels).
   */
  read(name: string, into?: Float32Array): Float32Array {
    const info = this.tensors.get(name);
    if (!info) throw new EngineError('BAD_CHECKPOINT', `Tensor "${name}" is not in ${this.path}.`);
    if (this.fd === undefined) throw new EngineError('INTERNAL', `${this.path} was read after close().`);
    const bytes = info.end - info.begin;
    const count = bytes / DTYPE_BYTES[info.dtype];
    if (into && into.length < count) throw new EngineError('INTERNAL', `read ${name}: buffer of ${into.length} for ${count} values`);
    const out = into ? into.subarray(0, count) : new Float32Array(count);
    if (info.dtype === 'F32') {
      // Reading into the array's own (always aligned) buffer makes the file's data alignment irrelevant.
      readFully(this.fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), info.begin, this.path);
      return out;
    }
    if (info.dtype === 'F16' || info.dtype === 'BF16') return this.readHalf(info, count, out);
    throw bad(this.path, `tensor "${name}" has dtype ${info.dtype}; only F32, F16 and BF16 weights can be loaded`);
  }

  private readHalf(info: TensorInfo, count: number, out: Float32Array): Float32Array {
    const outBits = new Uint32Array(out.buffer, out.byteOffset, count);
    const scratch = new Uint16Array(Math.min(count, CHUNK_BYTES / 2));
    const table = info.dtype === 'F16' ? halfTable() : undefined;
    for (let i = 0; i < count; i += scratch.length) {
      const m = Math.min(scratch.length, count - i);
      readFully(this.fd!, new Uint8Array(scratch.buffer, 0, m * 2), info.begin + i * 2, this.path);
      if (table) for (let j = 0; j < m; j++) out[i + j] = table[scratch[j]!]!;
      else for (let j = 0; j < m; j++) outBits[i + j] = scratch[j]! << 16; // BF16 = the upper half of a float32
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
