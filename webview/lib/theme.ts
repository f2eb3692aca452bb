/**
 * Reads the theme from the `--vscode-*` CSS variables VS Code sets on the webview's <html>, and rebuilds the
 * scales when VS Code switches theme (it swaps the body class and the variables).
 */
import { headColors, parseColor, type Rgb } from './color';

export interface Theme {
  readonly kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  readonly background: Rgb;
  readonly foreground: Rgb;
  readonly muted: Rgb;
  readonly border: Rgb;
  readonly focus: Rgb;
  /** Sequential scale end (attention, probabilities). */
  readonly accent: Rgb;
  /** Diverging scale ends. */
  readonly negative: Rgb;
  readonly positive: Rgb;
  /** Chart colours for heads/series. */
  readonly palette: readonly Rgb[];
  readonly fontFamily: string;
  readonly monoFamily: string;
  readonly fontSize: number;
}

const FALLBACK_DARK = { background: '#1e1e1e', foreground: '#cccccc', blue: '#3794ff', red: '#f14c4c', green: '#89d185', yellow: '#cca700', orange: '#d18616', purple: '#b180d7' };

function cssVar(style: CSSStyleDeclaration, name: string): string {
  return style.getPropertyValue(name).trim();
}

export function readTheme(root: Element = document.documentElement): Theme {
  const style = getComputedStyle(root);
  const body = document.body;
  const kind: Theme['kind'] = body.classList.contains('vscode-high-contrast-light') ? 'high-contrast-light'
    : body.classList.contains('vscode-high-contrast') ? 'high-contrast'
      : body.classList.contains('vscode-light') ? 'light' : 'dark';
  const color = (names: string[], fallback: string): Rgb => {
    for (const n of names) {
      const c = parseColor(cssVar(style, n));
      if (c) return c;
    }
    return parseColor(fallback)!;
  };
  const background = color(['--vscode-editor-background', '--vscode-panel-background'], kind === 'light' ? '#ffffff' : FALLBACK_DARK.background);
  const foreground = color(['--vscode-editor-foreground', '--vscode-foreground'], kind === 'light' ? '#333333' : FALLBACK_DARK.foreground);
  const chart = (name: string, fb: string) => color([`--vscode-charts-${name}`], fb);
  const palette = ['blue', 'red', 'green', 'yellow', 'orange', 'purple'].map((n) => chart(n, (FALLBACK_DARK as Record<string, string>)[n]));
  const fontSize = parseFloat(cssVar(style, '--vscode-font-size')) || 13;
  return {
    kind,
    background,
    foreground,
    muted: color(['--vscode-descriptionForeground'], kind === 'light' ? '#717171' : '#9d9d9d'),
    border: color(['--vscode-contrastBorder', '--vscode-panel-border', '--vscode-widget-border'], kind === 'light' ? '#e5e5e5' : '#454545'),
    focus: color(['--vscode-focusBorder'], '#007fd4'),
    accent: kind.startsWith('high-contrast') ? color(['--vscode-charts-yellow', '--vscode-contrastActiveBorder'], '#f38518') : chart('blue', FALLBACK_DARK.blue),
    negative: chart('red', FALLBACK_DARK.red),
    positive: chart('blue', FALLBACK_DARK.blue),
    palette,
    fontFamily: cssVar(style, '--vscode-font-family') || 'system-ui, sans-serif',
    monoFamily: cssVar(style, '--vscode-editor-font-family') || 'monospace',
    fontSize,
  };
}

export function headPalette(theme: Theme, heads: number): Rgb[] {
  return headColors(heads, theme.palette);
}

/** Calls `fn` whenever VS Code changes the theme (body class swap). Returns a disposer. */
export function onThemeChange(fn: () => void): () => void {
  const obs = new MutationObserver(() => fn());
  obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return () => obs.disconnect();
}
