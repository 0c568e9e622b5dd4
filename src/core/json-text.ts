// JSON handled as text: large exports are cut into elements without building objects, so 64-bit
// integers keep every digit and memory stays flat however big the body is.
import { SystemError } from './errors';

/** Integers beyond 2^53 lose digits in JSON.parse; outside strings, they become strings instead. */
const STRING_OR_BIG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![.eE\d])/g;

export function parseJsonLossless(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  return JSON.parse(text.replace(STRING_OR_BIG_INTEGER, (token) => (token[0] === '"' || Number.isSafeInteger(Number(token)) ? token : `"${token}"`)));
}

const STRUCTURAL = /[[\]{}",]/g;
const isBlank = (text: string) => text.trim() === '';

/**
 * Cuts a JSON array, fed in chunks of any size, into the raw text of its top-level elements. It
 * tracks strings and nesting only: each element's own grammar is checked by whoever reads it.
 */
export class JsonArraySplitter {
  private text = '';
  private pos = 0;
  private depth = 0;
  private inString = false;
  private elementStart = 0;
  private sawComma = false;
  private closed = false;

  /** The elements completed by this chunk. */
  push(chunk: string): string[] {
    const elements: string[] = [];
    const text = this.text === '' ? chunk : this.text + chunk;
    let i = this.pos;
    while (i < text.length) {
      if (this.inString) {
        const quote = text.indexOf('"', i);
        if (quote < 0) {
          i = text.length;
          break;
        }
        let backslashes = 0;
        while (text.charCodeAt(quote - 1 - backslashes) === 92) backslashes++;
        if (backslashes % 2 === 0) this.inString = false;
        i = quote + 1;
        continue;
      }
      STRUCTURAL.lastIndex = i;
      const match = STRUCTURAL.exec(text);
      if (!match) {
        if (this.depth === 0 && !isBlank(text.slice(i))) this.fail(this.closed ? 'text after the array' : 'expected a JSON array');
        i = text.length;
        break;
      }
      const at = match.index;
      const char = match[0];
      if (this.depth === 0) {
        if (this.closed || char !== '[' || !isBlank(text.slice(i, at))) this.fail(this.closed ? 'text after the array' : 'expected a JSON array');
        this.depth = 1;
        this.elementStart = at + 1;
      } else if (char === '"') {
        this.inString = true;
      } else if (char === '[' || char === '{') {
        this.depth++;
      } else if (this.depth > 1) {
        if (char !== ',') this.depth--;
      } else if (char === ',') {
        elements.push(this.element(text, at));
        this.elementStart = at + 1;
        this.sawComma = true;
      } else if (char === ']') {
        const last = text.slice(this.elementStart, at);
        if (!isBlank(last) || this.sawComma) elements.push(this.element(text, at));
        this.depth = 0;
        this.closed = true;
      } else {
        this.fail('a "}" closes the array');
      }
      i = at + 1;
    }
    // Keep only the unfinished element.
    const keepFrom = this.depth > 0 ? this.elementStart : i;
    this.text = text.slice(keepFrom);
    this.pos = i - keepFrom;
    this.elementStart -= keepFrom;
    return elements;
  }

  /** Call at the end of the body: an array that never closed means the body was cut short. */
  end(): void {
    if (!this.closed) throw new TruncatedBodyError('the body ended before its JSON array closed');
    if (!isBlank(this.text.slice(this.pos))) this.fail('text after the array');
  }

  private element(text: string, end: number): string {
    const element = text.slice(this.elementStart, end).trim();
    if (element === '') this.fail('an empty array element');
    return element;
  }

  private fail(what: string): never {
    throw new SystemError(`Malformed JSON array: ${what}`);
  }
}

/** The body ended early (no closing bracket, a cut gzip stream): worth downloading again. */
export class TruncatedBodyError extends Error {}

/** Cuts newline-delimited JSON into lines (blank lines skipped); each line is one value. */
export class NdjsonSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop()!;
    return lines.map((line) => line.trim()).filter((line) => line !== '');
  }

  end(): string[] {
    const last = this.rest.trim();
    this.rest = '';
    return last === '' ? [] : [last];
  }
}

const WHITESPACE = /[ \t\n\r]*/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

class MemberScanner {
  pos = 0;
  constructor(readonly text: string) {}

  skipWhitespace(): void {
    WHITESPACE.lastIndex = this.pos;
    WHITESPACE.exec(this.text);
    this.pos = WHITESPACE.lastIndex;
  }

  expect(char: string): void {
    if (this.text[this.pos] !== char) this.fail(`expected "${char}"`);
    this.pos++;
  }

  token(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.pos;
    const match = pattern.exec(this.text);
    if (!match) this.fail(`expected ${what}`);
    this.pos = pattern.lastIndex;
    return match[0];
  }

  /** Skips one value; nested objects and arrays are checked with JSON.parse (they are rare in events). */
  value(): void {
    const char = this.text[this.pos];
    if (char === '"') this.token(STRING, 'a string');
    else if (char === '{' || char === '[') this.container();
    else if (char === 't' || char === 'f' || char === 'n') this.token(LITERAL, 'a value');
    else this.token(NUMBER, 'a value');
  }

  private container(): void {
    const start = this.pos;
    let depth = 0;
    for (let i = start; i < this.text.length; i++) {
      const c = this.text[i];
      if (c === '"') {
        STRING.lastIndex = i;
        if (!STRING.exec(this.text)) this.fail('a broken string');
        i = STRING.lastIndex - 1;
      } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          const text = this.text.slice(start, i + 1);
          try {
            JSON.parse(text);
          } catch {
            this.fail('a malformed nested value');
          }
          this.pos = i + 1;
          return;
        }
      }
    }
    this.fail('an unclosed nested value');
  }

  fail(what: string): never {
    throw new SystemError(`Malformed JSON object at character ${this.pos}: ${what}: ${this.text.slice(0, 120)}`);
  }
}

/**
 * Rewrites one JSON object's text: members whose key is in `declared` stay where they are, every
 * other member moves, unchanged, into one object member named `into`. Values are never parsed, so
 * numbers keep their digits. The object's grammar is checked on the way.
 */
export function moveUndeclaredMembers(objectText: string, declared: ReadonlySet<string>, into: string): string {
  const scanner = new MemberScanner(objectText);
  const kept: string[] = [];
  const moved: string[] = [];
  scanner.skipWhitespace();
  scanner.expect('{');
  scanner.skipWhitespace();
  if (objectText[scanner.pos] === '}') {
    scanner.pos++;
  } else {
    for (;;) {
      const start = scanner.pos;
      const rawKey = scanner.token(STRING, 'a key');
      const key = rawKey.includes('\\') ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1);
      scanner.skipWhitespace();
      scanner.expect(':');
      scanner.skipWhitespace();
      scanner.value();
      (declared.has(key) && key !== into ? kept : moved).push(objectText.slice(start, scanner.pos));
      scanner.skipWhitespace();
      const next = objectText[scanner.pos++];
      if (next === '}') break;
      if (next !== ',') scanner.fail('expected "," or "}"');
      scanner.skipWhitespace();
    }
  }
  scanner.skipWhitespace();
  if (scanner.pos !== objectText.length) scanner.fail('text after the object');
  if (moved.length > 0) kept.push(`"${into}":{${moved.join(',')}}`);
  return `{${kept.join(',')}}`;
}
