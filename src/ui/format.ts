/**
 * Small text helpers shared by the hover, the status bar, the model picker and the side panel. Pure: no vscode.
 */

/** Backslash-escapes every ASCII punctuation character (CommonMark allows it for all of them), so text taken
 * from documents or vocabularies can never become markup, links, HTML or command URIs in a MarkdownString. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~"'&:;=?@$%^,/]/g, (c) => `\\${c}`);
}

/** Whitespace made visible (a token that is only a space or a newline must still show something). */
export function visibleWhitespace(text: string): string {
  const spaced = text.replace(/ /g, '·').replace(/\t/g, '→').replace(/\r\n|\n|\r/g, '↵');
  // Other control characters as \xNN (checked by code, not a regex, which lint rejects for control ranges).
  let out = '';
  for (const ch of spaced) {
    const code = ch.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

/** A token for inline display: visible whitespace, bounded length. */
export function tokenLabel(text: string, max = 24): string {
  const v = visibleWhitespace(text);
  return v.length > max ? `${v.slice(0, max - 1)}…` : v || '∅';
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatPercent(p: number): string {
  if (!Number.isFinite(p)) return '?';
  const pct = p * 100;
  return pct >= 10 ? `${pct.toFixed(0)}%` : pct >= 0.1 ? `${pct.toFixed(1)}%` : `${pct.toPrecision(1)}%`;
}

/** 124439808 → "124M", 262144 → "262K". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}K`;
  return String(n);
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
