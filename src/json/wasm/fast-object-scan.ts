// AssemblyScript (compiled to WebAssembly by `npm run build`; not part of the tsc build).
//
// The fast path of ObjectStreamShaper: shapes the plain objects of a scan (flat members, string
// and scalar values, keys without escapes), 16 bytes at a time inside strings, and stops at the
// first object it does not take on. The TypeScript shaper then handles that one object (nested
// values, escaped keys, raw control characters, malformed or unfinished JSON) and calls back in.
// So the fast path decides nothing the TypeScript one would not: it only does the same work faster,
// and it writes the same bytes (a differential test holds it to that).
//
// Memory is laid out by the caller (fast-object-scan.ts beside this folder): the declared-key table, the scan's input
// with zero padding, the shaped output, the objects' ends, the member runs, and the results.

const QUOTE: u32 = 34;
const BACKSLASH: u32 = 92;
const COMMA: u32 = 44;
const COLON: u32 = 58;
const OPEN_BRACE: u32 = 123;
const CLOSE_BRACE: u32 = 125;
const CLOSE_BRACKET: u32 = 93;
const OPEN_BRACKET: u32 = 91;
const MAX_FAST_KEY: u32 = 64;

/** Stages shared with the TypeScript shaper: an object is expected next, or "," / "]" after one. */
const STAGE_ITEM: u32 = 0;
const STAGE_AFTER: u32 = 1;
/** Why a run stopped: the input ended, the next token is for the TypeScript shaper, or the output is full. */
export const STOP_END: u32 = 0;
export const STOP_HANDOVER: u32 = 1;
export const STOP_FULL: u32 = 2;
const BAIL: u32 = 0xffffffff;

let tableAt: u32 = 0;
let intoAt: u32 = 0;
let intoLength: u32 = 0;
let appendedAt: u32 = 0;
let appendedLength: u32 = 0;
let ndjson: bool = false;
let runsAt: u32 = 0;
let maxRuns: u32 = 0;
let keptRuns: u32 = 0;
let movedRuns: u32 = 0;

/** Where things live, set once per shaper: see the layout in ../fast-object-scan.ts. */
export function configure(table: u32, into: u32, intoBytes: u32, appended: u32, appendedBytes: u32, isNdjson: bool, runs: u32, runPairs: u32): void {
  tableAt = table;
  intoAt = into;
  intoLength = intoBytes;
  appendedAt = appended;
  appendedLength = appendedBytes;
  ndjson = isNdjson;
  runsAt = runs;
  maxRuns = runPairs;
}

@inline function byteAt(i: u32): u32 {
  return <u32>load<u8>(i);
}

@inline function isSpace(c: u32): bool {
  return c == 32 || c == 10 || c == 13 || c == 9;
}

@inline function isDigit(c: u32): bool {
  return c - 48 < 10;
}

@inline function isHex(c: u32): bool {
  return c - 48 < 10 || (c | 32) - 97 < 6;
}

@inline function skipSpace(i: u32): u32 {
  while (isSpace(byteAt(i))) i++;
  return i;
}

/** Index of the first quote, backslash or control character at or after `i` (the zero padding is one). */
@inline function specialFrom(i: u32): u32 {
  const quote = i8x16.splat(<i8>QUOTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  const space = i8x16.splat(32);
  while (true) {
    const v = v128.load(i);
    const mask = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)), i8x16.lt_u(v, space)));
    if (mask != 0) return i + ctz<u32>(mask);
    i += 16;
  }
}

/** Index past the string value opening at `open`, or BAIL (a raw control character, the end, a bad escape). */
function stringEnd(open: u32): u32 {
  let i = open + 1;
  while (true) {
    i = specialFrom(i);
    const c = byteAt(i);
    if (c == QUOTE) return i + 1;
    if (c != BACKSLASH) return BAIL;
    const e = byteAt(i + 1);
    if (e == QUOTE || e == BACKSLASH || e == 47 || e == 98 || e == 102 || e == 110 || e == 114 || e == 116) i += 2;
    else if (e == 117 && isHex(byteAt(i + 2)) && isHex(byteAt(i + 3)) && isHex(byteAt(i + 4)) && isHex(byteAt(i + 5))) i += 6;
    else return BAIL;
  }
}

/** Index past at least one digit from `i`, or BAIL: 16 bytes at a time (IDs have 16 digits and more). */
@inline function digitsEnd(i: u32): u32 {
  if (!isDigit(byteAt(i))) return BAIL;
  const zero = i8x16.splat(48);
  const nine = i8x16.splat(9);
  while (true) {
    const mask = i8x16.bitmask(i8x16.gt_u(i8x16.sub(v128.load(i), zero), nine));
    if (mask != 0) return i + ctz<u32>(mask);
    i += 16;
  }
}

/** Index past the number or literal at `i` when a separator follows it before `end`, else BAIL. */
function scalarEnd(i: u32, end: u32): u32 {
  const c = byteAt(i);
  if (c == 116) {
    if (load<u32>(i) != 0x65757274) return BAIL; // "true"
    i += 4;
  } else if (c == 102) {
    if (load<u32>(i + 1) != 0x65736c61) return BAIL; // "alse"
    i += 5;
  } else if (c == 110) {
    if (load<u32>(i) != 0x6c6c756e) return BAIL; // "null"
    i += 4;
  } else {
    if (c == 45) i++;
    if (byteAt(i) == 48) i++;
    else if ((i = digitsEnd(i)) == BAIL) return BAIL;
    if (byteAt(i) == 46 && (i = digitsEnd(i + 1)) == BAIL) return BAIL;
    const e = byteAt(i);
    if (e == 101 || e == 69) {
      i++;
      const sign = byteAt(i);
      if (sign == 43 || sign == 45) i++;
      if ((i = digitsEnd(i)) == BAIL) return BAIL;
    }
  }
  if (i >= end) return BAIL;
  const next = byteAt(i);
  return next == COMMA || next == CLOSE_BRACE || next == CLOSE_BRACKET || isSpace(next) ? i : BAIL;
}

/** Whether the `length` bytes at `a` and at `b` are the same: 8, then 4 bytes at a time (the last load overlaps). */
@inline function sameBytes(a: u32, b: u32, length: u32): bool {
  if (length >= 8) {
    let j: u32 = 0;
    for (; j + 8 < length; j += 8) if (load<u64>(a + j) != load<u64>(b + j)) return false;
    return load<u64>(a + length - 8) == load<u64>(b + length - 8);
  }
  if (length >= 4) return load<u32>(a) == load<u32>(b) && load<u32>(a + length - 4) == load<u32>(b + length - 4);
  for (let j: u32 = 0; j < length; j++) if (byteAt(a + j) != byteAt(b + j)) return false;
  return true;
}

/** Whether the key spanning [start, end) is declared: table slot by length and first byte, then a byte compare. */
function isDeclared(start: u32, end: u32): bool {
  const length = end - start;
  const list = load<u32>(tableAt + ((length << 8) | byteAt(start)) * 4);
  if (list == 0) return false;
  const count = load<u32>(list);
  for (let k: u32 = 0, candidate = list + 4; k < count; k++, candidate += length) {
    if (sameBytes(start, candidate, length)) return true;
  }
  return false;
}

@inline function addRun(runs: u32, used: u32, extend: bool, start: u32, end: u32): u32 {
  if (extend && used > 0) {
    store<u32>(runs + (used - 1) * 4, end);
    return used;
  }
  store<u32>(runs + used * 4, start);
  store<u32>(runs + used * 4 + 4, end);
  return used + 2;
}

/**
 * Index past the object opening at `start` (its member runs recorded), or BAIL for anything the
 * TypeScript shaper must see: an escaped, empty or long key, a nested value, a raw control
 * character, malformed JSON, the end of the input, more members than the run scratch holds.
 */
function object(start: u32, end: u32): u32 {
  const kept = runsAt;
  const moved = runsAt + maxRuns * 8;
  keptRuns = 0;
  movedRuns = 0;
  let keptLast = false;
  let i = skipSpace(start + 1);
  let c = byteAt(i);
  if (c == CLOSE_BRACE) return i + 1;
  while (true) {
    if (c != QUOTE) return BAIL;
    const memberStart = i;
    const keyEnd = specialFrom(i + 1);
    if (byteAt(keyEnd) != QUOTE) return BAIL;
    const keyLength = keyEnd - memberStart - 1;
    if (keyLength == 0 || keyLength >= MAX_FAST_KEY) return BAIL;
    const declared = isDeclared(memberStart + 1, keyEnd);
    i = skipSpace(keyEnd + 1);
    if (byteAt(i) != COLON) return BAIL;
    i = skipSpace(i + 1);
    c = byteAt(i);
    if (c == OPEN_BRACE || c == OPEN_BRACKET) return BAIL;
    const valueEnd = c == QUOTE ? stringEnd(i) : scalarEnd(i, end);
    if (valueEnd == BAIL || valueEnd >= end) return BAIL;
    if (keptRuns + 2 > maxRuns * 2 || movedRuns + 2 > maxRuns * 2) return BAIL;
    if (declared) keptRuns = addRun(kept, keptRuns, keptLast, memberStart, valueEnd);
    else movedRuns = addRun(moved, movedRuns, !keptLast, memberStart, valueEnd);
    keptLast = declared;
    i = skipSpace(valueEnd);
    c = byteAt(i);
    if (c == CLOSE_BRACE) return i + 1;
    if (c != COMMA) return BAIL;
    i = skipSpace(i + 1);
    c = byteAt(i);
  }
}

@inline function copy(to: u32, from: u32, length: u32): u32 {
  memory.copy(to, from, length);
  return length;
}

/** Writes the object [start, end) at `out`: kept runs, moved runs under the `into` member, appended members. Returns its length. */
function write(out: u32, start: u32, end: u32): u32 {
  let used = out;
  if (movedRuns == 0 && appendedLength == 0) return copy(out, start, end - start);
  if (movedRuns == 0) {
    used += copy(used, start, end - 1 - start);
    if (keptRuns == 0) used += copy(used, appendedAt + 1, appendedLength - 1);
    else used += copy(used, appendedAt, appendedLength);
    store<u8>(used++, <u8>CLOSE_BRACE);
    return used - out;
  }
  const kept = runsAt;
  const moved = runsAt + maxRuns * 8;
  store<u8>(used++, <u8>OPEN_BRACE);
  for (let r: u32 = 0; r < keptRuns; r += 2) {
    used += copy(used, load<u32>(kept + r * 4), load<u32>(kept + r * 4 + 4) - load<u32>(kept + r * 4));
    store<u8>(used++, <u8>COMMA);
  }
  used += copy(used, intoAt, intoLength);
  for (let r: u32 = 0; r < movedRuns; r += 2) {
    if (r > 0) store<u8>(used++, <u8>COMMA);
    used += copy(used, load<u32>(moved + r * 4), load<u32>(moved + r * 4 + 4) - load<u32>(moved + r * 4));
  }
  store<u8>(used++, <u8>CLOSE_BRACE);
  used += copy(used, appendedAt, appendedLength);
  store<u8>(used++, <u8>CLOSE_BRACE);
  return used - out;
}

/**
 * Shapes objects from input index `i` (an absolute address) while they are plain, writing them at
 * `out` (at most `outCapacity` bytes) and each one's end, relative to `out`, at `ends`. Writes to
 * `results`: the index reached, the stage there, the output bytes, the object count; returns why it stopped.
 */
export function shape(i: u32, end: u32, stage: u32, out: u32, outCapacity: u32, ends: u32, results: u32): u32 {
  const objectExtra = intoLength + appendedLength + 8;
  let used: u32 = 0;
  let count: u32 = 0;
  let stop = STOP_END;
  while (true) {
    i = skipSpace(i);
    if (i >= end) break;
    let c = byteAt(i);
    if (stage == STAGE_AFTER) {
      if (c != COMMA) {
        stop = STOP_HANDOVER;
        break;
      }
      stage = STAGE_ITEM;
      i = skipSpace(i + 1);
      c = byteAt(i);
    }
    if (c != OPEN_BRACE) {
      stop = STOP_HANDOVER;
      break;
    }
    const objectEnd = object(i, end);
    if (objectEnd == BAIL) {
      stop = STOP_HANDOVER;
      break;
    }
    if (used + objectEnd - i + objectExtra > outCapacity) {
      stop = STOP_FULL;
      break;
    }
    used += write(out + used, i, objectEnd);
    store<u32>(ends + count * 4, used);
    count++;
    i = objectEnd;
    stage = ndjson ? STAGE_ITEM : STAGE_AFTER;
  }
  store<u32>(results, i);
  store<u32>(results + 4, stage);
  store<u32>(results + 8, used);
  store<u32>(results + 12, count);
  return stop;
}
