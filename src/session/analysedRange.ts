/**
 * Where an analysed text sits in its document, kept correct while the user edits: edits before the range shift
 * it, edits after it are ignored, and any edit touching it marks the analysis stale (so no view ever links a token
 * to the wrong characters). Offsets are UTF-16 code units, like VS Code's `offsetAt` and the engine's token offsets.
 * No vscode import: the editor side converts offsets to Ranges.
 */

export interface TextEdit {
  /** Document offset where the replaced range starts, its length before the edit, and the inserted text's length. */
  readonly rangeOffset: number;
  readonly rangeLength: number;
  readonly textLength: number;
}

export class AnalysedRange {
  private start: number;
  private staleFlag = false;

  constructor(startOffset: number, readonly text: string) {
    this.start = startOffset;
  }

  get startOffset(): number {
    return this.start;
  }
  get endOffset(): number {
    return this.start + this.text.length;
  }
  get stale(): boolean {
    return this.staleFlag;
  }

  markStale(): void {
    this.staleFlag = true;
  }

  /** Applies one document edit; returns true when it made the analysis stale just now. */
  applyEdit(e: TextEdit): boolean {
    if (this.staleFlag) return false;
    const editEnd = e.rangeOffset + e.rangeLength;
    // After the text (an insertion right at its end included): nothing the tokens describe changed.
    if (e.rangeOffset >= this.endOffset && this.text.length > 0) return false;
    // Wholly before it: the text only moves. An insertion exactly at the start counts as touching it.
    if (editEnd < this.start || (editEnd === this.start && e.rangeLength > 0)) {
      this.start += e.textLength - e.rangeLength;
      return false;
    }
    this.staleFlag = true;
    return true;
  }

  /** Document offsets [start, end) of a span of the analysed text. */
  toDocument(span: readonly [number, number]): [number, number] {
    return [this.start + span[0], this.start + span[1]];
  }

  /** Offset in the analysed text of a document offset, or undefined outside the range. */
  fromDocument(offset: number): number | undefined {
    if (offset < this.start || offset > this.endOffset) return undefined;
    return offset - this.start;
  }
}

/**
 * The token under a text offset: the token whose span contains it, preferring the one that starts there. An offset
 * at the very end of a token (cursor right after it) selects that token when no other token starts there.
 */
export function tokenIndexAt(spans: readonly { readonly start: number; readonly end: number }[], offset: number): number | undefined {
  let after: number | undefined;
  for (let i = 0; i < spans.length; i++) {
    const { start, end } = spans[i];
    if (end <= start) continue; // special tokens added by the post-processor cover no text
    if (offset >= start && offset < end) return i;
    if (offset === end) after = i;
  }
  return after;
}
