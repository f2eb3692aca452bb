/**
 * The everyday workflow: palette commands (Analyze Selection, Continue Text, model management), the hover, the
 * status bar, the side-panel explorer and the context keys — all registered by `registerWorkflow`, which
 * `activate` calls once. Every long run shows a cancellable progress notification; every failure becomes one
 * notification with a way forward (src/ui/errors.ts).
 */
import * as vscode from 'vscode';
import { EngineError } from '../engine/errors';
import { catalogEntry, type ModelStore } from '../models';
import type { Analysis, ExplorerSession, ModelResolver } from '../session/explorerSession';
import { modelStoreFor } from '../session/modelResolver';
import { bindSessionContextKeys, contextKeyValues } from './contextKeys';
import { downloadWithProgress } from './downloads';
import { isCancellation } from './errorActions';
import { showError } from './errors';
import { EXPLORER_VIEW_ID, ExplorerViewProvider } from './explorerView';
import { formatBytes } from './format';
import { AttentionHoverProvider } from './hover';
import { FOCUS_TOKEN_COMMAND, RERUN_COMMAND, type FocusView } from './hoverMarkdown';
import { applyPick, configuredModelSetting, pickAndDownload, removeDownloaded, selectModel, useFolder } from './modelPicker';
import type { PickAction } from './modelPickerItems';
import { StatusBar } from './statusBar';
import { anyViewOpen, openView, viewCommandLog } from './viewCommands';
import { HUB_TOKEN_SECRET, type WorkflowContext } from './workflowContext';

export const COMMANDS = {
  analyzeSelection: 'transformerExplorer.analyzeSelection',
  rerun: RERUN_COMMAND,
  continueText: 'transformerExplorer.continueText',
  selectModel: 'transformerExplorer.selectModel',
  downloadModel: 'transformerExplorer.downloadModel',
  setHubToken: 'transformerExplorer.setHubToken',
  removeModel: 'transformerExplorer.removeDownloadedModel',
  cancel: 'transformerExplorer.cancel',
  focusToken: FOCUS_TOKEN_COMMAND,
} as const;

/** Answers to prompts, set by integration tests (notifications cannot be clicked from the extension host). */
interface TestHooks {
  missingModel?: 'Download' | 'Select Model…' | 'cancel';
}

export interface ContinueArgs {
  readonly tokens?: number;
  readonly mode?: 'greedy' | 'sample';
  readonly seed?: number;
  readonly temperature?: number;
}

export function registerWorkflow(extension: vscode.ExtensionContext, session: ExplorerSession, log: vscode.LogOutputChannel): void {
  const wf: WorkflowContext = { extension, session, log, store: (): ModelStore => modelStoreFor(extension) };
  const hooks: TestHooks = {};
  let running: vscode.CancellationTokenSource | undefined;
  let openedTokensOnce = false;

  const status = new StatusBar(wf);
  const explorer = new ExplorerViewProvider(wf, {
    analyze: () => vscode.commands.executeCommand(COMMANDS.analyzeSelection),
    selectModel: () => vscode.commands.executeCommand(COMMANDS.selectModel),
    rerun: () => vscode.commands.executeCommand(COMMANDS.rerun),
    cancel: () => running?.cancel(),
    openHead: async (layer, head) => {
      session.setControls({ layer, head, aggregation: 'head' });
      await openView('attention', { layer, head });
    },
    reopenRecent: (index) => reopenRecent(index),
  });
  const progressTo = (message: string | undefined) => {
    status.setProgress(message);
    explorer.setProgress(message);
  };

  session.wrapModelResolver((inner) => offerDownloadWhenMissing(wf, inner, () => hooks.missingModel));

  /** Runs one analysis with a cancellable notification; a newer run cancels the older one. */
  async function runAnalysis(document: vscode.TextDocument, range: vscode.Range | undefined, target?: string): Promise<Analysis | undefined> {
    running?.cancel();
    const cts = (running = new vscode.CancellationTokenSource());
    const chars = range && !range.isEmpty ? document.offsetAt(range.end) - document.offsetAt(range.start) : document.getText().length;
    const what = range && !range.isEmpty ? `${chars.toLocaleString('en-US')} characters` : `the whole file (${chars.toLocaleString('en-US')} characters)`;
    try {
      const analysis = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Transformer: analysing ${what}`, cancellable: true },
        async (progress, token) => {
          const sub = token.onCancellationRequested(() => cts.cancel());
          let done = 0;
          try {
            return await session.analyze({
              document, range, target, token: cts.token,
              onProgress: (message, fraction) => {
                const pct = fraction !== undefined ? fraction * 100 : undefined;
                progress.report({ message, increment: pct !== undefined && pct > done ? pct - done : undefined });
                if (pct !== undefined) done = Math.max(done, pct);
                progressTo(message);
              },
            });
          } finally {
            sub.dispose();
          }
        },
      );
      warnIfTruncated(analysis);
      // Open views refresh themselves from the session; the first analysis opens the Tokens view.
      if (!anyViewOpen() && !openedTokensOnce) {
        openedTokensOnce = true;
        void openView('tokens').catch((e) => log.warn(`Opening the tokens view failed: ${(e as Error).message}`));
      }
      return analysis;
    } catch (e) {
      if (!isCancellation(e)) void showError(e, log, { retry: () => runAnalysis(document, range, target) });
      return undefined;
    } finally {
      if (running === cts) running = undefined;
      cts.dispose();
      progressTo(undefined);
    }
  }

  /** The editor a command means: the active one, or — when a view panel has focus — the analysed or a visible one. */
  function targetEditor(): vscode.TextEditor | undefined {
    const visible = vscode.window.visibleTextEditors.filter((e) => e.document.uri.scheme !== 'output');
    return vscode.window.activeTextEditor ?? visible.find((e) => e.document === session.current?.document) ?? visible[0];
  }

  async function analyzeSelection(): Promise<Analysis | undefined> {
    const editor = targetEditor();
    if (!editor) {
      void vscode.window.showWarningMessage('Open a text file and select the text to analyse (or select nothing to analyse the whole file).');
      return undefined;
    }
    const sel = editor.selection;
    return runAnalysis(editor.document, sel.isEmpty ? undefined : new vscode.Range(sel.start, sel.end));
  }

  async function rerun(): Promise<Analysis | undefined> {
    const a = session.current;
    if (!a) return analyzeSelection();
    const doc = a.document;
    const end = Math.min(a.range.endOffset, doc.getText().length);
    return runAnalysis(doc, new vscode.Range(doc.positionAt(Math.min(a.range.startOffset, end)), doc.positionAt(end)));
  }

  async function reopenRecent(index: number): Promise<Analysis | undefined> {
    const r = session.recent[index];
    if (!r) return undefined;
    try {
      const doc = await vscode.workspace.openTextDocument(r.uri);
      const editor = await vscode.window.showTextDocument(doc, { preview: false });
      const len = doc.getText().length;
      const range = new vscode.Range(doc.positionAt(Math.min(r.startOffset, len)), doc.positionAt(Math.min(r.endOffset, len)));
      editor.selection = new vscode.Selection(range.start, range.end);
      return runAnalysis(doc, range.isEmpty ? undefined : range);
    } catch (e) {
      void showError(e, log);
      return undefined;
    }
  }

  async function continueText(args: ContinueArgs = {}): Promise<{ document: vscode.TextDocument; newText: string; analysis?: Analysis } | undefined> {
    const editor = targetEditor();
    if (!editor) {
      void vscode.window.showWarningMessage('Open a text file and select the text to continue (or select nothing to continue the whole file).');
      return undefined;
    }
    const sel = editor.selection;
    const maxChars = vscode.workspace.getConfiguration('transformerExplorer').get<number>('maxCharacters') ?? 200_000;
    let text = editor.document.getText(sel.isEmpty ? undefined : sel);
    if (text.length > maxChars) text = text.slice(0, maxChars);
    const tokens = args.tokens ?? Number(await vscode.window.showInputBox({
      title: 'Continue Text (1/2)', prompt: 'How many tokens to generate', value: '20',
      validateInput: (v) => (/^\d+$/.test(v.trim()) && +v >= 1 && +v <= 512 ? undefined : 'A whole number from 1 to 512'),
    }));
    if (!Number.isInteger(tokens) || tokens < 1 || tokens > 512) return undefined;
    let mode = args.mode;
    if (!mode) {
      const picked = await vscode.window.showQuickPick([
        { label: 'Greedy', description: 'always the most likely token (deterministic)', mode: 'greedy' as const },
        { label: 'Sampled', description: `at temperature ${session.controls.temperature} with a seed (reproducible)`, mode: 'sample' as const },
      ], { title: 'Continue Text (2/2)' });
      mode = picked?.mode;
    }
    if (!mode) return undefined;
    let seed = args.seed;
    if (mode === 'sample' && seed === undefined) {
      const s = await vscode.window.showInputBox({ title: 'Continue Text: seed', prompt: 'Seed for sampling (same seed → same text)', value: '0', validateInput: (v) => (/^\d{1,9}$/.test(v.trim()) ? undefined : 'A whole number') });
      if (s === undefined) return undefined;
      seed = Number(s);
    }
    const temperature = mode === 'sample' ? (args.temperature ?? session.controls.temperature) : 0;
    running?.cancel();
    const cts = (running = new vscode.CancellationTokenSource());
    try {
      const gen = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Transformer: generating ${tokens} tokens (${mode === 'greedy' ? 'greedy' : `sampled, seed ${seed}`})`, cancellable: true },
        (progress, token) => {
          const sub = token.onCancellationRequested(() => cts.cancel());
          return session.generate({ text, maxNewTokens: tokens, temperature, seed, token: cts.token, onProgress: (m) => { progress.report({ message: m }); progressTo(m); } })
            .finally(() => sub.dispose());
        },
      );
      if (running === cts) running = undefined;
      // A new untitled document beside the editor: the user's file is never modified. Decoders continue the text
      // itself; encoder-decoders generate a target (e.g. a translation), which the views show beside the source.
      const seq2seq = gen.kind === 'encoder-decoder';
      const document = await vscode.workspace.openTextDocument({ content: seq2seq ? text : text + gen.newText, language: editor.document.languageId });
      await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: false });
      if (seq2seq) void vscode.window.showInformationMessage(`Generated target: ${gen.newText.slice(0, 200)}`);
      const analysis = await runAnalysis(document, undefined, seq2seq ? gen.newText : undefined);
      return { document, newText: gen.newText, analysis };
    } catch (e) {
      if (!isCancellation(e)) void showError(e, log);
      return undefined;
    } finally {
      if (running === cts) running = undefined;
      cts.dispose();
      progressTo(undefined);
    }
  }

  async function setHubToken(value?: string): Promise<boolean> {
    const token = value ?? (await vscode.window.showInputBox({
      title: 'Hugging Face access token', password: true, ignoreFocusOut: true,
      prompt: 'Needed only for gated or private models. Stored in VS Code\'s secret storage; sent only to the Hub endpoint. Leave empty to remove it.',
      placeHolder: 'hf_…',
    }));
    if (token === undefined) return false;
    if (token.trim() === '') {
      await extension.secrets.delete(HUB_TOKEN_SECRET);
      void vscode.window.showInformationMessage('Hugging Face token removed.');
    } else {
      await extension.secrets.store(HUB_TOKEN_SECRET, token.trim());
      void vscode.window.showInformationMessage('Hugging Face token saved in secret storage.');
    }
    return true;
  }

  async function focusToken(arg?: { view?: FocusView; index?: number }): Promise<boolean> {
    const view = arg?.view ?? 'attention';
    const index = Number.isInteger(arg?.index) ? arg?.index : undefined;
    if (!['tokens', 'attention', 'predictions'].includes(view)) return false;
    if (index !== undefined) session.focus(index);
    const c = session.controls;
    return openView(view, { token: index, layer: c.layer, head: c.head });
  }

  extension.subscriptions.push(
    status,
    explorer,
    bindSessionContextKeys(session),
    vscode.window.registerWebviewViewProvider(EXPLORER_VIEW_ID, explorer),
    vscode.languages.registerHoverProvider('*', new AttentionHoverProvider(session)),
    vscode.commands.registerCommand(COMMANDS.analyzeSelection, analyzeSelection),
    vscode.commands.registerCommand(COMMANDS.rerun, rerun),
    vscode.commands.registerCommand(COMMANDS.continueText, continueText),
    vscode.commands.registerCommand(COMMANDS.selectModel, () => selectModel(wf)),
    vscode.commands.registerCommand(COMMANDS.downloadModel, () => pickAndDownload(wf)),
    vscode.commands.registerCommand(COMMANDS.setHubToken, setHubToken),
    vscode.commands.registerCommand(COMMANDS.removeModel, (repoId?: string) => removeDownloaded(wf, typeof repoId === 'string' ? repoId : undefined)),
    vscode.commands.registerCommand(COMMANDS.cancel, () => running?.cancel()),
    vscode.commands.registerCommand(COMMANDS.focusToken, focusToken),
    // Internal (hidden from the palette): what integration tests need to see and do without clicking.
    vscode.commands.registerCommand('transformerExplorer.internal.workflowState', () => ({
      contextKeys: Object.fromEntries(contextKeyValues),
      viewCalls: [...viewCommandLog],
      explorer: explorer.state(),
      explorerReady: explorer.ready,
      statusCount: status.count,
      storageDir: wf.store().deps.storageDir,
    })),
    vscode.commands.registerCommand('transformerExplorer.internal.explorerMessage', (raw: unknown) => explorer.receiveRaw(raw)),
    vscode.commands.registerCommand('transformerExplorer.internal.setTestHooks', (h: TestHooks) => Object.assign(hooks, h)),
    vscode.commands.registerCommand('transformerExplorer.internal.applyModelPick', (action: PickAction) => applyPick(wf, action)),
    vscode.commands.registerCommand('transformerExplorer.internal.useModelFolder', (dir: string) => useFolder(wf, dir)),
    vscode.commands.registerCommand('transformerExplorer.internal.nextStatusCount', () => status.nextCount()),
  );
}

function warnIfTruncated(a: Analysis): void {
  const t = a.truncation;
  if (!t) return;
  const why = t.reason === 'tokens'
    ? `the model's limit of ${a.result.tokens.length} tokens (the text has ${t.totalTokens})`
    : `the limit of ${t.analysedChars.toLocaleString('en-US')} characters (transformerExplorer.maxCharacters)`;
  void vscode.window.showWarningMessage(
    `Only the first ${t.analysedChars.toLocaleString('en-US')} of ${t.totalChars.toLocaleString('en-US')} characters were analysed (${a.result.tokens.length} tokens): the text is longer than ${why}. Select a shorter part to see the rest.`,
    'Open Settings',
  ).then((b) => (b ? vscode.commands.executeCommand('workbench.action.openSettings', 'transformerExplorer.max') : undefined));
}

/**
 * Wraps model resolution: when the configured Hub model is not installed, offer to download it (or pick another),
 * then continue the same analysis with it.
 */
function offerDownloadWhenMissing(wf: WorkflowContext, inner: ModelResolver, testAnswer: () => TestHooks['missingModel']): ModelResolver {
  return async (token) => {
    try {
      return await inner(token);
    } catch (e) {
      if (!(e instanceof EngineError) || e.code !== 'MISSING_FILE') throw e;
      const store = wf.store();
      const setting = configuredModelSetting();
      const r = store.resolve(setting);
      if (r.status !== 'not-installed') throw e;
      const entry = catalogEntry(r.ref.repoId);
      if (entry && !entry.downloadable) throw new EngineError('MISSING_FILE', `The model "${setting}" is not installed, and it cannot be downloaded as published.`, entry.note);
      const size = entry ? ` (about ${formatBytes(entry.approxBytes)})` : '';
      const answer = testAnswer() ?? (await vscode.window.showWarningMessage(
        `The model "${setting}" is not installed. Download it${size} from ${store.endpoint()}? It goes to the extension's storage; your Hugging Face cache is not changed.`,
        'Download', 'Select Model…'));
      if (answer === 'Download') {
        const explicitRevision = setting.includes('@') ? r.ref.revision : undefined;
        await downloadWithProgress(store, r.ref.repoId, explicitRevision);
        return inner(token);
      }
      if (answer === 'Select Model…') {
        if (await selectModel(wf)) return inner(token);
      }
      throw new EngineError('CANCELLED', 'No model was chosen.');
    }
  };
}
