/**
 * Hover attention: over a token of a fresh analysed range, a compact Markdown summary answered from the cached
 * trace in the worker (no model run). Over stale analysed text, one line offering a re-run; anywhere else, nothing.
 */
import * as vscode from 'vscode';
import type { ExplorerSession } from '../session/explorerSession';
import { buildHoverMarkdown, HOVER_COMMANDS, staleHoverMarkdown, type HoverModel } from './hoverMarkdown';

export class AttentionHoverProvider implements vscode.HoverProvider {
  constructor(private readonly session: ExplorerSession) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const a = this.session.current;
    if (!a || a.document !== document) return undefined;
    if (!vscode.workspace.getConfiguration('transformerExplorer', document).get<boolean>('hover.enabled', true)) return undefined;
    if (a.range.stale) {
      const offset = document.offsetAt(position);
      return offset >= a.range.startOffset && offset <= a.range.endOffset ? new vscode.Hover(trusted(staleHoverMarkdown())) : undefined;
    }
    const h = await this.session.hoverAt(document, position).catch(() => undefined);
    // The analysis may have changed while the worker answered: only show what still matches.
    if (!h || h.analysis !== this.session.current || h.analysis.range.stale) return undefined;
    const tokens = h.analysis.result.tokens;
    const info = h.info;
    const c = this.session.controls;
    const model: HoverModel = {
      index: info.position,
      count: tokens.length,
      token: info.token,
      sourceText: h.analysis.range.text.slice(info.token.start, info.token.end),
      layer: info.layer,
      nLayers: h.analysis.summary.info.n_layers,
      head: info.head,
      aggregation: c.aggregation,
      attended: info.attended.map((x) => ({ index: x.index, piece: tokens[x.index]?.token ?? `#${x.index}`, weight: x.weight })),
      next: info.next,
      actual: info.actual,
      kind: h.analysis.summary.info.kind,
    };
    return new vscode.Hover(trusted(buildHoverMarkdown(model)), this.session.rangeOfToken(info.position));
  }
}

function trusted(markdown: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(markdown);
  // Only our own commands may run from a hover link; token text is escaped, so it cannot add links of its own.
  md.isTrusted = { enabledCommands: [...HOVER_COMMANDS] };
  md.supportHtml = false;
  return md;
}
