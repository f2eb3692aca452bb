/**
 * Small file helpers shared by the loaders, so every "file missing" / "not JSON" error reads the same way
 * and names the path.
 */
import * as fs from 'node:fs';
import { EngineError, type EngineErrorCode } from './errors';

/** Reads a UTF-8 text file; a missing file is MISSING_FILE (with `hint`), anything else unreadable is `code`. */
export function readTextFile(path: string, code: EngineErrorCode, hint?: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT' || errno === 'ENOTDIR') throw new EngineError('MISSING_FILE', `File not found: ${path}`, hint);
    throw new EngineError(code, `Cannot read ${path}: ${(e as Error).message}`, hint);
  }
}

/** Reads a file that must hold a JSON object; parse errors give line, column and position of the problem. */
export function readJsonObject(path: string, code: EngineErrorCode, hint?: string): Record<string, unknown> {
  const text = readTextFile(path, code, hint);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EngineError(code, `${path} is not valid JSON (${describeJsonError(text)}).`, hint);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EngineError(code, `${path} must contain a JSON object, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}.`, hint);
  }
  return value as Record<string, unknown>;
}

export function fileExists(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

/** "line 3, column 7 (position 41): near `"b": x}`", for the first syntax error in `text`. */
export function describeJsonError(text: string): string {
  const pos = jsonErrorOffset(text);
  if (pos < 0) return 'unknown syntax error';
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  if (pos >= text.length) return `unexpected end at line ${line}, column ${column} (position ${pos})`;
  return `line ${line}, column ${column} (position ${pos}): near ${JSON.stringify(text.slice(Math.max(0, pos - 10), pos + 10))}`;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/**
 * Offset of the first JSON syntax error, or -1 if `text` is valid JSON. V8's JSON.parse messages do not always
 * carry a position ("Unexpected token 'x', <whole text> is not valid JSON"), so this small iterative scanner
 * finds it; it runs only after JSON.parse has already failed.
 */
export function jsonErrorOffset(text: string): number {
  const stack: ('{' | '[')[] = [];
  let i = 0;
  const skipWs = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const match = (re: RegExp): boolean => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  /** at a '"': consumes the string, or stops at the offending character */
  const str = (): boolean => {
    if (text[i] !== '"') return false;
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return ++i > 0;
      if (c < 0x20) return false;
      if (c === 0x5c) {
        if (!match(ESCAPE)) return false;
      } else i++;
    }
    return false;
  };
  /** a key and its colon; true if well-formed */
  const key = (): boolean => {
    if (!str()) return false;
    skipWs();
    if (text[i] !== ':') return false;
    i++;
    return true;
  };
  let wantValue = true;
  for (;;) {
    skipWs();
    if (wantValue) {
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        skipWs();
        if (text[i] === (c === '{' ? '}' : ']')) {
          stack.pop();
          i++;
          wantValue = false;
        } else if (c === '{' && !key()) return i;
        continue;
      }
      if (!(c === '"' ? str() : match(NUMBER) || match(LITERAL))) return i;
      wantValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i < text.length ? i : -1;
    const c = text[i];
    if (c === ',') {
      i++;
      skipWs();
      if (top === '{' && !key()) return i;
      wantValue = true;
    } else if (c === (top === '{' ? '}' : ']')) {
      stack.pop();
      i++;
    } else return i;
  }
}

/**
 * The members of the JSON object starting at `start` (after optional whitespace): each key with the [start, end)
 * of its raw value, found without building the values. For large files whose few small fields we need:
 * tokenizer.json is ~1.3 MB of vocabulary and merges for GPT-2, which JSON.parse turns into objects in ~95 ms;
 * this walks it in a few. It checks brackets, strings and separators, not every value (parse the ones you use).
 * Throws a SyntaxError on a structure that is not an object. With `stopAfter`, returns as soon as that member has
 * been read (the rest of the object unchecked).
 */
export function jsonObjectMembers(text: string, start = 0, stopAfter?: string): Map<string, [number, number]> {
  let i = start;
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${i}`);
  };
  /** at a '"': the index just past the closing quote */
  const stringEnd = (): number => {
    let j = i + 1;
    for (;;) {
      const q = text.indexOf('"', j);
      if (q < 0) return fail('unterminated string');
      let backslashes = 0;
      for (let b = q - 1; text.charCodeAt(b) === 0x5c; b--) backslashes++;
      if (backslashes % 2 === 0) return q + 1;
      j = q + 1;
    }
  };
  /** past one value of any kind, nested ones included */
  const skipValue = (): void => {
    const c = text[i];
    if (c === '"') {
      i = stringEnd();
      return;
    }
    if (c !== '{' && c !== '[') {
      const m = /^[-+0-9.eEtruefalsn]+/.exec(text.slice(i, i + 32));
      if (!m) fail('expected a value');
      i += m![0].length;
      return;
    }
    const stack = [c === '{' ? '}' : ']'];
    i++;
    while (stack.length > 0) {
      const d = text.charCodeAt(i);
      if (Number.isNaN(d)) fail('unexpected end');
      if (d === 0x22) i = stringEnd();
      else {
        if (d === 0x7b) stack.push('}');
        else if (d === 0x5b) stack.push(']');
        else if (d === 0x7d || d === 0x5d) {
          if (stack.pop() !== text[i]) fail('mismatched bracket');
        }
        i++;
      }
    }
  };
  const members = new Map<string, [number, number]>();
  ws();
  if (text[i] !== '{') fail('expected an object');
  i++;
  ws();
  if (text[i] === '}') return members;
  for (;;) {
    ws();
    if (text[i] !== '"') fail('expected a key');
    const keyEnd = stringEnd();
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = keyEnd;
    ws();
    if (text[i] !== ':') fail('expected ":"');
    i++;
    ws();
    const valueStart = i;
    skipValue();
    members.set(key, [valueStart, i]);
    if (key === stopAfter) return members;
    ws();
    if (text[i] === ',') i++;
    else if (text[i] === '}') return members;
    else fail('expected "," or "}"');
  }
}
