// Tied token embeddings read from the checkpoint file when the kernels keep the (same) unembedding packed: the
// rows equal the in-memory table, the model then holds one copy of the table, and a weights file changed after
// loading is reported instead of silently mixing two checkpoints.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../src/engine/checkpoint';
import { FileEmbeddingRows } from '../../../src/engine/embeddingFile';
import { portableKernels } from '../../../src/engine/kernels/portable';
import { tryKernels } from '../../../src/engine/kernels/select';
import type { Kernels } from '../../../src/engine/kernels/types';
import { loadModel } from '../../../src/engine/model';
import { modelDir } from '../../support/fixtures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'te-embed-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function copyModel(name: string): string {
  const dir = path.join(tmp, `${name}-${Math.random().toString(36).slice(2)}`);
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync(modelDir(name))) {
    const src = path.join(modelDir(name), f);
    if (fs.statSync(src).isFile()) fs.copyFileSync(src, path.join(dir, f));
  }
  return dir;
}

describe('FileEmbeddingRows', () => {
  it('reads exactly the rows of the in-memory table, in the order asked', () => {
    const ckpt = openCheckpoint(modelDir('tiny-random-gpt2'));
    try {
      const name = 'transformer.wte.weight';
      const table = ckpt.read(name);
      const info = ckpt.info(name)!;
      const rows = new FileEmbeddingRows(info);
      const d = info.shape[1];
      expect(rows.rows).toBe(info.shape[0]);
      const ids = [0, 50256, 7, 7, 1234];
      const out = new Float32Array(ids.length * d).fill(NaN);
      rows.readRows(ids, out);
      ids.forEach((id, t) => expect(Array.from(out.subarray(t * d, (t + 1) * d))).toEqual(Array.from(table.subarray(id * d, (id + 1) * d))));
    } finally {
      ckpt.close();
    }
  });
});

const onnx = tryKernels('onnx', 2);
describe.skipIf(typeof onnx === 'string')('a tied model on kernels that pack the unembedding', () => {
  it('keeps no in-memory embedding table, traces like the portable path, and reports a weights file changed after loading', async () => {
    const dir = copyModel('tiny-random-gpt2');
    const kernels = tryKernels('onnx', 2) as Kernels; // an object, so a TE_KERNELS override does not apply
    const model = loadModel(dir, { kernels });
    const reference = loadModel(dir, { kernels: portableKernels }); // an object: TE_KERNELS does not override it
    try {
      expect(model.loaded.w.W_E).not.toBeInstanceOf(Float32Array); // rows come from the file
      expect(reference.loaded.w.W_E).toBeInstanceOf(Float32Array);
      const text = 'Hello there, general Kenobi.';
      const [a, b] = [await model.trace(text), await reference.trace(text)];
      expect(a.resid(0)).toEqual(b.resid(0)); // the embeddings entering block 0 are bit-identical
      const [pa, pb] = [a.nextTokenStats().prob, b.nextTokenStats().prob];
      pa.forEach((p, i) => expect(Math.abs(p - pb[i])).toBeLessThan(1e-5));

      const file = path.join(dir, 'model.safetensors');
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(file, later, later);
      await expect(model.trace(text)).rejects.toMatchObject({ code: 'BAD_CHECKPOINT', message: expect.stringMatching(/changed since the model was loaded/) });
      fs.rmSync(file);
      await expect(model.trace(text)).rejects.toMatchObject({ code: 'BAD_CHECKPOINT', message: expect.stringMatching(/can no longer be opened/) });
    } finally {
      kernels.dispose?.();
      reference.dispose();
    }
  });
});
