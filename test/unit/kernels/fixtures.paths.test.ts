// The decoder-only fixture comparisons (stories260K, tiny-random-gpt2) on every kernel path, through the engine
// facade, against the float64 references: logits, every layer's attention (float32 and uint16-stored) and residual,
// top-5 next tokens (per position and all at once), next-token rank and probability, and the greedy continuation. (test/unit/engine/forward.fixtures.test.ts covers every model on one path; run it with
// TE_KERNELS=<path> for the rest.)
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../src/engine/model';
import { KERNEL_PATHS, tryKernels } from '../../../src/engine/kernels/select';
import type { Kernels } from '../../../src/engine/kernels/types';
import { loadCases, modelDir, readReferenceTensors } from '../../support/fixtures';
import { attnRows, checkClose, checkLogits, checkNextTokenRanks, checkTop5, DiffTable, ref } from '../engine/forwardReference';

const diffs = new DiffTable();
afterAll(() => console.log(diffs.format('per kernel path')));

const paths = KERNEL_PATHS.flatMap((path) => {
  const k = tryKernels(path, 2);
  if (typeof k === 'string') {
    console.warn(`fixture comparisons on kernel path ${path} skipped: ${k}`);
    return [];
  }
  k.dispose?.();
  // ONNX Runtime runs GPT-2's blocks fused (Kernels.packBlock); 'onnx-per-op' keeps its per-op path covered too.
  return path === 'onnx' ? [path, 'onnx-per-op' as const] : [path];
});

/** The path's kernels; 'onnx-per-op' is ONNX Runtime without block fusion. */
function kernelsFor(path: (typeof paths)[number]): Kernels | string {
  if (path !== 'onnx-per-op') return tryKernels(path, 2);
  const k = tryKernels('onnx', 2);
  if (typeof k === 'string') return k;
  return new Proxy(k, {
    get: (target, prop, recv) => (prop === 'packBlock' || prop === 'blockFusable' || prop === 'restoreBlock' ? undefined : Reflect.get(target, prop, recv)),
  });
}

describe.each(paths)('kernel path %s', (path) => {
  describe.each(['stories260K', 'tiny-random-gpt2'])('%s', (name) => {
    it.each(loadCases(name).map((c) => [c.name, c] as const))('case %s matches the reference', async (_, c) => {
      const kernels = kernelsFor(path);
      if (typeof kernels === 'string') throw new Error(kernels);
      const model = loadModel(modelDir(name), { kernels });
      try {
        expect(model.info.kernels).toBe(kernels.name);
        // Both models' blocks run fused on ONNX Runtime (GPT-2: LayerNorm, GELU; stories260K: RMSNorm, RoPE, GQA, SwiGLU).
        expect(model.loaded.fused?.size ?? 0).toBe(path === 'onnx' ? model.info.n_layers : 0);
        const t = await model.trace(c.text);
        expect(t.tokens.ids).toEqual(c.input_ids);
        const tensors = readReferenceTensors(name, c.name);
        const label = `${name}@${path}`;
        checkLogits(diffs, label, t.logitsAt(c.logits_positions), ref(tensors, 'logits'), c.name);
        for (let l = 0; l < t.nLayers; l++) {
          checkClose(diffs, label, 'attn', attnRows(t.patternLayer(l), t.nHeads, t.n, t.n, c.attn_query_positions), ref(tensors, `attn.${l}`), `${c.name} attn.${l}`);
          checkClose(diffs, label, 'resid', t.resid(l), ref(tensors, `resid.${l}`), `${c.name} resid.${l}`);
        }
        checkClose(diffs, label, 'resid', t.finalHidden, ref(tensors, 'resid.final'), `${c.name} resid.final`);
        c.top_next?.forEach((want, p) => checkTop5(diffs, label, t.topK(p, 5), want, `${c.name} top_next[${p}]`));
        // The views' path: top-5 at every position in one pass (natively summarised where the kernels can, e.g.
        // ONNX Runtime with GPT-2's 50,257-token vocabulary), and the actual next token's rank and probability.
        const every = t.topKEverywhere(5);
        c.top_next?.forEach((want, p) => checkTop5(diffs, label, every[p], want, `${c.name} topKEverywhere[${p}]`));
        checkNextTokenRanks(t.nextTokenStats(), c);
        // Long inputs keep uint16 patterns (written packed by kernels that can): still within the attention tolerance.
        const q = await model.trace(c.text, { patternPrecision: 'u16' });
        for (let l = 0; l < q.nLayers; l++) {
          checkClose(diffs, `${label} u16`, 'attn', attnRows(q.patternLayer(l), q.nHeads, q.n, q.n, c.attn_query_positions), ref(tensors, `attn.${l}`), `${c.name} u16 attn.${l}`);
        }
        if (c.generate_greedy) {
          const g = await model.generateFromIds(c.generate_greedy.prompt_ids, { maxNewTokens: c.generate_greedy.new_ids.length });
          expect(g.newIds).toEqual(c.generate_greedy.new_ids);
        }
      } finally {
        model.dispose();
      }
    });
  });
});
