/**
 * What the "Select Model…" quick pick lists, as plain data: installed models (HF cache + our storage, with sizes and
 * family), the curated catalog (marked by family; entries the engine cannot download say why), and the actions
 * (browse a folder, remove a download). Pure, so unit tests check the list without VS Code.
 */
import type { CatalogEntry, InstalledModel } from '../models';
import { formatBytes } from './format';

export type PickAction =
  | { readonly kind: 'use'; readonly setting: string }
  | { readonly kind: 'download'; readonly repoId: string }
  | { readonly kind: 'unavailable'; readonly repoId: string; readonly note: string }
  | { readonly kind: 'browse' }
  | { readonly kind: 'remove' };

export interface PickItem {
  readonly label: string;
  readonly description?: string;
  readonly detail?: string;
  /** Separator rows have no action. */
  readonly separator?: boolean;
  readonly action?: PickAction;
  /** The configured model (marked with a check). */
  readonly current?: boolean;
}

/** HF `model_type` / architecture → the families the engine knows, for labels. */
export function familyOf(modelType?: string, architecture?: string): string | undefined {
  const t = (modelType ?? architecture ?? '').toLowerCase();
  if (!t) return undefined;
  if (t.includes('gpt2')) return 'gpt2';
  if (t.includes('llama') || t.includes('mistral') || t.includes('qwen')) return 'llama';
  if (t.includes('bert')) return 'bert';
  if (t.includes('marian')) return 'marian';
  if (t.includes('t5')) return 't5';
  return t;
}

const sourceLabel: Record<InstalledModel['source'], string> = { 'hf-cache': 'Hugging Face cache', storage: 'downloaded by Transformer Explorer' };

function sameModel(setting: string, repoId: string): boolean {
  const s = setting.trim().toLowerCase();
  const bare = s.split('@')[0];
  return bare === repoId.toLowerCase();
}

export function buildModelPickItems(installed: readonly InstalledModel[], catalog: readonly CatalogEntry[], configured: string): PickItem[] {
  const items: PickItem[] = [];
  const usable = installed.filter((m) => m.usable);
  // One row per repo: the same model may be in the HF cache and in our storage; the resolver prefers the cache.
  const seen = new Set<string>();
  const installedRows: PickItem[] = [];
  for (const m of usable) {
    const key = m.repoId.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const family = familyOf(m.modelType, m.architecture);
    const current = sameModel(configured, m.repoId);
    installedRows.push({
      label: `${current ? '$(check) ' : ''}${m.repoId}`,
      description: [family, formatBytes(m.sizeBytes)].filter(Boolean).join(' · '),
      detail: `${sourceLabel[m.source]}: ${m.dir}`,
      action: { kind: 'use', setting: m.repoId },
      current,
    });
  }
  // A configured local folder is "installed" too.
  if (configured && !usable.some((m) => sameModel(configured, m.repoId)) && looksLikePath(configured)) {
    installedRows.unshift({ label: `$(check) ${configured}`, description: 'local folder', action: { kind: 'use', setting: configured }, current: true });
  }
  items.push({ label: 'Installed', separator: true });
  if (installedRows.length > 0) items.push(...installedRows);
  else items.push({ label: '$(info) No models installed yet', description: 'download one below, or browse to a folder', action: { kind: 'browse' } });

  items.push({ label: 'Download from the Hugging Face Hub', separator: true });
  for (const e of catalog) {
    if (seen.has(e.repoId.toLowerCase())) continue;
    const current = sameModel(configured, e.repoId);
    items.push(e.downloadable
      ? {
        label: `${current ? '$(check) ' : '$(cloud-download) '}${e.label}`,
        description: `${e.family} · ${e.repoId} · ~${formatBytes(e.approxBytes)}`,
        detail: e.description,
        action: { kind: 'download', repoId: e.repoId },
        current,
      }
      : {
        label: `$(circle-slash) ${e.label}`,
        description: `${e.family} · ${e.repoId} · not downloadable`,
        detail: e.note ?? e.description,
        action: { kind: 'unavailable', repoId: e.repoId, note: e.note ?? 'The engine cannot use this repository as published.' },
      });
  }

  items.push({ label: 'Other', separator: true });
  items.push({ label: '$(folder-opened) Browse local folder…', detail: 'A folder with config.json, tokenizer.json and model.safetensors', action: { kind: 'browse' } });
  if (installed.some((m) => m.source === 'storage')) {
    items.push({ label: '$(trash) Remove a downloaded model…', action: { kind: 'remove' } });
  }
  return items;
}

/** Models in our own storage, the only ones "Remove" may delete (the HF cache belongs to other tools). */
export function removableModels(installed: readonly InstalledModel[]): InstalledModel[] {
  return installed.filter((m) => m.source === 'storage');
}

export function looksLikePath(value: string): boolean {
  return /^([/~.]|[A-Za-z]:[\\/]|file:)/.test(value.trim());
}
