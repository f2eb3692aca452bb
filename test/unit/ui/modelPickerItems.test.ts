import { describe, expect, it } from 'vitest';
import { CATALOG, type InstalledModel } from '../../../src/models';
import { buildModelPickItems, familyOf, looksLikePath, removableModels } from '../../../src/ui/modelPickerItems';

const installed = (over: Partial<InstalledModel>): InstalledModel => ({
  repoId: 'openai-community/gpt2', commit: 'a'.repeat(40), refs: ['main'], dir: '/cache/models--openai-community--gpt2/snapshots/aaa',
  source: 'hf-cache', sizeBytes: 548_000_000, modelType: 'gpt2', usable: true, missing: [], ...over,
});

describe('model picker items', () => {
  it('lists installed models with family and size, marks the configured one, and skips them in the catalog', () => {
    const items = buildModelPickItems([installed({}), installed({ repoId: 'HuggingFaceTB/SmolLM2-135M', modelType: 'llama', source: 'storage', sizeBytes: 270_000_000, dir: '/g/hub/x' })], CATALOG, 'openai-community/gpt2');
    const gpt2 = items.find((i) => i.label.includes('openai-community/gpt2'))!;
    expect(gpt2.current).toBe(true);
    expect(gpt2.label.startsWith('$(check)')).toBe(true);
    expect(gpt2.description).toBe('gpt2 · 548 MB');
    expect(gpt2.detail).toContain('Hugging Face cache');
    expect(gpt2.action).toEqual({ kind: 'use', setting: 'openai-community/gpt2' });
    const smol = items.find((i) => i.label.includes('SmolLM2'))!;
    expect(smol.description).toBe('llama · 270 MB');
    expect(smol.detail).toContain('downloaded by Transformer Explorer');
    // Installed repos are not offered again for download.
    expect(items.filter((i) => i.action?.kind === 'download').map((i) => (i.action as { repoId: string }).repoId)).not.toContain('openai-community/gpt2');
    // Remove is offered because one model is in our storage.
    expect(items.some((i) => i.action?.kind === 'remove')).toBe(true);
  });

  it('offers every catalog entry by family; non-downloadable ones explain why', () => {
    const items = buildModelPickItems([], CATALOG, '');
    for (const e of CATALOG) {
      const item = items.find((i) => i.description?.includes(e.repoId))!;
      expect(item.description?.startsWith(e.family)).toBe(true);
      if (e.downloadable) expect(item.action).toEqual({ kind: 'download', repoId: e.repoId });
      else {
        expect(item.action?.kind).toBe('unavailable');
        expect(item.detail).toBe(e.note);
      }
    }
    expect(items.some((i) => i.action?.kind === 'remove')).toBe(false);
    expect(items.some((i) => i.action?.kind === 'browse' && i.label.includes('Browse'))).toBe(true);
    expect(items.filter((i) => i.separator).map((i) => i.label)).toEqual(['Installed', 'Download from the Hugging Face Hub', 'Other']);
  });

  it('skips unusable snapshots, de-duplicates cache + storage copies, and shows a configured folder as current', () => {
    const items = buildModelPickItems([installed({ usable: false, missing: ['model.safetensors'] }), installed({ source: 'storage' }), installed({})], [], '/models/stories260K');
    const rows = items.filter((i) => i.action?.kind === 'use');
    expect(rows.map((r) => r.label)).toEqual(['$(check) /models/stories260K', 'openai-community/gpt2']);
  });

  it('maps model types to families and recognises paths', () => {
    expect(familyOf('gpt2')).toBe('gpt2');
    expect(familyOf(undefined, 'LlamaForCausalLM')).toBe('llama');
    expect(familyOf('distilbert')).toBe('bert');
    expect(familyOf(undefined, undefined)).toBeUndefined();
    expect(looksLikePath('/a/b')).toBe(true);
    expect(looksLikePath('~/m')).toBe(true);
    expect(looksLikePath('C:\\m')).toBe(true);
    expect(looksLikePath('org/name')).toBe(false);
    expect(removableModels([installed({}), installed({ source: 'storage' })]).map((m) => m.source)).toEqual(['storage']);
  });
});
