/**
 * Token embedding rows read from the checkpoint file on demand. Used when the unembedding is tied to the token
 * embedding and the kernels keep their own packed copy of it: holding the table in memory as well would be a
 * second copy of the largest tensor (154 MB for GPT-2 small), while a forward pass needs only one row per token.
 */
import * as fs from 'node:fs';
import { EngineError } from './errors';
import type { TensorInfo } from './safetensors';
import type { EmbeddingSource } from './weights';

export class FileEmbeddingRows implements EmbeddingSource {
  readonly rows: number;
  private readonly d: number;
  private readonly stamp: { size: number; mtimeMs: number };

  /** `info` must be a 2-D F32 tensor [rows, d] (callers keep other dtypes in memory). */
  constructor(private readonly info: TensorInfo) {
    if (info.dtype !== 'F32' || info.shape.length !== 2) throw new EngineError('INTERNAL', `${info.name}: file-backed embeddings need a 2-D F32 tensor`);
    [this.rows, this.d] = info.shape;
    const st = fs.statSync(info.file);
    this.stamp = { size: st.size, mtimeMs: st.mtimeMs };
  }

  /** Where the whole table lies in the checkpoint file. */
  get region(): { file: string; begin: number; byteLength: number } {
    return { file: this.info.file, begin: this.info.begin, byteLength: this.rows * this.d * 4 };
  }

  /** Rows `ids` (already checked to be in range) into out [ids.length, d]. */
  readRows(ids: ArrayLike<number>, out: Float32Array): void {
    const { d, info } = this;
    let fd: number;
    try {
      fd = fs.openSync(info.file, 'r');
    } catch (e) {
      throw this.changed(`it can no longer be opened (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.size !== this.stamp.size || st.mtimeMs !== this.stamp.mtimeMs) throw this.changed('it was modified');
      const bytes = new Uint8Array(out.buffer, out.byteOffset, ids.length * d * 4);
      for (let t = 0; t < ids.length; t++) {
        const at = info.begin + ids[t] * d * 4;
        const dst = bytes.subarray(t * d * 4, (t + 1) * d * 4);
        if (fs.readSync(fd, dst, 0, dst.length, at) !== dst.length) throw this.changed('it is shorter than when it was loaded');
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private changed(why: string): EngineError {
    return new EngineError('BAD_CHECKPOINT', `The model's weights file ${this.info.file} changed since the model was loaded: ${why}.`, 'Load the model again (Transformer: Select Model…).');
  }
}
