// The first view's data (layer 0's attention) streams as a progress event before the other layers run.
import { describe, expect, it } from 'vitest';
import { EngineService, FIRST_VIEW_MAX_TOKENS } from '../../../src/engine/service';
import { modelDir } from '../../support/fixtures';

describe('EngineService first view', () => {
  it('sends layer 0’s pattern right after block 0, equal to the stored pattern', async () => {
    const svc = new EngineService();
    const dir = modelDir('tiny-random-gpt2');
    const events: { stage: string; done: number; partial?: unknown }[] = [];
    const res = await svc.analyze({ dir, text: 'The quick brown fox jumps over the lazy dog.' }, {
      progress: (stage, done, _total, partial) => events.push({ stage, done, partial }),
      isCancelled: () => false,
    });
    const i = events.findIndex((e) => e.stage === 'firstView');
    expect(i).toBeGreaterThan(events.findIndex((e) => e.stage === 'tokenize'));
    expect(i).toBeLessThan(events.findIndex((e) => e.stage === 'layer' && e.done === 1)); // before block 1 runs
    const { layer, shape, pattern } = events[i].partial as { layer: number; shape: number[]; pattern: Float32Array };
    const n = res.tokens.length;
    expect(layer).toBe(0);
    expect(shape).toEqual([3, n, n]);
    const stored = svc.lm(res.traceId).patternLayer(0);
    expect(Array.from(pattern)).toEqual(Array.from(stored));
  });

  it('does not stream it for inputs longer than FIRST_VIEW_MAX_TOKENS', async () => {
    const svc = new EngineService();
    const stages: string[] = [];
    const res = await svc.analyze({ dir: modelDir('stories260K'), text: 'Once upon a time. '.repeat(120) }, { progress: (s) => stages.push(s), isCancelled: () => false });
    expect(res.tokens.length).toBeGreaterThan(FIRST_VIEW_MAX_TOKENS);
    expect(stages).toContain('layer');
    expect(stages).not.toContain('firstView');
  });
});
