/**
 * Weights kept on disk in the form a packed-GEMM session opens directly. A session created from bytes gets its
 * weight through ONNX Runtime's in-memory external data, which ORT copies onto its heap before packing it; a
 * session opened from a model file whose initializer points at a data file beside it has ORT map that file and
 * pack straight from the mapping. So the first load of a model writes each packed weight (as the loader made it:
 * sliced, transposed, float32) to `<key>.bin` with a one-node `<key>.onnx` naming it, and every later load opens
 * those: no checkpoint read, no staging copy (GPT-2 small through the worker pool: 3.9-6.8 s → 1.9-2.1 s here;
 * what remains is mostly the packed copies' fresh pages, ~10 µs per 4 KB page on this VM). The kernels open these
 * sessions unpacked at first, which skips those pages (~0.5 s), and reopen them pre-packed while idle
 * (kernels.ts packDeferred): a session may map its files for its whole life, so they are never written in place.
 *
 * ORT can also save its packed bytes (`session.save_external_prepacked_constant_initializers`). We measured and
 * left it: it loads faster (1.1-1.4 s) but the files double, the first load takes 7.6-7.9 s instead of 3.9-4.6 s,
 * ORT still packs at load (zeroing a saved weight's bytes zeroed the output: the saved packing is found again
 * through the weight), and the products then read the packed bytes from the file mapping: in three alternating
 * bench rounds, 128-token traces took 247-262 ms against 217-228 ms, 512-token ones 888-999 against 800-823 ms.
 *
 * An entry is three files: `.bin`, `.onnx`, and `.probe` (the product of a fixed input row, written last, after
 * the session opened: its presence marks a complete entry, and a later load compares its own product with it); a
 * graph with several weights (a fused block's half) has one `<key>.<name>.bin` per weight instead of `.bin`.
 * Files are written under temporary names and renamed into place, so a reader never sees a partial file and a
 * file in use is never truncated (a mapped file that shrinks would crash the process).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PackedWeightSlot } from '../types';
import { encodeModel, type GraphSpec } from './proto';
import type { NativeSession, OrtRuntime, OrtSessionOptions } from './runtime';

export interface SavedWeightFiles {
  readonly model: string;
  readonly data: string;
  readonly probe: string;
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/;

export function savedWeightFiles(slot: PackedWeightSlot): SavedWeightFiles {
  if (!SAFE_KEY.test(slot.key)) throw new RangeError(`packed weight key "${slot.key}" is not a plain file name`);
  const base = path.join(slot.dir, slot.key);
  return { model: `${base}.onnx`, data: `${base}.bin`, probe: `${base}.probe` };
}

/** A fixed input row (no zeros, mixed signs), the same at save and at restore. */
export function probeRow(k: number): Float32Array {
  return Float32Array.from({ length: k }, (_, i) => Math.sin(0.37 * i + 0.1));
}

/** Equal within float32 rounding of another summation order (the runtime may split the work differently). */
export function sameProbe(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  let scale = 0;
  for (const v of a) scale = Math.max(scale, Math.abs(v));
  const tol = 1e-5 * Math.max(1, scale);
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol)) return false;
  return true;
}

function writeAtomically(file: string, write: (tmp: string) => void): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    write(tmp);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Writes `weight` and `graph` (whose one initializer is that weight, pointing at an external file) to `slot`,
 * opens the session from there and records its probe product. Returns the open session.
 */
export function saveAndOpen(rt: OrtRuntime, slot: PackedWeightSlot, graph: (dataFile: string) => GraphSpec, weight: Float32Array,
  options: OrtSessionOptions, probe: (s: NativeSession) => Float32Array): NativeSession {
  const files = savedWeightFiles(slot);
  return saveEntry(rt, files, [{ file: files.data, write: writeArray(weight) }], encodeModel(graph(path.basename(files.data))), options, probe);
}

/** Where a weight already lies in a file as the session wants it (float32, little-endian, in order). */
export interface FileRegion {
  readonly file: string;
  readonly begin: number;
  readonly byteLength: number;
}

/**
 * saveAndOpen for a weight copied from `source` (e.g. a tied embedding table in the checkpoint) a few MB at a
 * time, so it never has to be read into memory whole.
 */
export function saveCopyAndOpen(rt: OrtRuntime, slot: PackedWeightSlot, graph: (dataFile: string) => GraphSpec, source: FileRegion,
  options: OrtSessionOptions, probe: (s: NativeSession) => Float32Array): NativeSession {
  const files = savedWeightFiles(slot);
  return saveEntry(rt, files, [{ file: files.data, write: (tmp) => copyRegion(source, tmp) }], encodeModel(graph(path.basename(files.data))), options, probe);
}

const COPY_CHUNK = 8 << 20;

function copyRegion(source: FileRegion, to: string): void {
  const chunk = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, source.byteLength)));
  const src = fs.openSync(source.file, 'r');
  try {
    const dst = fs.openSync(to, 'w');
    try {
      for (let done = 0; done < source.byteLength;) {
        const want = Math.min(chunk.length, source.byteLength - done);
        const got = fs.readSync(src, chunk, 0, want, source.begin + done);
        if (got !== want) throw new Error(`${source.file} ends before the weight does`);
        fs.writeSync(dst, chunk, 0, got);
        done += got;
      }
    } finally {
      fs.closeSync(dst);
    }
  } finally {
    fs.closeSync(src);
  }
}

function writeArray(a: Float32Array): (file: string) => void {
  return (file) => fs.writeFileSync(file, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/**
 * The same for a graph with several weights (a fused block's half): `weights` by name, each written to
 * `<key>.<name>.bin`, which `graph` gets as the external file of that name.
 */
export function saveGraphAndOpen(rt: OrtRuntime, slot: PackedWeightSlot, graph: (fileOf: (name: string) => string) => GraphSpec,
  weights: Readonly<Record<string, Float32Array>>, options: OrtSessionOptions, probe: (s: NativeSession) => Float32Array): NativeSession {
  const files = savedWeightFiles(slot);
  const data = Object.entries(weights).map(([name, w]) => ({ file: dataFileOf(files, name), write: writeArray(w) }));
  return saveEntry(rt, files, data, encodeModel(graph((name) => path.basename(dataFileOf(files, name)))), options, probe);
}

function dataFileOf(files: SavedWeightFiles, name: string): string {
  if (!SAFE_KEY.test(name)) throw new RangeError(`weight name "${name}" is not a plain file name`);
  return files.data.replace(/\.bin$/, `.${name}.bin`);
}

function saveEntry(rt: OrtRuntime, files: SavedWeightFiles, data: readonly { file: string; write: (tmp: string) => void }[], model: Uint8Array,
  options: OrtSessionOptions, probe: (s: NativeSession) => Float32Array): NativeSession {
  fs.mkdirSync(path.dirname(files.model), { recursive: true });
  fs.rmSync(files.probe, { force: true }); // the entry is incomplete until the probe is back
  for (const d of data) writeAtomically(d.file, d.write);
  writeAtomically(files.model, (tmp) => fs.writeFileSync(tmp, model));
  const session = rt.openSession(files.model, options);
  try {
    const y = probe(session);
    writeAtomically(files.probe, (tmp) => fs.writeFileSync(tmp, new Uint8Array(y.buffer, y.byteOffset, y.byteLength)));
    return session;
  } catch (e) {
    session.dispose();
    throw e;
  }
}

/**
 * Opens the entry in `slot` (from saveAndOpen or saveGraphAndOpen) if it is complete and still gives its probe
 * product; otherwise removes it (a stale or damaged entry is rewritten by the next save) and returns undefined.
 */
export function openSaved(rt: OrtRuntime, slot: PackedWeightSlot, options: OrtSessionOptions, probe: (s: NativeSession) => Float32Array): NativeSession | undefined {
  const files = savedWeightFiles(slot);
  if (!fs.existsSync(files.probe)) return undefined;
  const session = reopenSaved(rt, slot, options, probe);
  if (!session) removeSavedWeight(files);
  return session;
}

/**
 * The same without removing anything: for opening an entry a second time (pre-packed this time) while a first
 * session still maps its files. Undefined when it no longer opens or no longer gives its probe product.
 */
export function reopenSaved(rt: OrtRuntime, slot: PackedWeightSlot, options: OrtSessionOptions, probe: (s: NativeSession) => Float32Array): NativeSession | undefined {
  const files = savedWeightFiles(slot);
  let session: NativeSession | undefined;
  try {
    const want = fs.readFileSync(files.probe);
    session = rt.openSession(files.model, options);
    const expected = new Float32Array(want.buffer.slice(want.byteOffset, want.byteOffset + want.byteLength));
    if (sameProbe(probe(session), expected)) return session;
  } catch {
    // unreadable, incomplete or written by another runtime: rebuilt by the next save
  }
  session?.dispose();
  return undefined;
}

/**
 * The step (Kernels.packDeferred) that swaps the session `holder` got unpacked from `slot` for its pre-packed
 * twin: the unpacked one is disposed and `live` updated. Nothing happens when it was replaced or released since,
 * or when the twin no longer gives the recorded probe product (the files changed: the unpacked session stays,
 * slower but right).
 */
export function packedTwinStep(rt: OrtRuntime, slot: PackedWeightSlot, options: OrtSessionOptions, probe: (s: NativeSession) => Float32Array,
  holder: { session: NativeSession }, live: Set<NativeSession>): () => void {
  const unpacked = holder.session;
  return () => {
    if (holder.session !== unpacked || !live.has(unpacked)) return;
    const packed = reopenSaved(rt, slot, options, probe);
    if (!packed) return;
    live.delete(unpacked);
    unpacked.dispose();
    holder.session = packed;
    live.add(packed);
  };
}

function removeSavedWeight(files: SavedWeightFiles): void {
  for (const f of [files.probe, files.model, files.data]) removeQuietly(f);
  // a multi-weight entry's data files (<key>.<name>.bin)
  const dir = path.dirname(files.data);
  const prefix = `${path.basename(files.data, '.bin')}.`;
  try {
    for (const f of fs.readdirSync(dir)) if (f.startsWith(prefix) && f.endsWith('.bin')) removeQuietly(path.join(dir, f));
  } catch {
    // the folder is gone: nothing to remove
  }
}

/** A file another window's session still maps cannot be removed on Windows: it is rewritten by a later save. */
function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // in use
  }
}
