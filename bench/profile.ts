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
  const inner = selectKernels({ prefer });
  // Time spent in each kernel method (matmul split by whether b is an adopted/packed weight: length 0 or large).
  const spent = new Map<string, number>();
  const kernels = new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== 'function' || prop === 'prepareWeight' || prop === 'packWeight') return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        const key = String(prop) + (prop === 'matmulT' || prop === 'matmul' ? ((args[1] as Float32Array).length === 0 ? ' (weight)' : ` (m=${args[2] === 1 ? '1' : '>1'}, n=${(args[4] as number) > 10000 ? 'vocab' : 'small'})`) : '');
        spent.set(key, (spent.get(key) ?? 0) + performance.now() - t0);
        return r;
      };
    },
  });
  const model = loadModel(dir, { kernels });
  console.log(`load ${(performance.now() - t).toFixed(0)} ms, kernels ${model.info.kernels}, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  (globalThis as { gc?: () => void }).gc?.();
  console.log(`rss after gc ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB, external ${(process.memoryUsage().arrayBuffers / 1e6).toFixed(0)} MB`);
  const text = Array.from({ length: n }, (_, i) => [' the', ' cat', ' sat', ' on', ' a', ' mat', ' and', ' dog'][i % 8]).join('');
  for (let r = 0; r < 3; r++) {
    t = performance.now();
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const tr = await model.trace(text);
    const t1 = performance.now();
    const f1 = process.resourceUsage().minorPageFault;
    tr.topKEverywhere(5);
    const t2 = performance.now();
    console.log([...spent].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' | '));
    spent.clear();
    const c = process.cpuUsage(c0);
    console.log(`trace ${tr.n} tokens: forward ${(t1 - t).toFixed(0)} ms + top-5 + next-token stats everywhere ${(t2 - t1).toFixed(0)} ms (${process.resourceUsage().minorPageFault - f1} page faults), rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB, ${process.resourceUsage().minorPageFault - f0} page faults, cpu user ${(c.user / 1e3).toFixed(0)} ms sys ${(c.system / 1e3).toFixed(0)} ms`);
  }
}
void main();
