import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AirbyteMessage, StreamState } from './messages';
import { stateMessage } from './messages';
import { copyRange, type JsonBatch } from './json-batch';

const NEWLINE = 10;
/** Room past chunkBytes, so the line that fills a chunk fits without growing it. */
const CHUNK_SLACK = 16 * 1024;
/** Enough for a destination that finishes chunks as fast as they come; more would only hold memory. */
const MAX_SPARE_CHUNKS = 4;

const MASK = '**********';
/** The shortest part of a secret that is masked wherever it appears. */
const PIECE = 8;

/** One character as written, or percent-encoded in either case (a URL may re-encode `+`, `/`, `=`...). */
const anyEncoding = (char: string): string => {
  const literal = char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (/^[A-Za-z0-9]$/.test(char)) return literal;
  const encoded = [...Buffer.from(char)].map((byte) => byte.toString(16).padStart(2, '0'));
  const upper = encoded.map((hex) => `%${hex.toUpperCase()}`).join('');
  const lower = encoded.map((hex) => `%${hex}`).join('');
  return `(?:${literal}|${upper}|${lower}${char === ' ' ? '|\\+' : ''})`;
};

/**
 * Masks every configured secret in free text, as written, base64-encoded (Basic auth) or URL-encoded
 * in any way, wherever it appears. Only the text meant for people is masked (log messages, error
 * texts): message types, states and records are never rewritten, so even a one-letter key cannot
 * corrupt the protocol.
 */
export class SecretScrubber {
  private secrets: string[] = [];
  private pattern: RegExp | undefined;
  /** Every run of PIECE characters of a secret (as written or base64-encoded). */
  private readonly pieces = new Set<string>();

  constructor(secrets: Iterable<string> = []) {
    this.add(secrets);
  }

  add(secrets: Iterable<string>): void {
    const forms = new Set(this.secrets);
    for (const secret of secrets) {
      if (!secret) continue;
      forms.add(secret);
      forms.add(Buffer.from(secret).toString('base64'));
    }
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...forms].sort((a, b) => b.length - a.length);
    this.pattern = this.secrets.length > 0 ? new RegExp(this.secrets.map((form) => [...form].map(anyEncoding).join('')).join('|'), 'g') : undefined;
    for (const form of this.secrets) for (let at = 0; at + PIECE <= form.length; at++) this.pieces.add(form.slice(at, at + PIECE));
  }

  scrubText(text: string): string {
    return this.pattern ? this.maskPieces(text.replace(this.pattern, MASK)) : text;
  }

  /**
   * Masks any run of PIECE or more characters of a secret: a server may echo only part of a key
   * (the start of a header it quotes, a value cut short), and a part is a part of the secret.
   */
  private maskPieces(text: string): string {
    if (this.pieces.size === 0) return text;
    const ranges: [start: number, end: number][] = [];
    for (let at = 0; at + PIECE <= text.length; at++) {
      if (!this.pieces.has(text.slice(at, at + PIECE))) continue;
      const last = ranges.at(-1);
      if (last && at <= last[1]) last[1] = at + PIECE;
      else ranges.push([at, at + PIECE]);
    }
    let masked = '';
    let from = 0;
    for (const [start, end] of ranges) {
      masked += text.slice(from, start) + MASK;
      from = end;
    }
    return masked + text.slice(from);
  }

  /** The message with its free-text fields masked. */
  scrubMessage(message: AirbyteMessage): AirbyteMessage {
    if (!this.pattern) return message;
    const copy = { ...message } as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (copy.log) copy.log = { ...copy.log, message: this.scrubText(copy.log.message) };
    if (copy.connectionStatus?.message !== undefined) copy.connectionStatus = { ...copy.connectionStatus, message: this.scrubText(copy.connectionStatus.message) };
    if (copy.trace?.error) {
      const error = { ...copy.trace.error };
      for (const field of ['message', 'internal_message', 'stack_trace']) if (typeof error[field] === 'string') error[field] = this.scrubText(error[field]);
      copy.trace = { ...copy.trace, error };
    }
    return copy as AirbyteMessage;
  }
}

/**
 * Writes one JSON message per line. Lines are encoded straight into a byte chunk of about
 * `chunkBytes`, written with backpressure: when the destination's buffer is full, the writer (and
 * through it the whole read pipeline up to the HTTP socket) waits for 'drain'. Messages stay in
 * emission order, so a STATE line is never written before the RECORD lines it covers.
 */
export class OutputWriter {
  private chunk: Buffer;
  private used = 0;
  private readonly recordPrefixes = new Map<string, { text: string; bytes: Buffer }>();
  /** `,"emitted_at":<ms>}}` and a newline, for the last emitted_at written. */
  private recordSuffix = { emittedAt: -1, bytes: Buffer.alloc(0) };
  private idleTimer: NodeJS.Timeout | undefined;
  /** Chunks handed to the destination, and those it has finished with (its write callback ran). */
  private chunksWritten = 0;
  private chunksDone = 0;
  /**
   * Per chunk written, oldest first (write callbacks run in write order): the chunk, while the
   * destination holds it, or undefined once it took every byte within write().
   */
  private readonly chunksHeld: (Buffer | undefined)[] = [];
  /**
   * Chunks the destination is done with, written into again: a fresh buffer per chunk costs the
   * kernel a page fault per 4 KiB and the collector a buffer to free (about 6 % of a large read).
   */
  private readonly spareChunks: Buffer[] = [];
  /** flush() calls waiting for the destination to finish every chunk (SIGTERM may flush during a flush). */
  private waiting: (() => void)[] = [];
  /** Closed (close()): what is written from then on is dropped. */
  private closed = false;
  private readonly chunkDone = (): void => {
    const done = this.chunksHeld.shift();
    if (done !== undefined) this.spare(done);
    if (++this.chunksDone !== this.chunksWritten) return;
    for (const resolve of this.waiting.splice(0)) resolve();
  };

  constructor(
    private readonly out: Writable,
    private readonly scrubber: SecretScrubber = new SecretScrubber([]),
    private readonly chunkBytes = 64 * 1024,
    private readonly idleFlushMs = 200,
  ) {
    this.chunk = Buffer.allocUnsafe(chunkBytes + CHUNK_SLACK);
  }

  /**
   * Writes any message; text of non-RECORD messages is scrubbed of secrets. Messages other than
   * RECORD are rare and mark progress (STATE, status, logs), so they go out at once.
   */
  emit(message: AirbyteMessage): Promise<void> | void {
    if (message.type === 'RECORD') return this.pushLine(JSON.stringify(message));
    const pending = this.pushLine(JSON.stringify(this.scrubber.scrubMessage(message)));
    return pending ? pending.then(() => this.writeChunk()) : this.writeChunk();
  }

  record(stream: string, data: unknown, emittedAt = Date.now()): Promise<void> | void {
    return this.rawRecord(stream, JSON.stringify(data), emittedAt);
  }

  /** A RECORD whose `data` is already serialised JSON text. */
  rawRecord(stream: string, dataJson: string, emittedAt = Date.now()): Promise<void> | void {
    return this.pushLine(`${this.recordPrefix(stream).text}${dataJson},"emitted_at":${emittedAt}}}`);
  }

  /** RECORDs whose `data` are the batch's JSON texts, copied as bytes (never decoded or parsed). */
  rawRecords(stream: string, batch: JsonBatch, emittedAt = Date.now()): Promise<void> | void {
    if (this.closed) return;
    const prefix = this.recordPrefix(stream).bytes;
    if (this.recordSuffix.emittedAt !== emittedAt) this.recordSuffix = { emittedAt, bytes: Buffer.from(`,"emitted_at":${emittedAt}}}\n`) };
    const suffix = this.recordSuffix.bytes;
    const { bytes, ends } = batch;
    for (let k = 0, start = 0; k < ends.length; start = ends[k++]) {
      const room = prefix.length + ends[k] - start + suffix.length;
      if (this.used + room > this.chunk.length) this.grow(room);
      const chunk = this.chunk;
      let used = this.used;
      chunk.set(prefix, used);
      used += prefix.length + copyRange(bytes, start, ends[k], chunk, used + prefix.length);
      chunk.set(suffix, used);
      this.used = used += suffix.length;
      if (used >= this.chunkBytes) {
        const drained = this.writeChunk();
        if (drained) return drained.then(() => this.rawRecords(stream, batch.drop(k + 1), emittedAt));
      }
    }
    this.armIdleTimer();
  }

  /** `{"type":"RECORD","record":{"stream":<name>,"data":` as text and as bytes, made once per stream. */
  private recordPrefix(stream: string): { text: string; bytes: Buffer } {
    let prefix = this.recordPrefixes.get(stream);
    if (prefix === undefined) {
      const text = `{"type":"RECORD","record":{"stream":${JSON.stringify(stream)},"data":`;
      prefix = { text, bytes: Buffer.from(text) };
      this.recordPrefixes.set(stream, prefix);
    }
    return prefix;
  }

  /** Secrets become known only once the config is read; from then on they are masked. */
  addSecrets(secrets: Iterable<string>): void {
    this.scrubber.add(secrets);
  }

  /** Free text with the secrets masked: for text that is cut short before it is printed. */
  mask(text: string): string {
    return this.scrubber.scrubText(text);
  }

  state(stream: string, state: StreamState, recordCount: number): Promise<void> | void {
    return this.emit(stateMessage(stream, state, recordCount));
  }

  /**
   * The last words of a cancelled sync: `note` is written, then everything buffered, and nothing
   * after it. The read loop may go on a little while the process exits; what it adds is dropped
   * whole, never written in part, so the output ends with a whole line.
   */
  async close(note?: AirbyteMessage): Promise<void> {
    if (note && !this.closed) await this.emit(note);
    this.closed = true;
    await this.flush();
  }

  /** Writes everything buffered and resolves once the destination has accepted it. */
  async flush(): Promise<void> {
    await this.writeChunk();
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
    // A write the destination accepted without asking for 'drain' may still be on its way (a pipe
    // is non-blocking on Linux: the kernel took part of it), and process.exit() would drop the rest.
    if (this.chunksDone < this.chunksWritten) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private pushLine(line: string): Promise<void> | void {
    if (this.closed) return;
    // UTF-16 code units become at most 3 bytes each.
    const room = 3 * line.length + 1;
    if (this.used + room > this.chunk.length) this.grow(room);
    this.used += this.chunk.write(line, this.used);
    this.chunk[this.used++] = NEWLINE;
    return this.used >= this.chunkBytes ? this.writeChunk() : this.armIdleTimer();
  }

  /** Makes room for `bytes` more in the chunk (a line longer than the slack is rare). */
  private grow(bytes: number): void {
    const larger = Buffer.allocUnsafe(Math.max(this.chunkBytes + CHUNK_SLACK, this.used + bytes));
    this.chunk.copy(larger, 0, 0, this.used);
    this.chunk = larger;
  }

  /** Records of a slow API must not sit in memory while the next page is fetched. */
  private armIdleTimer(): void {
    this.idleTimer ??= setTimeout(() => void this.writeChunk()?.catch(() => undefined), this.idleFlushMs).unref();
  }

  /** Hands the chunk to the destination; resolves on 'drain' if the destination asked to wait. */
  private writeChunk(): Promise<void> | void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.used === 0) return;
    const chunk = this.chunk;
    const written = chunk.subarray(0, this.used);
    this.chunk = this.spareChunks.pop() ?? Buffer.allocUnsafe(this.chunkBytes + CHUNK_SLACK);
    this.used = 0;
    this.chunksWritten++;
    // A failed destination is reported by its 'error' event, not here.
    const accepted = this.out.write(written, this.chunkDone);
    // The written bytes belong to the destination until it is done with them. Nothing left in its
    // buffer means it took them all within write() (a pipe the kernel had room in): done already.
    // Holding such chunks until their callbacks would hold every chunk written between two awaits.
    const taken = this.out.writableLength === 0;
    this.chunksHeld.push(taken ? undefined : chunk);
    if (taken) this.spare(chunk);
    if (!accepted) return once(this.out, 'drain').then(() => undefined);
  }

  private spare(chunk: Buffer): void {
    if (chunk.length === this.chunkBytes + CHUNK_SLACK && this.spareChunks.length < MAX_SPARE_CHUNKS) this.spareChunks.push(chunk);
  }
}
