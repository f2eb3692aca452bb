/**
 * Context keys for `when` clauses in package.json, kept in step with the session: commands that cannot apply are
 * hidden from the palette and menus.
 */
import * as vscode from 'vscode';
import type { ExplorerSession } from '../session/explorerSession';

export const CONTEXT_KEYS = {
  hasAnalysis: 'transformerExplorer.hasAnalysis',
  busy: 'transformerExplorer.busy',
  analysisStale: 'transformerExplorer.analysisStale',
  isMaskedLM: 'transformerExplorer.isMaskedLM',
  isEncoderDecoder: 'transformerExplorer.isEncoderDecoder',
} as const;

/** The values last set, for tests (VS Code has no API to read a context key back). */
export const contextKeyValues = new Map<string, unknown>();

export function setContextKey(key: string, value: unknown): void {
  contextKeyValues.set(key, value);
  void vscode.commands.executeCommand('setContext', key, value);
}

export function bindSessionContextKeys(session: ExplorerSession): vscode.Disposable {
  const sync = () => {
    const a = session.current;
    setContextKey(CONTEXT_KEYS.hasAnalysis, !!a);
    setContextKey(CONTEXT_KEYS.analysisStale, !!a?.range.stale);
    setContextKey(CONTEXT_KEYS.isMaskedLM, a?.summary.info.kind === 'encoder');
    setContextKey(CONTEXT_KEYS.isEncoderDecoder, a?.summary.info.kind === 'encoder-decoder');
  };
  sync();
  setContextKey(CONTEXT_KEYS.busy, session.busy);
  return vscode.Disposable.from(
    session.onDidChangeAnalysis(sync),
    session.onDidBecomeStale(sync),
    session.onDidChangeBusy((b) => setContextKey(CONTEXT_KEYS.busy, b)),
  );
}
