/** In-process profile of one GPT-2-small trace per kernel path (no worker): where the time goes. */
import * as path from 'node:path';
import { loadModel } from '../src/engine';
import { selectKernels, type KernelPreference } from '../src/engine/kernels/select';
import { writeGpt2Small } from './checkpoint';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const dir = path.join(root, '.bench-tmp', 'gpt2-small-random');
  const models = process.env.TE_MODELS_DIR ?? path.join(root, '..', 'shared', 'models');
  writeGpt2Small(dir, path.join(models, 'gpt2-tokenizer'));
  const prefer = (process.argv[2] ?? 'onnx') as KernelPreference;
  const n = Number(process.argv[3] ?? 128);
  let t = performance.now();
  const kernels = selectKernels({ prefer });
  const model = loadModel(dir, { kernels });
  console.log(`load ${(performance.now() - t).toFixed(0)} ms, kernels ${model.info.kernels}, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  const text = Array.from({ length: n }, (_, i) => [' the', ' cat', ' sat', ' on', ' a', ' mat', ' and', ' dog'][i % 8]).join('');
  for (let r = 0; r < 3; r++) {
    t = performance.now();
    const tr = await model.trace(text);
    const t1 = performance.now();
    tr.nextTokenStats();
    const t2 = performance.now();
    console.log(`trace ${tr.n} tokens: forward ${(t1 - t).toFixed(0)} ms + next-token stats (logits everywhere) ${(t2 - t1).toFixed(0)} ms, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  }
}
void main();
