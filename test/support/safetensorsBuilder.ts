/**
 * Builds safetensors files byte by byte for tests: any dtype, raw bytes, optional deliberate misalignment,
 * and sharded checkpoints. Independent of the engine's writer so reader tests do not check code against itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** little-endian bytes of the tensor */
  bytes: Uint8Array;
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

export function u16Bytes(bits: number[]): Uint8Array {
  const b = Buffer.alloc(bits.length * 2);
  bits.forEach((v, i) => b.writeUInt16LE(v, i * 2));
  return new Uint8Array(b);
}

export interface BuildOptions {
  metadata?: Record<string, string> | null;
  /** pad the JSON header so that the data area starts at 8 + N ≡ `dataStartMod4` (mod 4); default: 8-aligned */
  dataStartMod4?: number;
  /** replace the JSON header text entirely */
  headerText?: string;
}

export function buildSafetensors(tensors: RawTensor[], opts: BuildOptions = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (opts.metadata !== null) header.__metadata__ = opts.metadata ?? { format: 'pt' };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = opts.headerText ?? JSON.stringify(header);
  if (opts.dataStartMod4 !== undefined) {
    while ((8 + Buffer.byteLength(json)) % 4 !== opts.dataStartMod4) json += ' ';
  } else if (opts.headerText === undefined) {
    json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  }
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let pos = 8 + head.length;
  for (const t of tensors) {
    out.set(t.bytes, pos);
    pos += t.bytes.length;
  }
  return out;
}

export function writeSafetensorsFile(file: string, tensors: RawTensor[], opts?: BuildOptions): void {
  fs.writeFileSync(file, buildSafetensors(tensors, opts));
}

/** Writes shards `model-0000k-of-0000n.safetensors` plus the index; returns the shard file names. */
export function writeShardedCheckpoint(dir: string, shards: RawTensor[][], weightMap?: Record<string, string>): string[] {
  const names = shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`);
  const map: Record<string, string> = {};
  shards.forEach((tensors, i) => {
    writeSafetensorsFile(path.join(dir, names[i]!), tensors);
    for (const t of tensors) map[t.name] = names[i]!;
  });
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap ?? map }));
  return names;
}
