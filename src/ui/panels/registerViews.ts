/**
 * Registers the analysis views: one command per view (ids in ../viewCommands.ts), Clear Highlights, Export Trace,
 * a serializer per view type (restores open views after a restart), and internal commands the tests use.
 * A view command takes `{ token?, layer?, head?, column? }` (the contract of viewCommands.ts); anything else — e.g.
 * the Uri VS Code passes from a context menu — is ignored.
 */
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import type { EngineClient } from '../../engine-host/client';
import { encodeSafetensors } from '../../engine/safetensorsWriter';
import type { ExplorerSession } from '../../session/explorerSession';
import { VIEW_KINDS, type ViewKind, type ViewState } from '../../protocol/views';
import { showError } from '../errors';
import { VIEW_COMMAND_IDS } from '../viewCommands';
import { EditorLinks } from './editorLinks';
import { VIEW_TYPES, ViewPanel, type PanelSnapshot, type ViewPanelDeps } from './viewPanel';

interface ViewCommandArg {
  readonly token?: number;
  readonly layer?: number;
  readonly head?: number;
  readonly column?: 'beside' | 'active';
}

const nat = (x: unknown): number | undefined => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : undefined);

/** Turns a command argument into the view's focus state (only the fields that apply to that view). */
export function focusFor(kind: ViewKind, arg: unknown): Partial<ViewState> | undefined {
  if (typeof arg !== 'object' || arg === null || arg instanceof vscode.Uri) return undefined;
  const a = arg as ViewCommandArg;
  const token = nat(a.token), layer = nat(a.layer), head = nat(a.head);
  const focus: { -readonly [K in keyof ViewState]?: ViewState[K] } = {};
  if (kind === 'attention') {
    if (layer !== undefined) focus.layer = layer;
    if (head !== undefined) { focus.head = head; focus.heads = [head]; focus.aggregation = 'head'; }
    if (token !== undefined) focus.queries = [token];
  }
  return Object.keys(focus).length > 0 ? focus : undefined;
}

export interface ViewTestHooks {
  /** Write exports here instead of asking with a save dialog. */
  exportDir?: string;
}

export function registerViews(context: vscode.ExtensionContext, session: ExplorerSession, engine: () => EngineClient, log: vscode.LogOutputChannel): void {
  const links = new EditorLinks(session);
  const hooks: ViewTestHooks = {};
  let lastExport: string | undefined;

  async function save(name: string, ext: string, bytes: Uint8Array): Promise<vscode.Uri | undefined> {
    const file = `${name}.${ext}`;
    let uri: vscode.Uri | undefined;
    if (hooks.exportDir) uri = vscode.Uri.joinPath(vscode.Uri.file(hooks.exportDir), file);
    else {
      const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? session.current?.document.uri;
      uri = await vscode.window.showSaveDialog({
        defaultUri: base ? vscode.Uri.joinPath(base.scheme === 'file' && !vscode.workspace.workspaceFolders ? vscode.Uri.joinPath(base, '..') : base, file) : undefined,
        filters: { [ext.toUpperCase()]: [ext] },
        saveLabel: 'Export',
      });
    }
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, bytes);
    lastExport = uri.fsPath;
    return uri;
  }

  const deps: ViewPanelDeps = { extensionUri: context.extensionUri, session, links, log, save };

  const show = (kind: ViewKind) => async (arg?: unknown): Promise<boolean> => {
    const column = typeof arg === 'object' && arg !== null && (arg as ViewCommandArg).column === 'active' ? vscode.ViewColumn.Active : undefined;
    const panel = ViewPanel.createOrShow(deps, kind, focusFor(kind, arg), { column });
    const token = typeof arg === 'object' && arg !== null ? nat((arg as ViewCommandArg).token) : undefined;
    await panel.whenReady();
    if (token !== undefined) panel.notify({ type: 'highlight', indices: [token] });
    return true;
  };

  async function exportTrace(): Promise<vscode.Uri | undefined> {
    const a = session.current;
    if (!a) { void vscode.window.showWarningMessage('Nothing is analysed yet. Run "Transformer: Analyze Selection" first.'); return undefined; }
    if (a.range.stale) { void vscode.window.showWarningMessage('The analysed text has changed since the analysis. Re-run it before exporting.'); return undefined; }
    try {
      const exported = await engine().exportTrace(a.result.traceId);
      const stem = a.documentLabel.replace(/[^\w.-]+/g, '_').replace(/\.[^.]*$/, '') || 'trace';
      const json = Buffer.from(JSON.stringify({ ...exported.json, model: a.model.label, file: `${stem}.trace.safetensors` }, null, 1), 'utf8');
      const uri = await save(`${stem}.trace`, 'json', json);
      if (!uri) return undefined;
      await fs.writeFile(uri.fsPath.replace(/\.json$/, '.safetensors'), encodeSafetensors(exported.tensors));
      void vscode.window.showInformationMessage(`Exported the trace to ${vscode.workspace.asRelativePath(uri)} (+ .safetensors).`);
      return uri;
    } catch (e) {
      void showError(e, log);
      return undefined;
    }
  }

  context.subscriptions.push(
    links,
    vscode.commands.registerCommand(VIEW_COMMAND_IDS.tokens, show('tokens')),
    vscode.commands.registerCommand(VIEW_COMMAND_IDS.attention, show('attention')),
    vscode.commands.registerCommand(VIEW_COMMAND_IDS.positional, show('positional')),
    vscode.commands.registerCommand(VIEW_COMMAND_IDS.predictions, show('predictions')),
    vscode.commands.registerCommand(VIEW_COMMAND_IDS.clearHighlights, () => {
      links.clearAll();
      for (const p of ViewPanel.all()) p.notify({ type: 'paintCleared' });
    }),
    vscode.commands.registerCommand(VIEW_COMMAND_IDS.exportTrace, exportTrace),
    ...VIEW_KINDS.map((kind) => vscode.window.registerWebviewPanelSerializer(VIEW_TYPES[kind], {
      deserializeWebviewPanel: async (panel, state) => { ViewPanel.revive(deps, kind, panel, state); },
    })),
    { dispose: () => { for (const p of ViewPanel.all()) p.dispose(); } },
    // ---- for the integration tests (hidden from the palette)
    vscode.commands.registerCommand('transformerExplorer.internal.viewsState', () => ({
      panels: ViewPanel.all().map((p) => p.snapshot) as PanelSnapshot[],
      hovered: links.state.hovered && rangeJson(links.state.hovered),
      painted: links.state.painted.map((p) => ({ ...rangeJson(p.range), bucket: p.bucket, title: p.title })),
      paintLabel: links.state.paintLabel,
      lastExport,
    })),
    vscode.commands.registerCommand('transformerExplorer.internal.viewMessage', (kind: ViewKind, raw: unknown) => {
      const p = ViewPanel.get(kind);
      if (!p) return false;
      p.receiveRaw(raw);
      return true;
    }),
    vscode.commands.registerCommand('transformerExplorer.internal.setViewTestHooks', (h: ViewTestHooks) => Object.assign(hooks, h)),
  );
}

function rangeJson(r: vscode.Range): { start: [number, number]; end: [number, number] } {
  return { start: [r.start.line, r.start.character], end: [r.end.line, r.end.character] };
}
