/**
 * The side-panel explorer's channel (webview view `transformerExplorer.explorer`): the host sends the whole small
 * state (model facts, current analysis, shared controls, recent analyses) whenever it changes; the webview sends
 * user intents. Every receive is validated with the tables below.
 */
import {
  commonToHostValidators, commonToWebviewValidators, defineProtocol, isFiniteNumber, isRecord, isShortString,
  type CommonToHost, type CommonToWebview,
} from './webview';
import type { Aggregation } from './views';

export interface ExplorerModelFacts {
  /** `transformerExplorer.model` as configured. */
  readonly setting: string;
  /** Short name (repo id or folder name). */
  readonly name: string;
  /** Where it was loaded from (folder); absent when not installed. */
  readonly dir?: string;
  /** 'installed' | 'not installed' | a problem sentence. */
  readonly status: string;
  /** Known once the model has been loaded by an analysis. */
  readonly details?: {
    readonly family: string; readonly architecture: string; readonly kind: string; readonly layers: number; readonly heads: number;
    readonly kvHeads: number; readonly dModel: number; readonly vocab: number; readonly params: number; readonly context: number;
    readonly positional: string; readonly kernels: string;
  };
}

export interface ExplorerAnalysisFacts {
  readonly document: string;
  /** "Ln 3, Col 1 – Ln 9, Col 12". */
  readonly range: string;
  readonly tokens: number;
  readonly elapsedMs: number;
  readonly stale: boolean;
  /** Set when only part of the text was analysed. */
  readonly truncated?: string;
  readonly layers: number;
  readonly heads: number;
}

export interface ExplorerControls {
  readonly layer: number;
  /** null = all heads (an aggregate). */
  readonly head: number | null;
  readonly aggregation: Aggregation;
  readonly topK: number;
  readonly temperature: number;
}

export interface ExplorerRecent {
  readonly label: string;
  readonly detail: string;
}

export interface ExplorerState {
  readonly model: ExplorerModelFacts;
  readonly analysis?: ExplorerAnalysisFacts;
  readonly controls: ExplorerControls;
  readonly recent: readonly ExplorerRecent[];
  readonly busy: boolean;
  readonly progress?: string;
}

export type ExplorerToWebview = CommonToWebview | { readonly type: 'explorer/state'; readonly state: ExplorerState };

export type ExplorerToHost =
  | CommonToHost
  | { readonly type: 'explorer/analyze' }
  | { readonly type: 'explorer/selectModel' }
  | { readonly type: 'explorer/rerun' }
  | { readonly type: 'explorer/cancel' }
  | { readonly type: 'explorer/loadModel' }
  | { readonly type: 'explorer/openHead'; readonly layer: number; readonly head: number }
  | { readonly type: 'explorer/setControls'; readonly patch: Partial<ExplorerControls> }
  | { readonly type: 'explorer/reopenRecent'; readonly index: number };

export const AGGREGATIONS: readonly Aggregation[] = ['head', 'mean', 'max', 'rollout'];

const isNat = (x: unknown, max = 100_000): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= max;

export function isExplorerControlsPatch(x: unknown): x is Partial<ExplorerControls> {
  if (!isRecord(x)) return false;
  const allowed = new Set(['layer', 'head', 'aggregation', 'topK', 'temperature']);
  if (Object.keys(x).some((k) => !allowed.has(k))) return false;
  if (x.layer !== undefined && !isNat(x.layer, 10_000)) return false;
  if (x.head !== undefined && x.head !== null && !isNat(x.head, 10_000)) return false;
  if (x.aggregation !== undefined && !AGGREGATIONS.includes(x.aggregation as Aggregation)) return false;
  if (x.topK !== undefined && !(isNat(x.topK, 1000) && (x.topK as number) >= 1)) return false;
  if (x.temperature !== undefined && !(isFiniteNumber(x.temperature) && x.temperature > 0 && x.temperature <= 100)) return false;
  return true;
}

function isControls(x: unknown): x is ExplorerControls {
  return isRecord(x) && isNat(x.layer) && (x.head === null || isNat(x.head)) && AGGREGATIONS.includes(x.aggregation as Aggregation) &&
    isNat(x.topK) && isFiniteNumber(x.temperature);
}

export function isExplorerState(x: unknown): x is ExplorerState {
  if (!isRecord(x) || !isRecord(x.model) || !isControls(x.controls) || !Array.isArray(x.recent) || typeof x.busy !== 'boolean') return false;
  const m = x.model;
  if (!isShortString(m.setting, 4096) || !isShortString(m.name, 4096) || !isShortString(m.status, 4096)) return false;
  if (m.dir !== undefined && !isShortString(m.dir, 4096)) return false;
  if (m.details !== undefined) {
    const d = m.details;
    if (!isRecord(d) || !['family', 'architecture', 'kind', 'positional', 'kernels'].every((k) => isShortString(d[k], 200)) ||
      !['layers', 'heads', 'kvHeads', 'dModel', 'vocab', 'params', 'context'].every((k) => isNat(d[k], Number.MAX_SAFE_INTEGER))) return false;
  }
  if (x.analysis !== undefined) {
    const a = x.analysis;
    if (!isRecord(a) || !isShortString(a.document, 4096) || !isShortString(a.range, 200) || !isNat(a.tokens, 10_000_000) ||
      !isFiniteNumber(a.elapsedMs) || typeof a.stale !== 'boolean' || !isNat(a.layers) || !isNat(a.heads) ||
      (a.truncated !== undefined && !isShortString(a.truncated, 1000))) return false;
  }
  if (x.progress !== undefined && !isShortString(x.progress, 1000)) return false;
  return x.recent.length <= 50 && x.recent.every((r) => isRecord(r) && isShortString(r.label, 4096) && isShortString(r.detail, 4096));
}

export const explorerProtocol = defineProtocol<ExplorerToWebview, ExplorerToHost>({
  toWebview: { ...commonToWebviewValidators, 'explorer/state': (m) => isExplorerState(m.state) },
  toHost: {
    ...commonToHostValidators,
    'explorer/analyze': () => true,
    'explorer/selectModel': () => true,
    'explorer/rerun': () => true,
    'explorer/cancel': () => true,
    'explorer/loadModel': () => true,
    'explorer/openHead': (m) => isNat(m.layer, 10_000) && isNat(m.head, 10_000),
    'explorer/setControls': (m) => isExplorerControlsPatch(m.patch),
    'explorer/reopenRecent': (m) => isNat(m.index, 50),
  },
});
