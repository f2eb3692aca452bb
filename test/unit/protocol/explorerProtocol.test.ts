import { describe, expect, it } from 'vitest';
import { explorerProtocol, isExplorerControlsPatch, type ExplorerState } from '../../../src/protocol/explorer';

const env = (body: object) => ({ v: 1, id: 'explorer-1', ...body });

const state: ExplorerState = {
  model: { setting: '/m/stories260K', name: 'stories260K', dir: '/m/stories260K', status: 'installed',
    details: { family: 'llama', architecture: 'LlamaForCausalLM', kind: 'decoder', layers: 5, heads: 8, kvHeads: 4, dModel: 64, vocab: 512, params: 262_144, context: 512, positional: 'rope', kernels: 'portable' } },
  analysis: { document: 'a.txt', range: 'Ln 1, Col 1 – Ln 1, Col 9', tokens: 4, elapsedMs: 12, stale: false, layers: 5, heads: 8 },
  controls: { layer: 0, head: null, aggregation: 'mean', topK: 5, temperature: 1 },
  recent: [{ label: 'a.txt', detail: '4 tokens' }],
  busy: false,
};

describe('explorer protocol', () => {
  it('accepts well-formed intents and state', () => {
    expect(explorerProtocol.isToHost(env({ type: 'explorer/openHead', layer: 1, head: 2 }))).toBe(true);
    expect(explorerProtocol.isToHost(env({ type: 'explorer/setControls', patch: { head: null, aggregation: 'max' } }))).toBe(true);
    expect(explorerProtocol.isToHost(env({ type: 'explorer/reopenRecent', index: 0 }))).toBe(true);
    expect(explorerProtocol.isToWebview(env({ type: 'explorer/state', state }))).toBe(true);
  });

  it.each([
    [{ type: 'explorer/openHead', layer: -1, head: 0 }],
    [{ type: 'explorer/openHead', layer: 1.5, head: 0 }],
    [{ type: 'explorer/openHead', layer: '1', head: 0 }],
    [{ type: 'explorer/setControls', patch: { aggregation: 'sum' } }],
    [{ type: 'explorer/setControls', patch: { temperature: 0 } }],
    [{ type: 'explorer/setControls', patch: { topK: 0 } }],
    [{ type: 'explorer/setControls', patch: { evil: 1 } }],
    [{ type: 'explorer/setControls', patch: 'layer=1' }],
    [{ type: 'explorer/reopenRecent', index: 1e9 }],
    [{ type: 'explorer/unknown' }],
  ])('rejects %j', (body) => {
    expect(explorerProtocol.isToHost(env(body))).toBe(false);
  });

  it('rejects malformed state', () => {
    expect(explorerProtocol.isToWebview(env({ type: 'explorer/state', state: { ...state, busy: 'no' } }))).toBe(false);
    expect(explorerProtocol.isToWebview(env({ type: 'explorer/state', state: { ...state, analysis: { ...state.analysis, tokens: -1 } } }))).toBe(false);
    expect(explorerProtocol.isToWebview(env({ type: 'explorer/state', state: { ...state, controls: { ...state.controls, aggregation: 'x' } } }))).toBe(false);
    expect(isExplorerControlsPatch({})).toBe(true);
  });
});
