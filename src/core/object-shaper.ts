// Large exports cut into objects as bytes: no UTF-8 decode, no parse, no encode. 64-bit integers keep
// every digit, memory stays flat however big the body is, and each byte is looked at once, in a
// tight loop (for tokens this short, a loop over a Buffer beats calling indexOf or startsWith).
import { SystemError } from './errors';
import { copyRange, JsonBatch } from './json-batch';
import { TruncatedBodyError } from './json-text';

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const INCOMPLETE = -1;
const NOT_A_VALUE = -2;
/** Keys shorter than this many bytes are looked up in an array slot. */
const MAX_FAST_KEY = 64;
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/**
 * Zero bytes after the text in every buffer scanned: reading past the end of a Buffer would make
 * V8 deoptimise the hot loops, and a zero byte ends every token (nothing here matches it).
 */
const PAD = 8;
const endOf = (bytes: Buffer) => bytes.length - PAD;

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;
const isDigit = (c: number) => c >= 48 && c <= 57;

function skipSpace(bytes: Buffer, i: number): number {
  while (isSpace(bytes[i])) i++;
  return i;
}

function fail(what: string, bytes: Buffer, at: number): never {
  throw new SystemError(`Malformed JSON: ${what} at "${bytes.toString('utf8', Math.max(0, at - 40), Math.min(endOf(bytes), at + 40))}"`);
}

/** Where a token breaks off: INCOMPLETE if the bytes ended there, else malformed. */
function incompleteOr(bytes: Buffer, at: number, what: string): number {
  if (at >= endOf(bytes)) return INCOMPLETE;
  fail(what, bytes, at);
}

/** Index just past the string whose opening quote is at `open`, or INCOMPLETE. */
function stringEnd(bytes: Buffer, open: number): number {
  for (let i = open + 1; i < endOf(bytes); i++) {
    const c = bytes[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  return INCOMPLETE;
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
function otherValueEnd(bytes: Buffer, i: number): number {
  const c = bytes[i];
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    const end = containerEnd(bytes, i);
    if (end === INCOMPLETE) return INCOMPLETE;
    // Nested values are rare in exports: checked whole.
    try {
      JSON.parse(bytes.toString('utf8', i, end));
    } catch {
      fail('a malformed nested value', bytes, i);
    }
    return end;
  }
  const end = scalarEnd(bytes, i);
  if (end === NOT_A_VALUE) fail('expected a value', bytes, i);
  return end;
}

/**
 * Reads a stream of JSON objects, a top-level array of them (`array`) or one per line (`ndjson`),
 * fed as byte chunks cut anywhere (inside a UTF-8 character too), and returns each object's bytes
 * with every member whose key is not `declared` moved, unchanged, into one object member named
 * `into`, and `appended` (members as JSON text, e.g. where the object came from) added last. Keys,
 * separators, brackets and scalar tokens are checked on the way; nested values are checked with
 * JSON.parse; the contents of strings pass as they came (gzip's checksum guards them).
 */
export class ObjectStreamShaper {
  /** Where bytes are scanned: the unfinished object of the last chunk, then the new chunk; reused. */
  private work: Buffer = Buffer.alloc(0);
  /** The bytes held at the start of `work`: an unfinished object, and chunks not scanned yet. */
  private restLength = 0;
  /** How many bytes `work` must hold before the next scan. */
  private scanAt = 0;
  private stage: 'start' | 'first' | 'item' | 'after' | 'done';
  /** Runs of consecutive members to keep and to move, as [start, end) pairs. */
  private readonly kept: number[] = [];
  private readonly moved: number[] = [];
  /**
   * Declared keys by byte length and first byte (an array slot, not a hash): no string is made.
   * Dense, so V8 keeps it a plain array rather than a dictionary.
   */
  private readonly buckets: (Buffer[] | undefined)[] = new Array<Buffer[] | undefined>(MAX_FAST_KEY * 256).fill(undefined);
  private readonly intoMember: Buffer;
  /** `,` and the appended members: written before each object's closing brace. */
  private readonly appendedMembers: Buffer;
  private out: Buffer = Buffer.alloc(0);
  private used = 0;

  constructor(
    private readonly format: 'array' | 'ndjson',
    private readonly declared: ReadonlySet<string>,
    private readonly into: string,
    appended = '',
  ) {
    this.stage = format === 'array' ? 'start' : 'item';
    this.intoMember = Buffer.from(`${JSON.stringify(into)}:{`);
    this.appendedMembers = Buffer.from(appended === '' ? '' : `,${appended}`);
    for (const key of declared) {
      const bytes = Buffer.from(key);
      if (key === into || bytes.length === 0 || bytes.length >= MAX_FAST_KEY) continue;
      const slot = bytes.length * 256 + bytes[0];
      this.buckets[slot] = [...(this.buckets[slot] ?? []), bytes];
    }
  }

  /** Whether the key whose bytes span [start, end) (quotes excluded) is declared. */
  private isDeclared(bytes: Buffer, start: number, end: number, escaped: boolean): boolean {
    const length = end - start;
    if (!escaped && length > 0 && length < MAX_FAST_KEY) {
      const candidates = this.buckets[length * 256 + bytes[start]];
      if (candidates === undefined) return false;
      next: for (let k = 0; k < candidates.length; k++) {
        const candidate = candidates[k];
        for (let j = 1; j < length; j++) if (bytes[start + j] !== candidate[j]) continue next;
        return true;
      }
      return false;
    }
    // An empty or long key, or one spelled with escapes: decoded and looked up.
    let key: string;
    try {
      key = JSON.parse(`"${bytes.toString('utf8', start, end)}"`) as string;
    } catch {
      fail('a malformed key', bytes, start);
    }
    return this.declared.has(key) && key !== this.into;
  }

  /** The objects completed by this chunk, shaped. */
  push(chunk: Buffer): JsonBatch {
    const length = this.restLength + chunk.length;
    if (this.work.length < length + PAD) {
      const larger = Buffer.allocUnsafe(Math.max(length, 2 * this.work.length) + PAD);
      this.work.copy(larger, 0, 0, this.restLength);
      this.work = larger;
    }
    chunk.copy(this.work, this.restLength);
    this.restLength = length;
    // An unfinished object is scanned again only once the bytes after it have doubled it: linear
    // time for an object of any size, where a rescan at every chunk would be quadratic.
    return length < this.scanAt ? JsonBatch.EMPTY : this.scan();
  }

  /** At the end of the body: what is left is shaped; an unfinished object or array means it was cut short. */
  end(): JsonBatch {
    const last = this.restLength > 0 ? this.scan() : JsonBatch.EMPTY;
    if (this.work.toString('utf8', 0, this.restLength).trim() !== '' || (this.format === 'array' && this.stage !== 'done')) throw new TruncatedBodyError('the body ended inside its JSON');
    return last;
  }

  /** Shapes every object complete in `work`; keeps the unfinished rest at its start. */
  private scan(): JsonBatch {
    const length = this.restLength;
    const bytes = this.work.subarray(0, length + PAD);
    bytes.fill(0, length);
    // Shaping adds a few bytes per object at most; the buffer grows if it must.
    this.out = Buffer.allocUnsafe(bytes.length + 4096);
    this.used = 0;
    const ends: number[] = [];
    let i = 0;
    for (;;) {
      i = skipSpace(bytes, i);
      if (i >= endOf(bytes)) break;
      const c = bytes[i];
      if (this.stage === 'item' || (this.stage === 'first' && c !== CLOSE_BRACKET)) {
        if (c !== OPEN_BRACE) fail('expected an object', bytes, i);
        const end = this.object(bytes, i);
        if (end === INCOMPLETE) break;
        ends.push(this.used);
        i = end;
        this.stage = this.format === 'array' ? 'after' : 'item';
      } else if (this.stage === 'start') {
        if (c !== OPEN_BRACKET) fail('expected a JSON array', bytes, i);
        this.stage = 'first';
        i++;
      } else if (this.stage === 'after' && c === COMMA) {
        this.stage = 'item';
        i++;
      } else if ((this.stage === 'after' || this.stage === 'first') && c === CLOSE_BRACKET) {
        this.stage = 'done';
        i++;
      } else {
        fail(this.stage === 'done' ? 'text after the array' : 'expected "," or "]"', bytes, i);
      }
    }
    if (i < length) bytes.copyWithin(0, i, length);
    this.restLength = Math.max(0, length - i);
    this.scanAt = 2 * this.restLength;
    return ends.length === 0 ? JsonBatch.EMPTY : new JsonBatch(this.out.subarray(0, this.used), ends);
  }

  /** Shapes the object opening at `start` into the output; returns the index past it, or INCOMPLETE. */
  private object(bytes: Buffer, start: number): number {
    const { kept, moved } = this;
    // How much of each run array this object uses (setting an array's length is a slow call).
    let keptUsed = 0;
    let movedUsed = 0;
    let keptLast = false;
    let i = skipSpace(bytes, start + 1);
    let c = bytes[i];
    if (c !== CLOSE_BRACE) {
      for (;;) {
        if (c !== QUOTE) return incompleteOr(bytes, i, 'expected a key');
        const memberStart = i;
        let escaped = false;
        for (i++; (c = bytes[i]) !== QUOTE; i++) {
          if (i >= endOf(bytes)) return INCOMPLETE;
          if (c === BACKSLASH) {
            escaped = true;
            i++;
          }
        }
        const declared = this.isDeclared(bytes, memberStart + 1, i, escaped);
        i = skipSpace(bytes, i + 1);
        if (bytes[i] !== COLON) return incompleteOr(bytes, i, 'expected ":"');
        i = skipSpace(bytes, i + 1);
        const valueEnd = bytes[i] === QUOTE ? stringEnd(bytes, i) : otherValueEnd(bytes, i);
        if (valueEnd < 0) return INCOMPLETE;
        // Consecutive members that stay together are copied as one run, separators and all.
        if (declared) {
          if (keptLast && keptUsed > 0) kept[keptUsed - 1] = valueEnd;
          else {
            kept[keptUsed++] = memberStart;
            kept[keptUsed++] = valueEnd;
          }
        } else if (!keptLast && movedUsed > 0) moved[movedUsed - 1] = valueEnd;
        else {
          moved[movedUsed++] = memberStart;
          moved[movedUsed++] = valueEnd;
        }
        keptLast = declared;
        i = skipSpace(bytes, valueEnd);
        c = bytes[i];
        if (c === CLOSE_BRACE) break;
        if (c !== COMMA) return incompleteOr(bytes, i, 'expected "," or "}"');
        i = skipSpace(bytes, i + 1);
        c = bytes[i];
      }
    }
    this.write(bytes, start, i + 1, keptUsed, movedUsed);
    return i + 1;
  }

  /**
   * Writes the object spanning [start, end), its kept runs first, its moved runs under `into`, then
   * the appended members.
   */
  private write(bytes: Buffer, start: number, end: number, keptUsed: number, movedUsed: number): void {
    const { kept, moved, appendedMembers } = this;
    let out = this.out;
    const most = this.used + end - start + this.intoMember.length + appendedMembers.length + 8;
    if (most > out.length) {
      out = Buffer.allocUnsafe(Math.max(2 * out.length, most));
      this.out.copy(out, 0, 0, this.used);
      this.out = out;
    }
    let used = this.used;
    if (movedUsed === 0 && appendedMembers.length === 0) {
      this.used = used + copyRange(bytes, start, end, out, used);
      return;
    }
    if (movedUsed === 0) {
      // The object without its closing brace (an empty one without its comma).
      used += copyRange(bytes, start, end - 1, out, used);
      used += copyRange(appendedMembers, keptUsed === 0 ? 1 : 0, appendedMembers.length, out, used);
      out[used++] = CLOSE_BRACE;
      this.used = used;
      return;
    }
    out[used++] = OPEN_BRACE;
    for (let r = 0; r < keptUsed; r += 2) {
      used += copyRange(bytes, kept[r], kept[r + 1], out, used);
      out[used++] = COMMA;
    }
    out.set(this.intoMember, used);
    used += this.intoMember.length;
    for (let r = 0; r < movedUsed; r += 2) {
      if (r > 0) out[used++] = COMMA;
      used += copyRange(bytes, moved[r], moved[r + 1], out, used);
    }
    out[used++] = CLOSE_BRACE;
    if (appendedMembers.length > 0) used += copyRange(appendedMembers, 0, appendedMembers.length, out, used);
    out[used++] = CLOSE_BRACE;
    this.used = used;
  }
}
