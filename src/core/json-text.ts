// JSON read as text where JSON.parse alone would lose something.

/** Integers beyond 2^53 lose digits in JSON.parse; outside strings, they become strings instead. */
const STRING_OR_BIG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![.eE\d])/g;

export function parseJsonLossless(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  return JSON.parse(text.replace(STRING_OR_BIG_INTEGER, (token) => (token[0] === '"' || Number.isSafeInteger(Number(token)) ? token : `"${token}"`)));
}

/** The body ended early (no closing bracket, a cut gzip stream): worth downloading again. */
export class TruncatedBodyError extends Error {}
