/**
 * Every view on every supported family (the tiny-random fixtures: GPT-2, BERT, Marian, T5, plus stories260K for Llama):
 * each analysis is drawn by all four views, and every slice kind a view can ask for is answered with the right shape
 * (attention per stack and aggregation incl. rollout, the all-heads grid, one head's math, positional tables,
 * predictions, the logit lens for decoders). Token ids/offsets of the analysed text equal the fixture's reference.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Analysis } from '../../../src/session/explorerSession';
import type { AttentionStack } from '../../../src/protocol/views';
import type { PanelSnapshot } from '../../../src/ui/panels/viewPanel';
import { activateExtension, closeAllEditors, waitFor } from '../support/helpers';
import { pickCase } from '../../support/caseRoles';

const REPO = findRepo(__dirname);
const MODELS = process.env.TE_MODELS_DIR ?? path.resolve(REPO, '..', 'shared', 'models');

function findRepo(start: string): string {
  for (let d = start; d !== path.dirname(d); d = path.dirname(d)) {
    const pkg = path.join(d, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'transformer-explorer') return d;
  }
  throw new Error(`no repo above ${start}`);
}

interface RefCase { name: string; text: string; input_ids: number[]; offsets: [number, number][] }
const refCase = (model: string, name: string): RefCase =>
  pickCase(JSON.parse(fs.readFileSync(path.join(MODELS, model, 'reference', 'cases.json'), 'utf8')) as RefCase[], name);

const FAMILIES: { model: string; caseName: string; stacks: AttentionStack[]; positional: string }[] = [
  { model: 'stories260K', caseName: 'unicode_emoji', stacks: ['self'], positional: 'rope' },
  { model: 'tiny-random-gpt2', caseName: 'unicode_emoji', stacks: ['self'], positional: 'learned' },
  { model: 'tiny-random-bert', caseName: 'mask_short', stacks: ['self'], positional: 'learned' },
  { model: 'tiny-random-marian', caseName: 'short_english', stacks: ['encoder', 'decoder', 'cross'], positional: 'sinusoidal' },
  { model: 'tiny-random-t5', caseName: 'short_english', stacks: ['encoder', 'decoder', 'cross'], positional: 'relative_bias' },
];

const viewsState = () => vscode.commands.executeCommand<{ panels: PanelSnapshot[] }>('transformerExplorer.internal.viewsState');

describe('Views on every family', function () {
  this.timeout(300_000);

  before(async () => {
    await activateExtension();
    await closeAllEditors();
  });
  after(async () => {
    await vscode.workspace.getConfiguration('transformerExplorer').update('model', path.join(MODELS, 'stories260K'), vscode.ConfigurationTarget.Global);
    await closeAllEditors();
  });

  for (const f of FAMILIES) {
    it(`${f.model}: all four views draw and every slice answers`, async () => {
      const ref = refCase(f.model, f.caseName);
      await vscode.workspace.getConfiguration('transformerExplorer').update('model', path.join(MODELS, f.model), vscode.ConfigurationTarget.Global);
      const doc = await vscode.workspace.openTextDocument({ content: ref.text, language: 'plaintext' });
      const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(ref.text.length));
      const analysis = await vscode.commands.executeCommand<Analysis | undefined>('transformerExplorer.analyzeSelection');
      assert.ok(analysis, 'analysed');
      assert.deepEqual(analysis.result.tokens.map((t) => t.id), ref.input_ids);
      assert.deepEqual(analysis.result.tokens.map((t) => [t.start, t.end]), ref.offsets);
      assert.equal(analysis.summary.info.positional, f.positional);

      for (const cmd of ['showTokens', 'showAttention', 'showPositionalEncodings', 'showPredictions']) await vscode.commands.executeCommand(`transformerExplorer.${cmd}`);
      const id = analysis.result.traceId;
      const isDrawn = (p?: PanelSnapshot) => !!p && Object.values(p.drawn).some((d) => d.analysisId === id);
      const drawn = await waitFor(async () => {
        const panels = (await viewsState()).panels;
        return ['tokens', 'attention', 'positional', 'predictions'].every((kind) => isDrawn(panels.find((x) => x.kind === kind))) ? panels : undefined;
      }, `${f.model}: every view drawn`, 60_000).catch(async (e) => {
        const panels = (await viewsState()).panels;
        throw new Error(`${(e as Error).message} (analysis ${id}): ${panels.map((p) => `${p.kind} ${isDrawn(p) ? 'drawn' : `not drawn (${p.lastProblem ?? 'no problem logged'}; drawn ${JSON.stringify(p.drawn)})`}`).join('; ')}`);
      });
      for (const p of drawn) assert.equal(p.invalidMessages, 0, `${p.kind} view sent no invalid message`);

      const { session } = await activateExtension();
      const info = analysis.summary.info;
      const n = analysis.result.tokens.length;
      const nt = analysis.result.targetTokens?.length ?? n;
      for (const stack of f.stacks) {
        const nq = stack === 'encoder' || stack === 'self' ? n : nt;
        const nk = stack === 'decoder' ? nt : n;
        const layers = stack === 'encoder' || stack === 'self' ? info.n_layers : (info as { n_decoder_layers?: number }).n_decoder_layers ?? info.n_layers;
        const heads = await session.slice({ slice: 'attention', query: { stack, layer: layers - 1, aggregation: 'head', heads: [0, info.n_heads - 1] } });
        assert.deepEqual([heads.nq, heads.nk, heads.matrices.length], [nq, nk, 2], `${stack} head slice shape`);
        for (let q = 0; q < nq; q++) {
          const row = heads.matrices[1].data.subarray(q * nk, (q + 1) * nk).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(row - 1) < 1e-4, `${stack} row ${q} sums to ${row}`);
        }
        for (const aggregation of ['mean', 'max'] as const) {
          const s = await session.slice({ slice: 'attention', query: { stack, layer: 0, aggregation, heads: Array.from({ length: info.n_heads }, (_, h) => h) } });
          assert.equal(s.matrices[0].data.length, nq * nk);
        }
        if (stack !== 'cross') {
          const roll = await session.slice({ slice: 'attention', query: { stack, layer: layers - 1, aggregation: 'rollout', heads: [] } });
          assert.equal(roll.matrices[0].data.length, nq * nk);
          const math = await session.slice({ slice: 'headMath', stack, layer: 0, head: 0, query: nq - 1 });
          const sum = math.weights.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) < 1e-5, `${stack} head math weights sum to ${sum}`);
          assert.equal(math.z.length, math.dHead);
        }
        const grid = await session.slice({ slice: 'attentionGrid', stack, size: 24 });
        assert.equal(grid.thumbs.length, grid.layers * grid.heads);
      }
      const pos = await session.slice({ slice: 'positional', count: 32 });
      assert.equal(pos.kind, f.positional);
      if (f.positional === 'rope') assert.ok(pos.ropeInvFreq && pos.ropeRelative);
      if (f.positional === 'learned') assert.ok(pos.table && pos.tableSimilarity);
      if (f.positional === 'relative_bias') assert.ok(pos.t5Buckets && pos.t5Bias);
      const pred = await session.slice({ slice: 'predictions', query: { k: 3, temperature: 1 } });
      // the same (memoized) slice again must answer too, with the same numbers
      const again = await session.slice({ slice: 'predictions', query: { k: 3, temperature: 1 } });
      assert.deepEqual([...again.actualProb], [...pred.actualProb]);
      assert.equal(pred.top.length, info.kind === 'encoder-decoder' ? nt : n);
      if (info.kind === 'encoder') assert.ok(pred.masks && pred.masks.length === 1, 'BERT: one [MASK] prediction');
      if (info.kind === 'decoder') {
        const lens = await session.slice({ slice: 'logitLens', k: 3 });
        assert.equal(lens.top.length, info.n_layers + 1);
      }
    });
  }
});
