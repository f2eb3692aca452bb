import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { buildHoverMarkdown, FOCUS_TOKEN_COMMAND, HOVER_COMMANDS, staleHoverMarkdown, type HoverModel } from '../../../src/ui/hoverMarkdown';
import { escapeMarkdown, tokenLabel, visibleWhitespace } from '../../../src/ui/format';

// A CommonMark renderer (markdown-it, via @vscode/vsce) stands in for VS Code's: what matters is which links and
// markup the text produces, and both follow CommonMark for escapes and links.
const md = new MarkdownIt({ html: false, linkify: false });
const render = (s: string) => md.render(s);
const links = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);

const base: HoverModel = {
  index: 2, count: 16, token: { id: 407, token: '▁upon', start: 4, end: 9, special: false }, sourceText: ' upon',
  layer: 1, nLayers: 5, head: 3, aggregation: 'head',
  attended: [{ index: 1, piece: '▁Once', weight: 0.625 }, { index: 0, piece: '<s>', weight: 0.3 }],
  next: [{ id: 261, token: '▁a', prob: 0.9879626 }, { id: 407, token: '▁upon', prob: 0.0043444 }],
  actual: { prob: 0.98264, rank: 0, surprisalBits: 0.0252 }, kind: 'decoder',
};

describe('hover Markdown', () => {
  it('names the token, its id and position, the attended tokens, the next tokens and the surprisal', () => {
    const text = buildHoverMarkdown(base);
    const html = render(text);
    expect(html).toContain('<strong>▁upon</strong>');
    expect(html).toContain('id 407');
    expect(html).toContain('token 3 of 16');
    expect(html).toMatch(/layer 1, head 3\): ▁Once 63% · &lt;s&gt; 30%/);
    expect(html).toMatch(/Next token: ▁a 99% · ▁upon 0\.4%/);
    expect(html).toContain('Surprisal: 0.03 bits (p = 98%, rank 1)');
    // source text differs from the piece: shown with visible whitespace
    expect(html).toContain('(&quot;·upon&quot;)');
  });

  it('says "mean over heads" when no head is chosen', () => {
    expect(buildHoverMarkdown({ ...base, head: undefined, aggregation: 'mean' })).toContain('layer 1, mean over heads');
  });

  it('links only to our focus command, with the token index in the arguments', () => {
    const hrefs = links(render(buildHoverMarkdown(base)));
    expect(hrefs).toHaveLength(3);
    for (const h of hrefs) {
      expect(h.startsWith(`command:${FOCUS_TOKEN_COMMAND}?`)).toBe(true);
      const args = JSON.parse(decodeURIComponent(h.slice(h.indexOf('?') + 1)));
      expect(args[0].index).toBe(2);
    }
    expect(HOVER_COMMANDS).toContain(FOCUS_TOKEN_COMMAND);
  });

  it.each([
    ['**', 'bold markers'],
    ['[x](command:workbench.action.terminal.new)', 'a command link'],
    ['<img src=x onerror=alert(1)>', 'HTML'],
    ['`code`', 'a code span'],
    ['# heading', 'a heading'],
    ['![i](https://example.com/a.png)', 'an image'],
    ['\\', 'a lone backslash'],
    ['_a_', 'emphasis'],
  ])('token text %s cannot inject %s', (evil) => {
    const m: HoverModel = {
      ...base, token: { ...base.token, token: evil }, sourceText: evil,
      attended: [{ index: 0, piece: evil, weight: 0.5 }], next: [{ id: 1, token: evil, prob: 0.5 }],
    };
    const html = render(buildHoverMarkdown(m));
    for (const h of links(html)) expect(h.startsWith(`command:${FOCUS_TOKEN_COMMAND}?`)).toBe(true);
    expect(html).not.toMatch(/<img|<code>|<h1|<em>/);
    // The title is the bold token itself, nothing more: the markers stayed literal.
    const strongs = [...html.matchAll(/<strong>(.*?)<\/strong>/g)].map((x) => x[1]);
    expect(strongs).toHaveLength(1);
    // The literal text survives (HTML-escaped by the renderer).
    const literal = tokenLabel(evil, 40).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    expect(html).toContain(literal);
  });

  it('stale hover is one line with a re-run link', () => {
    const html = render(staleHoverMarkdown());
    expect(html.trim().split('\n')).toHaveLength(1);
    expect(links(html)).toEqual(['command:transformerExplorer.rerunAnalysis']);
  });
});

describe('text helpers', () => {
  it('makes whitespace and control characters visible', () => {
    expect(visibleWhitespace(' a\tb\nc\r\nd\u0000')).toBe('·a→b↵c↵d\\x00');
    expect(tokenLabel('')).toBe('∅');
    expect(tokenLabel('x'.repeat(30), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('escapes every markdown-active ASCII punctuation character', () => {
    const all = '\\`*_{}[]()#+-.!|<>~';
    expect(render(escapeMarkdown(all)).trim()).toBe(`<p>${all.replace('<', '&lt;').replace('>', '&gt;')}</p>`);
  });
});
