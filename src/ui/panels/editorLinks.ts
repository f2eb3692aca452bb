/**
 * What the views do to the editor: highlight the characters of a hovered token, reveal + select a clicked one, and
 * paint per-token weights (attention, surprisal) as background intensity. Offsets arrive in the analysed text's
 * UTF-16 units and go through the session, which refuses them once the analysis is stale (never a wrong link).
 */
import * as vscode from 'vscode';
import type { ExplorerSession } from '../../session/explorerSession';
import { PAINT_BUCKETS, PAINT_RGB, paintAlpha, paintBucket, type EditorPaint } from '../../protocol/views';

export interface PaintedRange {
  readonly range: vscode.Range;
  readonly bucket: number;
  readonly title: string;
}

export class EditorLinks implements vscode.Disposable {
  private readonly hoverType = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    borderColor: new vscode.ThemeColor('focusBorder'),
    borderStyle: 'solid',
    borderWidth: '1px',
    borderRadius: '2px',
  });
  private readonly paintTypes = Array.from({ length: PAINT_BUCKETS }, (_, b) => vscode.window.createTextEditorDecorationType({
    backgroundColor: `rgba(${PAINT_RGB.join(', ')}, ${paintAlpha(b).toFixed(3)})`,
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  }));
  private hovered?: vscode.Range;
  private painted: PaintedRange[] = [];
  private paintLabel?: string;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly session: ExplorerSession) {
    this.disposables.push(
      this.hoverType, ...this.paintTypes,
      // Re-apply to editors that open (or re-open) the analysed document.
      vscode.window.onDidChangeVisibleTextEditors(() => this.apply()),
      // A new analysis or an edit invalidates every painted range.
      session.onDidChangeAnalysis(() => this.clearAll()),
      session.onDidBecomeStale(() => this.clearAll()),
    );
  }

  /** The current state, for tests and the views' legend. */
  get state(): { hovered?: vscode.Range; painted: readonly PaintedRange[]; paintLabel?: string } {
    return { hovered: this.hovered, painted: this.painted, paintLabel: this.paintLabel };
  }

  private editors(): vscode.TextEditor[] {
    const doc = this.session.current?.document;
    return doc ? vscode.window.visibleTextEditors.filter((e) => e.document === doc) : [];
  }

  private apply(): void {
    for (const e of this.editors()) {
      e.setDecorations(this.hoverType, this.hovered ? [this.hovered] : []);
      this.paintTypes.forEach((t, b) => e.setDecorations(t, this.painted.filter((p) => p.bucket === b).map((p) => ({ range: p.range, hoverMessage: p.title }))));
    }
  }

  /** Highlights [start, end) of the analysed text; false when it cannot be linked (stale, out of range). */
  hover(start: number, end: number): boolean {
    const range = this.session.rangeOfSpan(start, end);
    this.hovered = range;
    this.apply();
    if (range) this.session.focus(this.session.tokensInSpan(start, end)[0]);
    return range !== undefined;
  }

  unhover(): void {
    if (!this.hovered) return;
    this.hovered = undefined;
    this.apply();
  }

  /** Shows the document and selects [start, end) of the analysed text. */
  async reveal(start: number, end: number): Promise<vscode.Range | undefined> {
    const a = this.session.current;
    const range = this.session.rangeOfSpan(start, end);
    if (!a || !range) return undefined;
    const shown = this.editors()[0];
    const editor = await vscode.window.showTextDocument(a.document, { viewColumn: shown?.viewColumn ?? vscode.ViewColumn.One, selection: range, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return range;
  }

  /** Paints per-token weights (token index → weight in [0, 1]) onto the analysed text. */
  paint(p: EditorPaint): number {
    const a = this.session.current;
    if (!a || a.range.stale) return 0;
    const tokens = a.result.tokens;
    this.painted = p.weights.flatMap((w) => {
      const t = tokens[w.index];
      const range = t && t.end > t.start && w.weight > 0 ? this.session.rangeOfSpan(t.start, t.end) : undefined;
      return range ? [{ range, bucket: paintBucket(Math.min(1, w.weight)), title: `${p.label}: ${w.title}` }] : [];
    });
    this.paintLabel = p.label;
    this.apply();
    return this.painted.length;
  }

  clearPaint(): void {
    this.painted = [];
    this.paintLabel = undefined;
    this.apply();
  }

  clearAll(): void {
    this.hovered = undefined;
    this.clearPaint();
  }

  dispose(): void {
    for (const e of this.editors()) {
      e.setDecorations(this.hoverType, []);
      for (const t of this.paintTypes) e.setDecorations(t, []);
    }
    for (const d of this.disposables) d.dispose();
  }
}
