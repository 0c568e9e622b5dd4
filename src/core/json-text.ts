// JSON handled as text: large exports are cut into objects without building them, so 64-bit
// integers keep every digit, memory stays flat however big the body is, and the hot path does
// one pass over the bytes (string contents are skipped with indexOf, at memchr speed).
import { SystemError } from './errors';

/** Integers beyond 2^53 lose digits in JSON.parse; outside strings, they become strings instead. */
const STRING_OR_BIG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![.eE\d])/g;

export function parseJsonLossless(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  return JSON.parse(text.replace(STRING_OR_BIG_INTEGER, (token) => (token[0] === '"' || Number.isSafeInteger(Number(token)) ? token : `"${token}"`)));
}

/** The body ended early (no closing bracket, a cut gzip stream): worth downloading again. */
export class TruncatedBodyError extends Error {}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const INCOMPLETE = -1;
/** Keys shorter than this are looked up in an array slot. */
const MAX_FAST_KEY = 64;

const isDigit = (c: number) => c >= 48 && c <= 57;

const NOT_A_VALUE = -2;

/** Index past the digits from `i`. */
function digitsEnd(text: string, i: number): number {
  while (isDigit(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Index past the JSON number or literal at `start`, INCOMPLETE when the text ends inside it, or
 * NOT_A_VALUE. One hand-written pass: these are the hot path's scalars.
 */
function scalarEnd(text: string, start: number): number {
  const c = text.charCodeAt(start);
  if (c === 116 || c === 102 || c === 110) {
    const literal = c === 116 ? 'true' : c === 102 ? 'false' : 'null';
    // Complete only once the character after it is known.
    if (text.length - start <= literal.length) return literal.startsWith(text.slice(start)) ? INCOMPLETE : NOT_A_VALUE;
    return text.startsWith(literal, start) ? start + literal.length : NOT_A_VALUE;
  }
  let i = start;
  if (c === 45) i++; // -
  const first = text.charCodeAt(i);
  if (first === 48) i++;
  else if (isDigit(first)) i = digitsEnd(text, i + 1);
  else return i >= text.length ? INCOMPLETE : NOT_A_VALUE;
  if (text.charCodeAt(i) === 46) {
    const fraction = i + 1;
    i = digitsEnd(text, fraction);
    if (i === fraction) return i >= text.length ? INCOMPLETE : NOT_A_VALUE;
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    const exponent = i;
    i = digitsEnd(text, exponent);
    if (i === exponent) return i >= text.length ? INCOMPLETE : NOT_A_VALUE;
  }
  // A number is complete only once the character after it is known.
  return i >= text.length ? INCOMPLETE : i;
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string whose opening quote is at `open`, or INCOMPLETE. */
function stringEnd(text: string, open: number): number {
  for (let i = open; ; ) {
    i = text.indexOf('"', i + 1);
    if (i < 0) return INCOMPLETE;
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return i + 1;
  }
}

/** Index just past the object or array opening at `open` (strings skipped), or INCOMPLETE. */
function containerEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return INCOMPLETE;
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return INCOMPLETE;
}

function fail(what: string, text: string, at: number): never {
  throw new SystemError(`Malformed JSON: ${what} at "${text.slice(Math.max(0, at - 40), at + 40)}"`);
}

/**
 * Reads a stream of JSON objects, a top-level array of them (`array`) or one per line (`ndjson`),
 * fed as text chunks of any size, and returns each object's text with every member whose key is not
 * `declared` moved, unchanged, into one object member named `into`. Values are never parsed, so
 * numbers keep their digits. Keys, separators, brackets and scalar tokens are checked on the way;
 * nested values are checked with JSON.parse (they are rare in events); the contents of strings are
 * passed on as they came (skipped with indexOf; gzip's checksum guards them in transit).
 */
export class ObjectStreamShaper {
  private text = '';
  private stage: 'start' | 'first' | 'item' | 'after' | 'done';
  private readonly kept: number[] = [];
  private readonly moved: number[] = [];
  /**
   * Declared keys by length and first character (an array slot, not a hash): a key is looked up
   * without making a string of it. Longer or non-ASCII keys take the slow path.
   */
  private readonly buckets: (string[] | undefined)[] = [];

  constructor(
    private readonly format: 'array' | 'ndjson',
    private readonly declared: ReadonlySet<string>,
    private readonly into: string,
  ) {
    this.stage = format === 'array' ? 'start' : 'item';
    for (const key of declared) {
      if (key === into || key === '' || key.length >= MAX_FAST_KEY || key.charCodeAt(0) > 127) continue;
      const slot = key.length * 128 + key.charCodeAt(0);
      this.buckets[slot] = [...(this.buckets[slot] ?? []), key];
    }
  }

  /** Whether the key whose text spans [start, end) (quotes excluded) is declared. */
  private isDeclared(text: string, start: number, end: number): boolean {
    const length = end - start;
    const first = text.charCodeAt(start);
    if (length < MAX_FAST_KEY && first <= 127) {
      const candidates = this.buckets[length * 128 + first];
      if (candidates) for (const candidate of candidates) if (text.startsWith(candidate, start)) return true;
      let escaped = false;
      for (let i = start; i < end && !escaped; i++) escaped = text.charCodeAt(i) === BACKSLASH;
      if (!escaped) return false;
    }
    // A long or non-ASCII key, or one spelled with escapes: decoded and looked up.
    const key = JSON.parse(`"${text.slice(start, end)}"`) as string;
    return this.declared.has(key) && key !== this.into;
  }

  /** The objects completed by this chunk, shaped. */
  push(chunk: string): string[] {
    const out: string[] = [];
    const text = this.text === '' ? chunk : this.text + chunk;
    let i = 0;
    for (;;) {
      i = skipSpace(text, i);
      if (i >= text.length) break;
      const c = text.charCodeAt(i);
      if (this.stage === 'item' || (this.stage === 'first' && c !== CLOSE_BRACKET)) {
        if (c !== OPEN_BRACE) fail('expected an object', text, i);
        const end = this.object(text, i, out);
        if (end === INCOMPLETE) break;
        i = end;
        this.stage = this.format === 'array' ? 'after' : 'item';
      } else if (this.stage === 'start') {
        if (c !== OPEN_BRACKET) fail('expected a JSON array', text, i);
        this.stage = 'first';
        i++;
      } else if (this.stage === 'after' && c === COMMA) {
        this.stage = 'item';
        i++;
      } else if ((this.stage === 'after' || this.stage === 'first') && c === CLOSE_BRACKET) {
        this.stage = 'done';
        i++;
      } else {
        fail(this.stage === 'done' ? 'text after the array' : 'expected "," or "]"', text, i);
      }
    }
    this.text = text.slice(i);
    return out;
  }

  /** At the end of the body: an unfinished object or array means it was cut short. */
  end(): string[] {
    const rest = this.text.trim();
    if (rest !== '' || (this.format === 'array' && this.stage !== 'done')) throw new TruncatedBodyError('the body ended inside its JSON');
    return [];
  }

  /** Shapes the object opening at `start` into `out`; returns the index past it, or INCOMPLETE. */
  private object(text: string, start: number, out: string[]): number {
    const { kept, moved } = this;
    kept.length = 0;
    moved.length = 0;
    let i = skipSpace(text, start + 1);
    if (i >= text.length) return INCOMPLETE;
    if (text.charCodeAt(i) === CLOSE_BRACE) {
      out.push('{}');
      return i + 1;
    }
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) fail('expected a key', text, i);
      const keyEnd = stringEnd(text, i);
      if (keyEnd < 0) return INCOMPLETE;
      const memberStart = i;
      const declared = this.isDeclared(text, i + 1, keyEnd - 1);
      i = skipSpace(text, keyEnd);
      if (i >= text.length) return INCOMPLETE;
      if (text.charCodeAt(i) !== COLON) fail('expected ":"', text, i);
      i = skipSpace(text, i + 1);
      if (i >= text.length) return INCOMPLETE;
      const valueEnd = this.value(text, i);
      if (valueEnd === INCOMPLETE) return INCOMPLETE;
      (declared ? kept : moved).push(memberStart, valueEnd);
      i = skipSpace(text, valueEnd);
      if (i >= text.length) return INCOMPLETE;
      const separator = text.charCodeAt(i);
      if (separator === CLOSE_BRACE) break;
      if (separator !== COMMA) fail('expected "," or "}"', text, i);
      i = skipSpace(text, i + 1);
      if (i >= text.length) return INCOMPLETE;
    }
    const end = i + 1;
    if (moved.length === 0) {
      out.push(text.slice(start, end));
      return end;
    }
    let shaped = '{';
    for (let m = 0; m < kept.length; m += 2) shaped += `${text.slice(kept[m], kept[m + 1])},`;
    shaped += `"${this.into}":{`;
    for (let m = 0; m < moved.length; m += 2) shaped += `${m > 0 ? ',' : ''}${text.slice(moved[m], moved[m + 1])}`;
    out.push(`${shaped}}}`);
    return end;
  }

  /** Index past the value at `i`, or INCOMPLETE when the text ends first. */
  private value(text: string, i: number): number {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return stringEnd(text, i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const end = containerEnd(text, i);
      if (end === INCOMPLETE) return INCOMPLETE;
      try {
        JSON.parse(text.slice(i, end));
      } catch {
        fail('a malformed nested value', text, i);
      }
      return end;
    }
    const end = scalarEnd(text, i);
    if (end === NOT_A_VALUE) fail('expected a value', text, i);
    if (end !== INCOMPLETE) {
      const next = text.charCodeAt(end);
      if (next !== COMMA && next !== CLOSE_BRACE && next !== CLOSE_BRACKET && !isSpace(next)) fail('expected a value', text, i);
    }
    return end;
  }
}
