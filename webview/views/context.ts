/** What every view gets from the app: the host, the shell, the theme, the current analysis and state helpers. */
import type { AnalysisSummary, EditorPaint, ViewKind, ViewState } from '../../src/protocol/views';
import type { ViewHost } from '../lib/host';
import type { Theme } from '../lib/theme';
import type { Shell } from './shell';

export interface ViewContext {
  readonly kind: ViewKind;
  readonly host: ViewHost;
  readonly shell: Shell;
  theme(): Theme;
  summary(): AnalysisSummary | undefined;
  state(): ViewState;
  /** Merges into the persisted state (small fields only). */
  save(partial: Partial<ViewState>): void;
  paint(paint: EditorPaint): void;
  /** Tells the host a chart finished drawing for the current analysis. */
  drawn(what: string): void;
  /** Runs a host request with progress and error display; resolves undefined when it failed or was superseded. */
  load<T>(label: string, p: Promise<T>): Promise<T | undefined>;
}

export interface ExportData {
  readonly name: string;
  png?(): Promise<string> | string;
  svg?(): string;
  json(): unknown;
}

export interface ViewImpl {
  readonly title: string;
  /** A new analysis (or the first one): redraw from scratch. */
  setSummary(s: AnalysisSummary): void;
  setTheme(): void;
  /** Token indices under the editor cursor. */
  highlight(indices: readonly number[]): void;
  /** The host asks to focus something (e.g. layer/head from the side panel). */
  focus(state: ViewState): void;
  exportData(): ExportData | undefined;
}
