// Large exports cut into objects as bytes: no UTF-8 decode, no parse, no encode. 64-bit integers keep
// every digit, memory stays flat however big the body is, and each byte is looked at once, in a
// tight loop (for tokens this short, a loop over a Buffer beats calling indexOf or startsWith).
import { copyRange, JsonBatch, SystemError } from '../protocol';
import {
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  endOf,
  fail,
  incompleteOr,
  INCOMPLETE,
  OPEN_BRACE,
  OPEN_BRACKET,
  otherValueEnd,
  PAD,
  QUOTE,
  BACKSLASH,
  skipSpace,
  stringEnd,
  tokenCounts,
} from './tokens';
import { TruncatedBodyError } from './text';
import { declaredKeySlots, FAST_SCAN_MAX_BYTES, FastObjectScan, STAGE_AFTER, STAGE_ITEM, STOP_HANDOVER } from './fast-object-scan';
import { DeclaredKeys } from './declared-keys';
import { ShapedOutput } from './shaped-output';

/** Released output buffers kept for the next scans: the read loop releases each batch before the next. */
const MAX_SPARE_OUTPUTS = 2;

/**
 * Reads a stream of JSON objects, a top-level array of them (`array`) or one per line (`ndjson`),
 * fed as byte chunks cut anywhere (inside a UTF-8 character too), and returns each object's bytes
 * with every member whose key is not `declared` moved, unchanged, into one object member named
 * `into`, and `appended` (members as JSON text, e.g. where the object came from) added last. Keys,
 * separators, brackets and scalar tokens are checked on the way; nested values are checked with
 * JSON.parse; strings are copied as they came, except raw control characters, which JSON allows
 * only escaped and which are escaped (a lossless repair, counted). An item that is not UTF-8, holds
 * an invalid escape, or grows past `maxItemBytes` fails the read before it is delivered. Plain
 * objects are shaped by the WebAssembly fast path (fast-object-scan.ts), which hands every other
 * object back to this class.
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
  /** Whether a member's key is declared (kept in place). */
  private readonly keys: DeclaredKeys;
  private readonly intoMember: Buffer;
  /** `,` and the appended members: written before each object's closing brace. */
  private readonly appendedMembers: Buffer;
  /** What the current scan makes. */
  private output = new ShapedOutput(0);
  /**
   * Buffers of batches the read loop has released, to make the next ones in: a fresh buffer per
   * chunk costs the kernel a page fault per 4 KiB and the collector a buffer to free (about 3 % of
   * a large export's read). A batch still held is never written into.
   */
  private readonly spareOutputs: Buffer[] = [];
  private readonly recycleOutput = (bytes: Buffer): void => {
    if (this.spareOutputs.length < MAX_SPARE_OUTPUTS) this.spareOutputs.push(bytes);
  };
  /** Output bytes per input byte in the last scan. */
  private growth = 1;
  /** The WebAssembly fast path for plain objects; without it, every object is shaped here. */
  private readonly fast: FastObjectScan | undefined;

  constructor(
    private readonly format: 'array' | 'ndjson',
    declared: ReadonlySet<string>,
    into: string,
    appended = '',
    /** An object still open past this many bytes fails the read (a body that never closes one, too). */
    private readonly maxItemBytes = Infinity,
    /** Off only to compare against (tests): this class's own path is the reference. */
    fastPath = true,
  ) {
    this.stage = format === 'array' ? 'start' : 'item';
    this.intoMember = Buffer.from(`${JSON.stringify(into)}:{`);
    this.appendedMembers = Buffer.from(appended === '' ? '' : `,${appended}`);
    const keySlots = declaredKeySlots(declared, into);
    this.keys = new DeclaredKeys(declared, into, keySlots);
    this.fast = fastPath ? new FastObjectScan(keySlots, this.intoMember, this.appendedMembers, format === 'ndjson') : undefined;
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
    if (length < this.scanAt && length <= this.maxItemBytes) return JsonBatch.EMPTY;
    const batch = this.scan();
    if (this.restLength > this.maxItemBytes) {
      throw new SystemError(
        `an item is larger than ${(this.maxItemBytes / 1048576).toFixed(0)} MB, or never ends (max_record_megabytes); it starts with "${this.work.toString('utf8', 0, 80)}"`,
      );
    }
    return batch;
  }

  /** At the end of the body: what is left is shaped; an unfinished object or array means it was cut short. */
  end(): JsonBatch {
    const last = this.restLength > 0 ? this.scan() : JsonBatch.EMPTY;
    if (this.work.toString('utf8', 0, this.restLength).trim() !== '' || (this.format === 'array' && this.stage !== 'done'))
      throw new TruncatedBodyError('the body ended inside its JSON');
    return last;
  }

  /** Shapes every object complete in `work`; keeps the unfinished rest at its start. */
  private scan(): JsonBatch {
    const length = this.restLength;
    const bytes = this.work.subarray(0, length + PAD);
    bytes.fill(0, length);
    // Sized as the last scan grew its text (appended members add bytes to every object), so one
    // buffer a scan is garbage, not two: collected less often on the fast path, they weigh on RSS.
    const output = (this.output = new ShapedOutput(Math.ceil(length * this.growth) + 4096, this.spareOutputs.pop()));
    const fast = length <= FAST_SCAN_MAX_BYTES ? this.fast : undefined;
    fast?.load(bytes);
    let i = 0;
    /** Where the fast path last handed over: the next token there is taken here. */
    let handedOverAt = -1;
    for (;;) {
      i = skipSpace(bytes, i);
      if (i >= endOf(bytes)) break;
      if (fast !== undefined && i !== handedOverAt && (this.stage === 'item' || this.stage === 'after')) {
        const run = fast.shape(i, length, this.stage === 'item' ? STAGE_ITEM : STAGE_AFTER);
        output.append(run.output, run.ends);
        i = run.at;
        this.stage = run.stage === STAGE_ITEM ? 'item' : 'after';
        if (run.stop === STOP_HANDOVER) handedOverAt = i;
        continue;
      }
      const c = bytes[i];
      if (this.stage === 'item' || (this.stage === 'first' && c !== CLOSE_BRACKET)) {
        if (c !== OPEN_BRACE) fail('expected an object', bytes, i);
        const end = this.object(bytes, i);
        if (end === INCOMPLETE) break;
        output.endObject();
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
    // At most twice: one scan of tiny objects must not make the next one's buffer enormous.
    if (i > 0 && output.used > 0) this.growth = Math.min(2, Math.max(1, output.used / i));
    return output.batch(this.recycleOutput);
  }

  /** Shapes the object opening at `start` into the output; returns the index past it, or INCOMPLETE. */
  private object(bytes: Buffer, start: number): number {
    const { kept, moved } = this;
    // How much of each run array this object uses (setting an array's length is a slow call).
    let keptUsed = 0;
    let movedUsed = 0;
    let keptLast = false;
    const controlsBefore = tokenCounts.rawControls;
    let i = skipSpace(bytes, start + 1);
    let c = bytes[i];
    if (c !== CLOSE_BRACE) {
      for (;;) {
        if (c !== QUOTE) return incompleteOr(bytes, i, 'expected a key');
        const memberStart = i;
        let escaped = false;
        // The end of the bytes is met as a control character (the zero PAD), so it is checked only then.
        for (i++; (c = bytes[i]) !== QUOTE; i++) {
          if (c === BACKSLASH) {
            escaped = true;
            i++;
          } else if (c < 32) {
            if (i >= endOf(bytes)) return INCOMPLETE;
            tokenCounts.rawControls++;
          }
        }
        const declared = this.keys.has(bytes, memberStart + 1, i, escaped);
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
    const outStart = this.output.used;
    this.write(bytes, start, i + 1, keptUsed, movedUsed);
    if (tokenCounts.rawControls > controlsBefore) this.output.escapeControlsFrom(outStart);
    return i + 1;
  }

  /**
   * Writes the object spanning [start, end), its kept runs first, its moved runs under `into`, then
   * the appended members.
   */
  private write(bytes: Buffer, start: number, end: number, keptUsed: number, movedUsed: number): void {
    const { kept, moved, appendedMembers, output } = this;
    output.reserve(output.used + end - start + this.intoMember.length + appendedMembers.length + 8);
    const out = output.bytes;
    let used = output.used;
    if (movedUsed === 0 && appendedMembers.length === 0) {
      output.used = used + copyRange(bytes, start, end, out, used);
      return;
    }
    if (movedUsed === 0) {
      // The object without its closing brace (an empty one without its comma).
      used += copyRange(bytes, start, end - 1, out, used);
      if (keptUsed === 0) used += copyRange(appendedMembers, 1, appendedMembers.length, out, used);
      else {
        // The whole buffer: set() needs no view of it (a view per object is garbage to collect).
        out.set(appendedMembers, used);
        used += appendedMembers.length;
      }
      out[used++] = CLOSE_BRACE;
      output.used = used;
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
    out.set(appendedMembers, used);
    used += appendedMembers.length;
    out[used++] = CLOSE_BRACE;
    output.used = used;
  }
}
