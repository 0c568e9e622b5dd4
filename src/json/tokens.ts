// JSON tokens found in bytes, for the object shaper: where each string, scalar or nested value
// ends, or INCOMPLETE when the bytes end first. Strings are checked as they are skipped (escapes
// valid; raw control characters counted, to be escaped when the object is written).
import { SystemError } from '../protocol';

export const QUOTE = 34;
export const BACKSLASH = 92;
export const COMMA = 44;
export const COLON = 58;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
export const OPEN_BRACE = 123;
export const CLOSE_BRACE = 125;
export const OPEN_BRACKET = 91;
export const CLOSE_BRACKET = 93;
export const INCOMPLETE = -1;
const NOT_A_VALUE = -2;
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/**
 * Zero bytes after the text in every buffer scanned: reading past the end of a Buffer would make
 * V8 deoptimise the hot loops, and a zero byte ends every token (nothing here matches it).
 */
export const PAD = 8;
export const endOf = (bytes: Buffer) => bytes.length - PAD;

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;
const isDigit = (c: number) => c >= 48 && c <= 57;

export function skipSpace(bytes: Buffer, i: number): number {
  while (isSpace(bytes[i])) i++;
  return i;
}

export function fail(what: string, bytes: Buffer, at: number): never {
  throw new SystemError(`Malformed JSON: ${what} at "${bytes.toString('utf8', Math.max(0, at - 40), Math.min(endOf(bytes), at + 40))}"`);
}

/** Where a token breaks off: INCOMPLETE if the bytes ended there, else malformed. */
export function incompleteOr(bytes: Buffer, at: number, what: string): number {
  if (at >= endOf(bytes)) return INCOMPLETE;
  fail(what, bytes, at);
}

/**
 * Raw control characters met inside strings so far (JSON allows them only escaped). A counter, not
 * a return value, so the hot loop stays one comparison longer; objects that raised it are repaired.
 */
export const tokenCounts = { rawControls: 0 };

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
/** `"\/bfnrt` after a backslash. */
const isEscapeLetter = (c: number) => c === QUOTE || c === BACKSLASH || c === 47 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116;

/** Index past the escape whose backslash is at `at`, or INCOMPLETE; an invalid one fails. */
function escapeEnd(bytes: Buffer, at: number): number {
  const c = bytes[at + 1];
  if (isEscapeLetter(c)) return at + 2;
  if (c === 117) {
    for (let k = at + 2; k < at + 6; k++) if (!isHex(bytes[k])) return incompleteOr(bytes, k, 'an invalid \\u escape in a string');
    return at + 6;
  }
  return incompleteOr(bytes, at + 1, 'an invalid escape in a string');
}

/**
 * Index just past the string whose opening quote is at `open`, or INCOMPLETE. The end of the bytes
 * is checked only at a control character: the zero PAD after the text is one, so an ordinary byte
 * costs two comparisons, not three.
 */
export function stringEnd(bytes: Buffer, open: number): number {
  for (let i = open + 1; ; i++) {
    const c = bytes[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const end = escapeEnd(bytes, i);
      if (end < 0) return INCOMPLETE;
      i = end - 1;
    } else if (c < 32) {
      if (i >= endOf(bytes)) return INCOMPLETE;
      tokenCounts.rawControls++;
    }
  }
}

const SHORT_ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };

/** The JSON text in [start, end) with every raw control character inside its strings escaped (lossless). */
export function escapeRawControls(bytes: Buffer, start: number, end: number): Buffer {
  const parts: Buffer[] = [];
  let copied = start;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === QUOTE) inString = !inString;
    else if (c === BACKSLASH && inString) i++;
    else if (c < 32 && inString) {
      parts.push(bytes.subarray(copied, i), Buffer.from(SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`));
      copied = i + 1;
    }
  }
  parts.push(bytes.subarray(copied, end));
  return Buffer.concat(parts);
}

/** Index past the digits from `i` (one at least), NOT_A_VALUE, or INCOMPLETE when the bytes end first. */
function digitsEnd(bytes: Buffer, i: number): number {
  if (!isDigit(bytes[i])) return i >= endOf(bytes) ? INCOMPLETE : NOT_A_VALUE;
  do i++;
  while (isDigit(bytes[i]));
  return i;
}

/** Index past the JSON number or literal at `start`, NOT_A_VALUE, or INCOMPLETE when the bytes end first. */
function scalarEnd(bytes: Buffer, start: number): number {
  let i = start;
  const c = bytes[i];
  const literal = c === 116 ? TRUE : c === 102 ? FALSE : c === 110 ? NULL : undefined;
  if (literal !== undefined) {
    for (let k = 0; k < literal.length; k++, i++) if (bytes[i] !== literal[k]) return i >= endOf(bytes) ? INCOMPLETE : NOT_A_VALUE;
  } else {
    if (bytes[i] === MINUS) i++;
    i = bytes[i] === ZERO ? i + 1 : digitsEnd(bytes, i);
    if (i < 0) return i;
    if (bytes[i] === DOT && (i = digitsEnd(bytes, i + 1)) < 0) return i;
    if (bytes[i] === 101 || bytes[i] === 69) {
      i++;
      if (bytes[i] === PLUS || bytes[i] === MINUS) i++;
      if ((i = digitsEnd(bytes, i)) < 0) return i;
    }
  }
  // A scalar is complete only once the character after it is known, and that must be a separator.
  if (i >= endOf(bytes)) return INCOMPLETE;
  const next = bytes[i];
  return next === COMMA || next === CLOSE_BRACE || next === CLOSE_BRACKET || isSpace(next) ? i : NOT_A_VALUE;
}

/** Index just past the object or array opening at `open` (strings skipped), or INCOMPLETE. */
function containerEnd(bytes: Buffer, open: number): number {
  let depth = 0;
  for (let i = open; i < endOf(bytes); i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end < 0) return INCOMPLETE;
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return INCOMPLETE;
}

/** Index past the value at `i` that is not a string, or INCOMPLETE. */
export function otherValueEnd(bytes: Buffer, i: number): number {
  const c = bytes[i];
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    const controlsBefore = tokenCounts.rawControls;
    const end = containerEnd(bytes, i);
    if (end === INCOMPLETE) return INCOMPLETE;
    // Nested values are rare in exports: checked whole (as they will be written: controls escaped).
    try {
      JSON.parse(tokenCounts.rawControls > controlsBefore ? escapeRawControls(bytes, i, end).toString('utf8') : bytes.toString('utf8', i, end));
    } catch {
      fail('a malformed nested value', bytes, i);
    }
    return end;
  }
  const end = scalarEnd(bytes, i);
  if (end === NOT_A_VALUE) fail('expected a value', bytes, i);
  return end;
}
