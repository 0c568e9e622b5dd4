// What one scan of the object shaper makes: the shaped objects back to back, where each one ends,
// and how many had raw control characters escaped. Becomes the JsonBatch the read loop writes.
import { isUtf8 } from 'node:buffer';
import { JsonBatch, SystemError } from '../protocol';
import { escapeRawControls } from './tokens';
import { firstInvalidUtf8 } from './text';

export class ShapedOutput {
  bytes: Buffer;
  used = 0;
  readonly ends: number[] = [];
  private repaired = 0;

  /**
   * `spare`: a buffer an earlier batch was made in, written into again if it is large enough. A new
   * one is a power of two: scans of chunks of about the same size then fit in each other's buffers.
   */
  constructor(capacity: number, spare?: Buffer) {
    this.bytes = spare !== undefined && spare.length >= capacity ? spare : Buffer.allocUnsafe(capacity <= 1 ? capacity : 2 ** Math.ceil(Math.log2(capacity)));
  }

  /** Makes the buffer hold at least `most` bytes, keeping what it holds. */
  reserve(most: number): void {
    if (most <= this.bytes.length) return;
    const larger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, most));
    this.bytes.copy(larger, 0, 0, this.used);
    this.bytes = larger;
  }

  /** Marks the end of the object just written. */
  endObject(): void {
    this.ends.push(this.used);
  }

  /** Appends objects shaped elsewhere (the fast path): their bytes, and where each ends within them. */
  append(bytes: Uint8Array, ends: ArrayLike<number>): void {
    if (ends.length === 0) return;
    this.reserve(this.used + bytes.length);
    this.bytes.set(bytes, this.used);
    for (let k = 0; k < ends.length; k++) this.ends.push(this.used + ends[k]);
    this.used += bytes.length;
  }

  /** Rewrites the object written from `start` with its raw control characters escaped (a lossless repair). */
  escapeControlsFrom(start: number): void {
    const fixed = escapeRawControls(this.bytes, start, this.used);
    this.used = start;
    this.reserve(start + fixed.length);
    this.used = start + fixed.copy(this.bytes, start);
    this.repaired++;
  }

  /**
   * The objects as a batch; the first one that is not UTF-8 fails the read, before any STATE can
   * cover it. Once the batch is released, `recycle` receives the buffer to make another in.
   */
  batch(recycle?: (bytes: Buffer) => void): JsonBatch {
    if (this.ends.length === 0) return JsonBatch.EMPTY;
    const bytes = this.bytes.subarray(0, this.used);
    if (!isUtf8(bytes)) {
      for (let k = 0, start = 0; k < this.ends.length; start = this.ends[k++]) {
        const item = bytes.subarray(start, this.ends[k]);
        if (!isUtf8(item)) {
          throw new SystemError(
            `an item is not valid UTF-8 (byte ${firstInvalidUtf8(item)} of it), which no JSON line can carry unchanged; it starts with "${item.toString('utf8', 0, 80)}"`,
          );
        }
      }
    }
    const whole = this.bytes;
    return new JsonBatch(bytes, this.ends, this.repaired, recycle && (() => recycle(whole)));
  }
}
