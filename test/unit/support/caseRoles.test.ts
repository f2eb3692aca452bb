import { describe, expect, it } from 'vitest';
import { pickCase } from '../../support/caseRoles';
import { loadCases, REFERENCE_MODELS } from '../../support/fixtures';

describe('pickCase (tests survive a reference set with other case names)', () => {
  it('picks, by role, the very case each name stands for in the shipped sets', () => {
    const wanted: Record<string, string[]> = {
      'stories260K': ['short_english', 'greedy_prompt', 'long', 'unicode_emoji'],
      'tiny-random-gpt2': ['unicode_emoji'],
      'tiny-random-bert': ['mask_short'],
      'tiny-random-marian': ['short_english'],
      'tiny-random-t5': ['short_english'],
    };
    for (const model of REFERENCE_MODELS) {
      const cases = loadCases(model);
      const renamed = cases.map((c) => ({ ...c, name: `${c.name}_2` }));
      for (const name of wanted[model] ?? []) {
        expect(pickCase(cases, name).name, `${model} ${name}`).toBe(name);
        expect(pickCase(renamed, name).name, `${model} ${name} by role`).toBe(`${name}_2`);
      }
    }
  });
  it('says which names there were when neither the name nor its role is there', () => {
    expect(() => pickCase([{ name: 'a', text: 'x', input_ids: [1] }], 'greedy_prompt')).toThrow(/no case "greedy_prompt".*among a/);
  });
});
