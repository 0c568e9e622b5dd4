import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AirbyteMessage, StreamState } from './protocol';
import { stateMessage } from './protocol';

const MASK = '**********';

/**
 * Replaces every configured secret, and the encodings it travels in (base64 for Basic auth,
 * URL-encoding for query strings), with a mask in any string of a message.
 */
export class SecretScrubber {
  private needles: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    this.add(secrets);
  }

  add(secrets: Iterable<string>): void {
    const forms = new Set(this.needles);
    for (const secret of secrets) {
      if (!secret) continue;
      forms.add(secret);
      forms.add(Buffer.from(secret).toString('base64'));
      forms.add(encodeURIComponent(secret));
      forms.add(new URLSearchParams({ s: secret }).toString().slice(2)); // as axios puts it in a query
    }
    // Longest first, so a secret that contains another is masked whole.
    this.needles = [...forms].sort((a, b) => b.length - a.length);
  }

  scrubText(text: string): string {
    let result = text;
    for (const needle of this.needles) result = result.split(needle).join(MASK);
    return result;
  }

  scrub<T>(value: T): T {
    if (this.needles.length === 0) return value;
    if (typeof value === 'string') return this.scrubText(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.scrub(item)) as T;
    if (value && typeof value === 'object') {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) copy[key] = this.scrub(item);
      return copy as T;
    }
    return value;
  }
}

/**
 * Writes one JSON message per line. Lines are joined into chunks of about `chunkBytes` and written
 * with backpressure: when the destination's buffer is full, the writer (and through it the whole
 * read pipeline up to the HTTP socket) waits for 'drain'. Messages stay in emission order, so a
 * STATE line is never written before the RECORD lines it covers.
 */
export class OutputWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly recordPrefixes = new Map<string, string>();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Writable,
    private readonly scrubber: SecretScrubber = new SecretScrubber([]),
    private readonly chunkBytes = 64 * 1024,
    private readonly idleFlushMs = 200,
  ) {}

  /**
   * Writes any message; text of non-RECORD messages is scrubbed of secrets. Messages other than
   * RECORD are rare and mark progress (STATE, status, logs), so they go out at once.
   */
  emit(message: AirbyteMessage): Promise<void> | void {
    if (message.type === 'RECORD') return this.push(JSON.stringify(message));
    const pending = this.push(JSON.stringify(this.scrubber.scrub(message)));
    return pending ? pending.then(() => this.writeChunk()) : this.writeChunk();
  }

  record(stream: string, data: unknown, emittedAt = Date.now()): Promise<void> | void {
    return this.rawRecord(stream, JSON.stringify(data), emittedAt);
  }

  /** A RECORD whose `data` is already serialised JSON text (used to pass records through unparsed). */
  rawRecord(stream: string, dataJson: string, emittedAt = Date.now()): Promise<void> | void {
    let prefix = this.recordPrefixes.get(stream);
    if (prefix === undefined) {
      prefix = `{"type":"RECORD","record":{"stream":${JSON.stringify(stream)},"data":`;
      this.recordPrefixes.set(stream, prefix);
    }
    return this.push(`${prefix}${dataJson},"emitted_at":${emittedAt}}}`);
  }

  /** Secrets become known only once the config is read; from then on they are masked. */
  addSecrets(secrets: Iterable<string>): void {
    this.scrubber.add(secrets);
  }

  state(stream: string, state: StreamState, recordCount: number): Promise<void> | void {
    return this.emit(stateMessage(stream, state, recordCount));
  }

  /** Writes everything buffered and resolves once the destination has accepted it. */
  async flush(): Promise<void> {
    await this.writeChunk();
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  private push(line: string): Promise<void> | void {
    this.pending.push(line);
    this.pendingBytes += line.length + 1;
    if (this.pendingBytes >= this.chunkBytes) return this.writeChunk();
    // Records of a slow API must not sit in memory while the next page is fetched.
    this.idleTimer ??= setTimeout(() => void this.writeChunk().catch(() => undefined), this.idleFlushMs).unref();
  }

  private async writeChunk(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('\n') + '\n';
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
}
