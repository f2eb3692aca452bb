/**
 * Every reference case of every fixture model, run through the worker pool exactly as the extension runs it
 * (analyze → export), compared with the float64 reference: ids/tokens/offsets exact, logits and residuals within
 * 1e-4, attention within 5e-5, top-5 ids equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient } from '../../../src/engine-host/client';
import { EnginePool } from '../../../src/engine-host/pool';
import { buildWorkerForTests } from '../../support/buildWorker';
import { loadCases, modelDir, readReferenceTensors, REFERENCE_MODELS } from '../../support/fixtures';
import { attnRows, checkClose, checkLogits, checkTop5, DiffTable, ref } from '../engine/forwardReference';

let pool: EnginePool;
let client: EngineClient;
const table = new DiffTable();
beforeAll(async () => {
  pool = new EnginePool({ workerScript: await buildWorkerForTests() });
  client = new EngineClient(pool);
});
afterAll(async () => {
  console.log(table.format('through the worker pool'));
  await pool.dispose();
});

describe.each(REFERENCE_MODELS)('%s through the worker pool', (model) => {
  it.each(loadCases(model).map((c) => [c.name, c] as const))('case %s', async (_name, c) => {
    const want = readReferenceTensors(model, c.name);
    const r = await client.analyze({ dir: modelDir(model), text: c.text, target: c.target_text });
    expect(r.tokens.map((t) => t.id)).toEqual(c.input_ids);
    expect(r.tokens.map((t) => t.token)).toEqual(c.tokens);
    expect(r.tokens.map((t) => [t.start, t.end])).toEqual(c.offsets);
    if (c.decoder_input_ids) {
      expect(r.targetTokens!.map((t) => t.id)).toEqual(c.decoder_input_ids);
      expect(r.targetTokens!.map((t) => t.token)).toEqual(c.decoder_tokens);
    }
    const out = await client.exportTrace(r.traceId, c.logits_positions);
    const got = new Map(out.tensors.map((t) => [t.name, t]));
    for (const [name, shape] of Object.entries(c.tensors)) {
      const w = ref(want, name);
      const g = got.get(name);
      expect(g, `${c.name}: ${name} exported`).toBeDefined();
      if (name === 'logits') {
        expect(g!.shape).toEqual(shape);
        checkLogits(table, model, g!.data, w, `${c.name} ${name}`);
      } else if (/attn/.test(name)) {
        const [heads, n, nk] = g!.shape;
        checkClose(table, model, 'attn', attnRows(g!.data, heads, n, nk, c.attn_query_positions), w, `${c.name} ${name}`);
      } else {
        expect(g!.shape).toEqual(shape);
        checkClose(table, model, 'resid', g!.data, w, `${c.name} ${name}`);
      }
    }
    const top = out.json.top_next as { id: number; token: string; prob: number }[][] | undefined;
    c.top_next?.forEach((w, p) => checkTop5(table, model, top![p], w, `${c.name} top_next@${p}`));
    const masks = out.json.top_mask as { position: number; top5: { id: number; token: string; prob: number }[] }[] | undefined;
    c.top_mask?.forEach((m) => checkTop5(table, model, masks!.find((x) => x.position === m.position)!.top5, m.top5, `${c.name} top_mask@${m.position}`));
  });
});
