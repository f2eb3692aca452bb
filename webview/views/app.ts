/**
 * Starts one view: builds the shell, wires linking (token hover/reveal → host), theme changes, persisted state,
 * export and progress, and hands analysis summaries and editor-cursor highlights to the view.
 */
import type { AnalysisSummary, EditorPaint, ViewKind, ViewState } from '../../src/protocol/views';
import { sliceToJson } from '../lib/export';
import type { ViewHost } from '../lib/host';
import { onThemeChange, readTheme, type Theme } from '../lib/theme';
import { SupersededError } from '../lib/vscodeHost';
import { AttentionView } from './attentionView';
import type { ViewContext, ViewImpl } from './context';
import { PositionalView } from './positionalView';
import { PredictionsView } from './predictionsView';
import { Shell } from './shell';
import { TokensView } from './tokensView';

const TITLES: Record<ViewKind, string> = { tokens: 'Tokens', attention: 'Attention', positional: 'Positional encodings', predictions: 'Next-token predictions' };

export function startView(kind: ViewKind, host: ViewHost, root: HTMLElement): { view: ViewImpl; ctx: ViewContext } {
  let theme: Theme = readTheme();
  let summary: AnalysisSummary | undefined;
  let state: ViewState = { ...(host.getState() ?? {}), view: kind };

  const shell = new Shell(TITLES[kind], {
    onRerun: () => host.notify({ type: 'rerun' }),
    onClearPaint: () => { host.notify({ type: 'clearPaint' }); shell.showPaint(undefined); },
    onExport: (format) => void exportChart(format),
  });
  root.append(shell.el);
  document.body.dataset.view = kind;

  const ctx: ViewContext = {
    kind, host, shell,
    theme: () => theme,
    summary: () => summary,
    state: () => state,
    save: (partial) => { state = { ...state, ...partial, view: kind }; host.setState(state); },
    paint: (paint: EditorPaint) => { host.notify({ type: 'paint', paint }); shell.showPaint(paint.label); },
    drawn: (what: string) => { if (summary) host.notify({ type: 'drawn', what, analysisId: summary.analysisId }); },
    load: async <T>(label: string, p: Promise<T>) => {
      try {
        const v = await shell.progress.track(label, p);
        shell.showError(undefined);
        return v;
      } catch (e) {
        if (!(e instanceof SupersededError)) {
          const message = e instanceof Error ? e.message : String(e);
          shell.showError(message);
          host.log('warn', `${label} failed: ${message}`);
        }
        return undefined;
      }
    },
  };

  const view: ViewImpl = kind === 'tokens' ? new TokensView(ctx) : kind === 'attention' ? new AttentionView(ctx) : kind === 'positional' ? new PositionalView(ctx) : new PredictionsView(ctx);

  async function exportChart(format: 'png' | 'svg' | 'json'): Promise<void> {
    const ex = view.exportData();
    if (!ex) { shell.showError('Nothing to export yet.'); return; }
    try {
      const data = format === 'json' ? sliceToJson(ex.json()) : format === 'svg' ? ex.svg?.() : await ex.png?.();
      if (!data) { shell.showError(`This view has no ${format.toUpperCase()} chart; try ${format === 'json' ? 'PNG' : 'JSON'}.`); return; }
      host.notify({ type: 'export', format, data, name: ex.name });
    } catch (e) {
      shell.showError(e instanceof Error ? e.message : String(e));
    }
  }

  // Linking: every token element in any view emits these; the host maps offsets to editor ranges.
  root.addEventListener('te-token-hover', (e) => {
    const d = (e as CustomEvent<{ start: number; end: number; editor?: boolean }>).detail;
    const notEditor = (e.target as HTMLElement).closest?.('[data-editor="false"]');
    if (d.end > d.start) host.notify({ type: 'hoverToken', start: d.start, end: d.end, editor: !notEditor && d.editor !== false });
  });
  root.addEventListener('te-token-leave', () => host.notify({ type: 'leaveToken' }));
  root.addEventListener('te-token-reveal', (e) => {
    const d = (e as CustomEvent<{ start: number; end: number }>).detail;
    const notEditor = (e.target as HTMLElement).closest?.('[data-editor="false"]');
    if (d.end > d.start && !notEditor) host.notify({ type: 'revealToken', start: d.start, end: d.end, editor: true });
  });

  host.onNotice((n) => {
    switch (n.type) {
      case 'summary': summary = n.summary; shell.setSummary(n.summary); view.setSummary(n.summary); break;
      case 'stale': shell.setStale(n.stale); break;
      case 'highlight': view.highlight(n.indices); break;
      case 'progress':
        if (n.finished) shell.progress.end(); else { shell.progress.begin(n.label); shell.progress.update(n.label, n.done, n.total); }
        break;
      case 'focus': state = { ...state, ...n.state, view: kind }; view.focus(state); break;
      case 'error': shell.showError(n.message); break;
      case 'paintCleared': shell.showPaint(undefined); break;
      default: { const never: never = n; void never; }
    }
  });

  onThemeChange(() => { theme = readTheme(); view.setTheme(); });
  return { view, ctx };
}
