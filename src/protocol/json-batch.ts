/**
 * JSON texts as UTF-8 bytes, back to back in one buffer: how records travel from a large download
 * to stdout without ever becoming strings or objects (no decode, no parse, no encode).
 */
export class JsonBatch {
  static readonly EMPTY = new JsonBatch(Buffer.alloc(0), []);

  /** Item `i` spans bytes [ends[i - 1] ?? 0, ends[i]). */
  constructor(
    readonly bytes: Buffer,
    readonly ends: readonly number[],
    /** How many items had raw control characters escaped on the way (a lossless repair, reported per stream). */
    readonly repaired = 0,
    private readonly recycle?: () => void,
  ) {}

  /**
   * Its reader has written it out and holds none of it: its maker may write into the buffer again.
   * A batch never released is just collected, so only the read loop calls this.
   */
  release(): void {
    this.recycle?.();
  }

  static of(texts: readonly string[]): JsonBatch {
    const ends: number[] = [];
    let end = 0;
    for (const text of texts) ends.push((end += Buffer.byteLength(text)));
    return new JsonBatch(Buffer.from(texts.join('')), ends);
  }

  get count(): number {
    return this.ends.length;
  }

  /** The batch without its first `n` items. */
  drop(n: number): JsonBatch {
    if (n <= 0) return this;
    if (n >= this.ends.length) return JsonBatch.EMPTY;
    const start = this.ends[n - 1];
    return new JsonBatch(
      this.bytes.subarray(start),
      this.ends.slice(n).map((end) => end - start),
      Math.min(this.repaired, this.ends.length - n),
    );
  }

  /** Each item's text (for tests and logs; the hot path never decodes). */
  texts(): string[] {
    return this.ends.map((end, i) => this.bytes.toString('utf8', i === 0 ? 0 : this.ends[i - 1], end));
  }
}

/**
 * Copies bytes [start, end) of `from` into `to` at `at`; returns the count. TypedArray#set is a V8
 * builtin: cheaper per call than Buffer#copy, which the hot path calls a few times per record.
 */
export function copyRange(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  to.set(from.subarray(start, end), at);
  return end - start;
}
