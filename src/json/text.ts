// JSON read as text where JSON.parse alone would lose something, and where text is not UTF-8.
import { isUtf8 } from 'node:buffer';

const QUOTE = 34;
const BACKSLASH = 92;

const isDigitCode = (c: number) => c >= 48 && c <= 57;
/** A character after which a number cannot start mid-token (a digit, a fraction, an exponent). */
const continuesNumber = (c: number) => isDigitCode(c) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;

/**
 * Integers beyond 2^53 lose digits in JSON.parse; outside strings, they become strings instead.
 * One pass over the text, string by string (a regular expression over an 8 MB string exhausts the
 * stack), so any valid JSON parses whatever the size of its strings.
 */
export function parseJsonLossless(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  const parts: string[] = [];
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
      continue;
    }
    const negative = c === 45;
    if (!isDigitCode(c) && !negative) continue;
    const start = i;
    const previous = i > 0 ? text.charCodeAt(i - 1) : 0;
    let end = negative ? i + 1 : i;
    while (end < text.length && isDigitCode(text.charCodeAt(end))) end++;
    const next = end < text.length ? text.charCodeAt(end) : 0;
    const whole = !continuesNumber(previous) && next !== 46 && next !== 101 && next !== 69;
    const token = text.slice(start, end);
    if (whole && end - start - (negative ? 1 : 0) >= 16 && !Number.isSafeInteger(Number(token))) {
      parts.push(text.slice(copied, start), `"${token}"`);
      copied = end;
    }
    // Past the number, fraction and exponent included (its digits are not another number).
    i = end - 1;
    while (i + 1 < text.length && continuesNumber(text.charCodeAt(i + 1))) i++;
  }
  parts.push(text.slice(copied));
  return JSON.parse(parts.join(''));
}

/** JSON.rawJSON and the reviver's source text (ES2026, Node 22+), where the runtime has them. */
const rawJson = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * JSON.parse, except that an integer beyond 2^53 stays a number with every digit: it is kept as its
 * own text (JSON.rawJSON), which JSON.stringify writes back as it came.
 */
export function parseJsonExact(text: string): unknown {
  if (!rawJson || !/\d{16}/.test(text)) return JSON.parse(text);
  const keep = rawJson;
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(context?.source ?? '') ? keep(context!.source!) : value,
  );
}

/** Whether a value is an integer kept as its text by parseJsonExact. */
export const isExactInteger = (value: unknown): boolean => (JSON as unknown as { isRawJSON?: (value: unknown) => boolean }).isRawJSON?.(value) === true;

/** The body ended early (no closing bracket, a cut gzip stream): worth downloading again. */
export class TruncatedBodyError extends Error {}

/** Offset of the first byte that breaks UTF-8, or -1 (for messages; called on invalid text only). */
export function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i];
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0 || !isUtf8(bytes.subarray(i, i + length))) return i;
    i += length;
  }
  return -1;
}
