// Weights kept for fast loading (LoadOptions.packCache, src/engine/packCache.ts, onnx/savedWeights.ts): the first
// load writes each packed weight's bytes beside the model that uses them (a one-node model, or a fused block's
// half), later loads open those instead of reading the checkpoint (unpacked first, pre-packed by later steps), and
// what they compute is bit-identical to a load without them. Damaged entries are rewritten, a
// changed checkpoint gets its own folder, and an unwritable folder only costs the speed-up.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGpt2 } from '../../../bench/checkpoint';
import type { Kernels } from '../../../src/engine/kernels/types';
import { tryKernels } from '../../../src/engine/kernels/select';
import { probeRow, sameProbe, savedWeightFiles } from '../../../src/engine/kernels/onnx/savedWeights';
import { loadModel, type Model } from '../../../src/engine/model';
import { KEEP_MODELS, openPackCache } from '../../../src/engine/packCache';
import { loadCases, modelDir, readReferenceTensors } from '../../support/fixtures';
import { checkLogits, checkNextTokenRanks, checkTop5, DiffTable, ref } from './forwardReference';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'te-fastload-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** d 128, 2 layers: every linear weight (≥ 16,384 values) and the 50,257-row tied unembedding get packed. */
const SHAPE = { n_layer: 2, n_embd: 128, n_head: 4, n_inner: 512, vocab_size: 50257, n_positions: 64 };
/** Kept entries per layer: a fused block is two (ln1 + W_Q/W_K/W_V; W_O + ln2 + mlp.W_in/W_out). */
const ENTRIES_PER_LAYER = 2;
const TEXT = 'The quick brown fox jumps over the lazy dog, and then it rests.';

/** Fresh onnx kernels that count how weights reached them. */
function countingKernels(): { kernels: Kernels; packed: string[]; restored: number; dispose(): void } {
  const inner = tryKernels('onnx', 2);
  if (typeof inner === 'string') throw new Error(inner);
  const counts = { packed: [] as string[], restored: 0 };
  const kernels = new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (prop === 'packWeight') {
        return (b: Float32Array, k: number, n: number, t: boolean, slot?: { key: string }) => {
          const h = inner.packWeight!(b, k, n, t, slot as never);
          if (h && slot) counts.packed.push(slot.key); // too small to pack: the array stays, nothing is kept
          return h;
        };
      }
      if (prop === 'packWeightFile') {
        return (src: never, k: number, n: number, t: boolean, slot: { key: string }, hasBias?: boolean) => {
          const h = inner.packWeightFile!(src, k, n, t, slot as never, hasBias);
          if (h) counts.packed.push(`${slot.key} (copied from the checkpoint)`);
          return h;
        };
      }
      if (prop === 'packBlock') {
        return (spec: never, w: never, slot?: { key: string }) => {
          if (slot) counts.packed.push(slot.key);
          return inner.packBlock!(spec, w, slot as never);
        };
      }
      if (prop === 'restoreBlock') {
        return (spec: never, slot: { dir: string; key: string }) => {
          const b = inner.restoreBlock!(spec, slot);
          if (b) counts.restored += ENTRIES_PER_LAYER;
          return b;
        };
      }
      if (prop === 'restoreWeight') {
        return (k: number, n: number, t: boolean, slot: { dir: string; key: string }) => {
          const h = inner.restoreWeight!(k, n, t, slot);
          if (h) counts.restored++;
          return h;
        };
      }
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { kernels, get packed() { return counts.packed; }, get restored() { return counts.restored; }, dispose: () => inner.dispose?.() };
}

/** Runs every deferred packing step; returns how many did something. */
function packAll(model: Model): number {
  let steps = 0;
  while (model.packDeferred()) steps++;
  return steps;
}

async function fingerprint(model: Model): Promise<{ prob: number[]; resid: number[] }> {
  const t = await model.trace(TEXT);
  return { prob: Array.from(t.nextTokenStats().prob), resid: Array.from(t.resid(model.info.n_layers)) };
}

const onnx = tryKernels('onnx', 1);
describe.skipIf(typeof onnx === 'string')('weights kept for fast loading (onnx kernels)', () => {
  let dir: string;
  let baseline: { prob: number[]; resid: number[] };
  beforeAll(async () => {
    dir = path.join(tmp, 'gpt2-small-shape');
    writeGpt2(dir, modelDir('gpt2-tokenizer'), SHAPE);
    const k = countingKernels();
    const m = loadModel(dir, { kernels: k.kernels });
    baseline = await fingerprint(m);
    k.dispose();
  });

  it('the first load writes every packed weight; the next opens them all and computes exactly the same', async () => {
    const root = path.join(tmp, 'cache-a');
    const first = countingKernels();
    const m1 = loadModel(dir, { kernels: first.kernels, packCache: root });
    const expected = SHAPE.n_layer * ENTRIES_PER_LAYER + 1;
    // the tied table is copied from the checkpoint before the blocks are read
    expect(first.packed).toEqual(['unembed.W_U (copied from the checkpoint)', 'fused.blocks.0', 'fused.blocks.1']);
    expect(first.restored).toBe(0);
    expect(await fingerprint(m1)).toEqual(baseline);
    // Opened unpacked from the files just written; each fused half gets its pre-packed twin in one step (the
    // unembedding stays unpacked), and the results do not change.
    expect(packAll(m1)).toBe(SHAPE.n_layer * ENTRIES_PER_LAYER);
    expect(packAll(m1)).toBe(0);
    expect(await fingerprint(m1)).toEqual(baseline);
    first.dispose();

    const [folder] = fs.readdirSync(root);
    const files = fs.readdirSync(path.join(root, folder));
    expect(files.filter((f) => f.endsWith('.probe'))).toHaveLength(expected);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // the unembedding's data file is exactly the tied embedding table, float32
    expect(fs.statSync(path.join(root, folder, 'unembed.W_U.bin')).size).toBe(SHAPE.vocab_size * SHAPE.n_embd * 4);
    const st = fs.readFileSync(path.join(dir, 'model.safetensors'));
    const headerLength = Number(st.readBigUInt64LE(0));
    const header = JSON.parse(st.subarray(8, 8 + headerLength).toString()) as Record<string, { data_offsets: [number, number] }>;
    const bytesOf = (name: string) => st.subarray(8 + headerLength + header[name].data_offsets[0], 8 + headerLength + header[name].data_offsets[1]);
    expect(fs.readFileSync(path.join(root, folder, 'unembed.W_U.bin')).equals(bytesOf('transformer.wte.weight'))).toBe(true);
    // GPT-2's Conv1D weights ([in, out]) reach the fused blocks untransposed: the kept bytes are the checkpoint's
    expect(fs.readFileSync(path.join(root, folder, 'fused.blocks.1.out.w_out.bin')).equals(bytesOf('transformer.h.1.mlp.c_proj.weight'))).toBe(true);

    const second = countingKernels();
    const m2 = loadModel(dir, { kernels: second.kernels, packCache: root });
    expect(second.restored).toBe(expected);
    expect(second.packed).toEqual([]);
    expect(m2.loaded.fused?.size).toBe(SHAPE.n_layer);
    expect(m2.loaded.w.W_E).not.toBeInstanceOf(Float32Array); // tied table: rows come from the checkpoint file
    expect(m2.info.params).toBe(m1.info.params);
    expect(await fingerprint(m2)).toEqual(baseline);
    expect(packAll(m2)).toBe(SHAPE.n_layer * ENTRIES_PER_LAYER);
    expect(await fingerprint(m2)).toEqual(baseline);
    second.dispose();
  });

  it('keeps a weight unpacked (and right) when its files change before its pre-packed twin is opened', async () => {
    const root = path.join(tmp, 'cache-d');
    const first = countingKernels();
    loadModel(dir, { kernels: first.kernels, packCache: root });
    first.dispose();
    const again = countingKernels();
    const m = loadModel(dir, { kernels: again.kernels, packCache: root });
    expect(again.restored).toBe(SHAPE.n_layer * ENTRIES_PER_LAYER + 1);
    // Block 1's mlp.W_in is replaced on disk (files are replaced, never written in place): the open session keeps
    // the bytes it mapped, and a twin opened now would compute with the new ones, unlike the recorded probe.
    const [folder] = fs.readdirSync(root);
    const bin = path.join(root, folder, 'fused.blocks.1.out.w_in.bin');
    const bytes = fs.readFileSync(bin);
    new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).fill(0.5, 1000, 2000);
    fs.writeFileSync(`${bin}.new`, bytes);
    fs.renameSync(`${bin}.new`, bin);
    expect(packAll(m)).toBe(SHAPE.n_layer * ENTRIES_PER_LAYER);
    expect(await fingerprint(m)).toEqual(baseline);
    again.dispose();
  });

  it('rewrites an entry whose data changed on disk instead of using it', async () => {
    const root = path.join(tmp, 'cache-b');
    const first = countingKernels();
    loadModel(dir, { kernels: first.kernels, packCache: root });
    first.dispose();
    const [folder] = fs.readdirSync(root);
    const bin = path.join(root, folder, 'fused.blocks.1.out.w_in.bin'); // block 1's mlp.W_in
    const bytes = fs.readFileSync(bin);
    new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).fill(0.5, 1000, 2000);
    fs.writeFileSync(bin, bytes);

    const again = countingKernels();
    const m = loadModel(dir, { kernels: again.kernels, packCache: root });
    expect(again.packed).toEqual(['fused.blocks.1']);
    expect(again.restored).toBe(ENTRIES_PER_LAYER + 1); // block 0 and the unembedding
    expect(await fingerprint(m)).toEqual(baseline);
    again.dispose();
  });

  it('loads (without the speed-up) when the folder cannot be written', async () => {
    const blocker = path.join(tmp, 'not-a-folder');
    fs.writeFileSync(blocker, '');
    const k = countingKernels();
    const m = loadModel(dir, { kernels: k.kernels, packCache: path.join(blocker, 'cache') });
    expect(k.restored).toBe(0);
    expect(await fingerprint(m)).toEqual(baseline);
    k.dispose();
  });

  it('gives a changed checkpoint its own folder and keeps only the most recently used folders', () => {
    const root = path.join(tmp, 'cache-c');
    const copy = path.join(tmp, 'copy');
    fs.mkdirSync(copy);
    for (const f of fs.readdirSync(dir)) if (fs.statSync(path.join(dir, f)).isFile()) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    const mapping = { 'unembed.W_U': 'transformer.wte.weight' };
    const a = openPackCache(root, copy, 'layout', mapping).folder;
    expect(openPackCache(root, copy, 'layout', mapping).folder).toBe(a);
    expect(openPackCache(root, copy, 'another layout', mapping).folder).not.toBe(a);
    expect(openPackCache(root, copy, 'layout', { 'unembed.W_U': { from: 'transformer.wte.weight', transpose: true } }).folder).not.toBe(a);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(copy, 'model.safetensors'), later, later);
    const b = openPackCache(root, copy, 'layout', mapping).folder;
    expect(b).not.toBe(a);
    const folders = fs.readdirSync(root);
    expect(folders.length).toBeLessThanOrEqual(KEEP_MODELS);
    expect(folders).toContain(path.basename(b));
  });
});

describe.skipIf(typeof onnx === 'string')('a fixture model loaded from kept weights (onnx kernels)', () => {
  const diffs = new DiffTable();
  afterAll(() => console.log(diffs.format('loaded from kept weights')));
  it.each(['stories260K', 'tiny-random-gpt2'])('%s matches the float64 reference: logits, top-5 everywhere, next-token rank and probability', async (name) => {
    const root = path.join(tmp, `cache-${name}`);
    const first = countingKernels();
    loadModel(modelDir(name), { kernels: first.kernels, packCache: root });
    first.dispose();
    const k = countingKernels();
    const model = loadModel(modelDir(name), { kernels: k.kernels, packCache: root });
    try {
      expect(k.restored).toBeGreaterThan(0); // at least the unembedding comes from the kept files
      expect(k.packed).toEqual([]);
      // as opened (unpacked), then once every deferred step has run (pre-packed)
      for (const stage of ['unpacked', 'packed']) {
        if (stage === 'packed') {
          expect(packAll(model)).toBeGreaterThanOrEqual(2 * (model.loaded.fused?.size ?? 0)); // + small unembeddings
          expect(packAll(model)).toBe(0);
        }
        for (const c of loadCases(name)) {
          const t = await model.trace(c.text);
          const tensors = readReferenceTensors(name, c.name);
          checkLogits(diffs, name, t.logitsAt(c.logits_positions), ref(tensors, 'logits'), `${c.name} (${stage})`);
          const every = t.topKEverywhere(5);
          c.top_next?.forEach((want, p) => checkTop5(diffs, name, every[p], want, `${c.name} (${stage}) topKEverywhere[${p}]`));
          checkNextTokenRanks(t.nextTokenStats(), c);
        }
      }
    } finally {
      k.dispose();
    }
  });
});

describe('saved weight entries', () => {
  it('accept only plain file names as keys', () => {
    expect(savedWeightFiles({ dir: '/x', key: 'blocks.0.attn.W_Q' }).data).toBe(path.join('/x', 'blocks.0.attn.W_Q.bin'));
    for (const key of ['../escape', '.hidden', 'a/b', '', 'a\\b']) expect(() => savedWeightFiles({ dir: '/x', key })).toThrow(RangeError);
  });

  it('compare probe products within float32 rounding only', () => {
    const y = probeRow(300).map((v) => v * 40);
    const near = y.map((v) => v + 1e-5);
    const off = Float32Array.from(y);
    off[123] += 0.01;
    expect(sameProbe(y, Float32Array.from(y))).toBe(true);
    expect(sameProbe(y, near)).toBe(true);
    expect(sameProbe(y, off)).toBe(false);
    expect(sameProbe(y, y.subarray(1))).toBe(false);
  });
});
