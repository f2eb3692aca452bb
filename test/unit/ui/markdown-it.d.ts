// markdown-it ships without types (it arrives through @vscode/vsce); the tests use only this much of it.
declare module 'markdown-it' {
  export default class MarkdownIt {
    constructor(options?: { html?: boolean; linkify?: boolean });
    render(source: string): string;
  }
}
