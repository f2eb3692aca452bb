import { describe, expect, it } from 'vitest';
import { contrast, divergingScale, headColors, luminance, mix, parseColor, readableOn, sequentialScale, toHex, toOklab } from '../../../webview/lib/color';

const white = parseColor('#ffffff')!;
const black = parseColor('#000000')!;
const darkBg = parseColor('#1e1e1e')!;
const blue = parseColor('#3794ff')!;
const red = parseColor('#f14c4c')!;

describe('parseColor', () => {
  it('reads the forms VS Code uses', () => {
    expect(parseColor('#abc')).toEqual({ r: 0xaa, g: 0xbb, b: 0xcc, a: 1 });
    expect(parseColor('#3794ff80')).toEqual({ r: 0x37, g: 0x94, b: 0xff, a: 128 / 255 });
    expect(parseColor('rgba(10, 20, 30, 0.5)')).toEqual({ r: 10, g: 20, b: 30, a: 0.5 });
    expect(parseColor('rgb(1 2 3)')).toEqual({ r: 1, g: 2, b: 3, a: 1 });
    expect(parseColor('')).toBeUndefined();
    expect(parseColor('red')).toBeUndefined();
  });
  it('round-trips through hex', () => expect(toHex(parseColor('#3794ff')!)).toBe('#3794ff'));
});

describe('OKLab', () => {
  it('white has L = 1 and black L = 0', () => {
    expect(toOklab(white)[0]).toBeCloseTo(1, 4);
    expect(toOklab(black)[0]).toBeCloseTo(0, 4);
  });
  it('mix endpoints are the inputs', () => {
    expect(toHex(mix(darkBg, blue, 0))).toBe('#1e1e1e');
    expect(toHex(mix(darkBg, blue, 1))).toBe('#3794ff');
  });
});

describe('sequentialScale', () => {
  for (const [name, bg] of [['dark', darkBg], ['light', white]] as const) {
    it(`${name}: min is the background, max is the accent, contrast grows monotonically`, () => {
      const s = sequentialScale(bg, blue, 0, 1);
      expect(toHex(s.color(0))).toBe(toHex(bg));
      expect(toHex(s.color(1))).toBe('#3794ff');
      expect(toHex(s.color(-5))).toBe(toHex(bg)); // clamped
      expect(toHex(s.color(7))).toBe('#3794ff');
      let prev = 1;
      for (let v = 0; v <= 1.0001; v += 0.05) {
        const c = contrast(s.color(v), bg);
        expect(c).toBeGreaterThanOrEqual(prev - 1e-9);
        prev = c;
      }
      expect(prev).toBeGreaterThan(1.5);
    });
  }
  it('sqrt curve lifts small values', () => {
    const lin = sequentialScale(darkBg, blue, 0, 1, 'linear');
    const sq = sequentialScale(darkBg, blue, 0, 1, 'sqrt');
    expect(sq.t(0.25)).toBeCloseTo(0.5, 9);
    expect(lin.t(0.25)).toBeCloseTo(0.25, 9);
    expect(contrast(sq.color(0.04), darkBg)).toBeGreaterThan(contrast(lin.color(0.04), darkBg));
  });
  it('a custom domain maps min…max', () => {
    const s = sequentialScale(white, blue, 2, 4);
    expect(s.t(3)).toBeCloseTo(0.5, 9);
  });
});

describe('divergingScale', () => {
  it('0 is the background, ±limit are the two ends', () => {
    const d = divergingScale(darkBg, red, blue, 2);
    expect(toHex(d.color(0))).toBe('#1e1e1e');
    expect(toHex(d.color(2))).toBe('#3794ff');
    expect(toHex(d.color(-2))).toBe('#f14c4c');
    expect(d.t(-1)).toBe(-0.5);
  });
});

describe('helpers', () => {
  it('luminance and contrast of black/white', () => {
    expect(luminance(white)).toBeCloseTo(1, 9);
    expect(contrast(white, black)).toBeCloseTo(21, 6);
  });
  it('readableOn picks the better text colour', () => {
    expect(readableOn(parseColor('#ffff00')!, white, black)).toBe(black);
    expect(readableOn(parseColor('#000080')!, white, black)).toBe(white);
  });
  it('headColors: palette first, then distinct variants', () => {
    const cs = headColors(12, [blue, red, parseColor('#89d185')!, parseColor('#cca700')!, parseColor('#d18616')!, parseColor('#b180d7')!]);
    expect(cs).toHaveLength(12);
    expect(toHex(cs[0])).toBe('#3794ff');
    expect(new Set(cs.map(toHex)).size).toBe(12);
  });
});
