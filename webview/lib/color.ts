/**
 * Colour scales that read well in light, dark and high-contrast themes: they run from the theme's own background
 * to a theme chart colour, interpolated in OKLab so equal steps look equal. Pure (no DOM); theme.ts reads the
 * `--vscode-*` variables and feeds them in.
 */

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  /** 0…1 */
  readonly a: number;
}

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb()/rgba(); undefined for anything else (names, empty). */
export function parseColor(text: string): Rgb | undefined {
  const s = text.trim().toLowerCase();
  let m = /^#([0-9a-f]{3,8})$/.exec(s);
  if (m) {
    let h = m[1];
    if (h.length === 3 || h.length === 4) h = [...h].map((c) => c + c).join('');
    if (h.length !== 6 && h.length !== 8) return undefined;
    const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), a: h.length === 8 ? n(6) / 255 : 1 };
  }
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/.exec(s);
  if (m) {
    const alpha = m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
    return { r: +m[1], g: +m[2], b: +m[3], a: alpha };
  }
  return undefined;
}

export function toHex(c: Rgb): string {
  const h = (v: number) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0');
  return `#${h(c.r)}${h(c.g)}${h(c.b)}${c.a < 1 ? h(c.a * 255) : ''}`;
}

/** Composites a translucent colour over an opaque background (theme colours often carry alpha). */
export function flatten(c: Rgb, over: Rgb): Rgb {
  return { r: c.r * c.a + over.r * (1 - c.a), g: c.g * c.a + over.g * (1 - c.a), b: c.b * c.a + over.b * (1 - c.a), a: 1 };
}

const toLinear = (v: number) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
const fromLinear = (v: number) => 255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(Math.max(v, 0), 1 / 2.4) - 0.055);

/** WCAG relative luminance. */
export function luminance(c: Rgb): number {
  return 0.2126 * toLinear(c.r) + 0.7152 * toLinear(c.g) + 0.0722 * toLinear(c.b);
}

/** WCAG contrast ratio (1…21). */
export function contrast(a: Rgb, b: Rgb): number {
  const la = luminance(a), lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

type Lab = [number, number, number];

export function toOklab(c: Rgb): Lab {
  const r = toLinear(c.r), g = toLinear(c.g), b = toLinear(c.b);
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s, 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s, 0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s];
}

export function fromOklab([L, A, B]: Lab): Rgb {
  const l = Math.pow(L + 0.3963377774 * A + 0.2158037573 * B, 3);
  const m = Math.pow(L - 0.1055613458 * A - 0.0638541728 * B, 3);
  const s = Math.pow(L - 0.0894841775 * A - 1.291485548 * B, 3);
  const clamp = (v: number) => Math.min(255, Math.max(0, v));
  return {
    r: clamp(fromLinear(4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s)),
    g: clamp(fromLinear(-1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s)),
    b: clamp(fromLinear(-0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s)),
    a: 1,
  };
}

/** OKLab interpolation between two opaque colours, t in [0, 1]. */
export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  const la = toOklab(a), lb = toOklab(b);
  return fromOklab([la[0] + (lb[0] - la[0]) * t, la[1] + (lb[1] - la[1]) * t, la[2] + (lb[2] - la[2]) * t]);
}

/** 'sqrt' stretches small values (attention weights are mostly tiny) — the legend says which is used. */
export type ScaleCurve = 'linear' | 'sqrt';

export interface SequentialScale {
  readonly kind: 'sequential';
  readonly min: number;
  readonly max: number;
  readonly curve: ScaleCurve;
  /** Position in [0, 1] of a value (clamped). */
  t(value: number): number;
  color(value: number): Rgb;
  css(value: number): string;
}

export interface DivergingScale {
  readonly kind: 'diverging';
  /** Symmetric domain [-limit, limit]. */
  readonly limit: number;
  t(value: number): number;
  color(value: number): Rgb;
  css(value: number): string;
}

export type ColorScale = SequentialScale | DivergingScale;

/** A lookup of `steps` precomputed colours keeps canvas painting cheap (no OKLab per cell). */
function lut(from: Rgb, to: Rgb, steps: number): Rgb[] {
  return Array.from({ length: steps }, (_, i) => mix(from, to, i / (steps - 1)));
}

/** Background (value = min) → accent (value = max). */
export function sequentialScale(background: Rgb, accent: Rgb, min = 0, max = 1, curve: ScaleCurve = 'linear'): SequentialScale {
  if (!(max > min)) max = min + 1;
  const table = lut(flatten(background, { r: 0, g: 0, b: 0, a: 1 }), flatten(accent, background), 256);
  const t = (v: number) => {
    const x = Math.min(1, Math.max(0, (v - min) / (max - min)));
    return curve === 'sqrt' ? Math.sqrt(x) : x;
  };
  const color = (v: number) => table[Math.round(t(v) * 255)];
  return { kind: 'sequential', min, max, curve, t, color, css: (v) => toHex(color(v)) };
}

/** negative colour ← background (0) → positive colour, for signed values (positional tables, similarities). */
export function divergingScale(background: Rgb, negative: Rgb, positive: Rgb, limit = 1): DivergingScale {
  const lim = limit > 0 ? limit : 1;
  const bg = flatten(background, { r: 0, g: 0, b: 0, a: 1 });
  const neg = lut(bg, flatten(negative, bg), 128);
  const pos = lut(bg, flatten(positive, bg), 128);
  const t = (v: number) => Math.min(1, Math.max(-1, v / lim));
  const color = (v: number) => { const x = t(v); return x < 0 ? neg[Math.round(-x * 127)] : pos[Math.round(x * 127)]; };
  return { kind: 'diverging', limit: lim, t, color, css: (v) => toHex(color(v)) };
}

/** Foreground or background, whichever reads better on a cell of colour `cell`. */
export function readableOn(cell: Rgb, foreground: Rgb, background: Rgb): Rgb {
  return contrast(cell, foreground) >= contrast(cell, background) ? foreground : background;
}

/**
 * One colour per head: the theme's chart colours first, then hue-rotated variants of them (lightness kept), so
 * 12- or 16-head models still get distinct colours.
 */
export function headColors(n: number, palette: readonly Rgb[]): Rgb[] {
  if (palette.length === 0) throw new RangeError('headColors needs at least one palette colour');
  const out: Rgb[] = [];
  for (let i = 0; i < n; i++) {
    const base = palette[i % palette.length];
    const round = Math.floor(i / palette.length);
    if (round === 0) { out.push(base); continue; }
    const [L, A, B] = toOklab(base);
    const angle = (round * Math.PI) / (Math.ceil(n / palette.length));
    const c = Math.cos(angle), s = Math.sin(angle);
    out.push(fromOklab([L, A * c - B * s, A * s + B * c]));
  }
  return out;
}
