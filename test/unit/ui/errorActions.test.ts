import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/engine/errors';
import { ModelStoreError } from '../../../src/models';
import { isCancellation, presentError } from '../../../src/ui/errorActions';

describe('error presentation', () => {
  it('joins message and hint into one sentence pair', () => {
    const p = presentError(new EngineError('BAD_CONFIG', 'config.json is broken', 'Pick another model.'));
    expect(p.message).toBe('config.json is broken. Pick another model.');
    expect(p.actions).toEqual(['Select Model…', 'Open Settings']);
    expect(p.setting).toBe('transformerExplorer.model');
  });

  it.each([
    [new ModelStoreError('AUTH_REQUIRED', 'gated'), ['Set Hugging Face Token…', 'Select Model…']],
    [new ModelStoreError('NETWORK', 'down'), ['Retry', 'Open Settings']],
    [new ModelStoreError('INTEGRITY', 'bad sha'), ['Retry']],
    [new ModelStoreError('INCOMPLETE_MODEL', 'missing', undefined, ['tokenizer.json']), ['Select Model…', 'Open Settings']],
    [new EngineError('UNSUPPORTED_MODEL', 'GPT-Neo'), ['Select Model…', 'Open Settings']],
    [new EngineError('WORKER_CRASHED', 'died'), ['Retry', 'Show Log']],
    [new EngineError('BAD_INPUT', 'binary'), []],
  ])('%s → %j', (e, actions) => {
    expect(presentError(e).actions).toEqual(actions);
  });

  it('offers Download for a model that is not installed only when there is a repo to download', () => {
    const e = new EngineError('MISSING_FILE', 'The model "x/y" is not installed.');
    expect(presentError(e, { notInstalledRepo: 'x/y' }).actions).toEqual(['Download', 'Select Model…']);
    expect(presentError(e).actions).toEqual(['Select Model…', 'Open Settings']);
  });

  it('treats cancellation as quiet and unknown errors as errors with the log', () => {
    expect(isCancellation(new EngineError('CANCELLED', 'x'))).toBe(true);
    expect(isCancellation(new ModelStoreError('CANCELLED', 'x'))).toBe(true);
    expect(presentError(new ModelStoreError('CANCELLED', 'x')).severity).toBe('info');
    const p = presentError(new TypeError('boom'));
    expect(p.severity).toBe('error');
    expect(p.actions).toEqual(['Show Log']);
  });
});
