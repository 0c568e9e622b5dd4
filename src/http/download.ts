// Large downloads as a stream of items: download → (gunzip) → split → items, never the whole body in
// memory and never decoded to text: items travel as bytes. A body that breaks off midway is
// downloaded again and the items already delivered are skipped, so no item is emitted twice or lost.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ConnectorError, type JsonBatch, SystemError, TransientError } from '../protocol';
import type { HttpClient } from './client';
import type { Params } from './request';
import { TruncatedBodyError } from '../json';
import { sleep } from './rate-limit';
import { isGzip } from './response-body';

/** Cuts a body's bytes into items; `end` flushes the last ones and throws if the body was cut short. */
export interface Splitter {
  push(chunk: Buffer): JsonBatch;
  end(): JsonBatch;
}

/** Makes a splitter that fails on an item larger than `maxItemBytes` (one that never ends, too). */
export type SplitterFactory = (maxItemBytes: number) => Splitter;

export { isGzip };

/** Waits for the first bytes of a stream without consuming them. */
async function peek(stream: Readable): Promise<Buffer | undefined> {
  for (;;) {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) {
      stream.unshift(chunk);
      return chunk;
    }
    if (stream.readableEnded || stream.destroyed) return undefined;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        stream.off('readable', done).off('end', done).off('error', failed);
        resolve();
      };
      const failed = (error: Error) => {
        stream.off('readable', done).off('end', done);
        reject(error);
      };
      stream.once('readable', done).once('end', done).once('error', failed);
    });
  }
}

export interface BodyLimits {
  /** No byte from the server for this long while the connector waits for one. */
  idleTimeoutMs: number;
  /** Time spent waiting on the server, summed over the body. */
  deadlineMs: number;
}

/**
 * Measures the server's silence only while the connector waits for bytes: the time a slow
 * destination takes to accept records (backpressure) is never counted against the server.
 */
class ServerClock {
  private timer: NodeJS.Timeout | undefined;
  private since = 0;
  private waitedMs = 0;

  constructor(
    private readonly body: Readable,
    private readonly limits: BodyLimits,
  ) {}

  waiting(): void {
    this.since = Date.now();
    const left = this.limits.deadlineMs - this.waitedMs;
    // The error is made only if the timer fires: this runs for every chunk of the body.
    const fail = () =>
      left < this.limits.idleTimeoutMs
        ? new IdleBodyError(`no end within ${this.limits.deadlineMs / 1000} s of waiting on the server (download_deadline_minutes)`)
        : new IdleBodyError(`no data for ${this.limits.idleTimeoutMs} ms`);
    this.timer = setTimeout(() => this.body.destroy(fail()), Math.max(0, Math.min(left, this.limits.idleTimeoutMs)));
  }

  /** The wait is over; a second call (the body's end, then its cleanup) counts nothing more. */
  received(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waitedMs += Date.now() - this.since;
  }
}

/**
 * The body's bytes, unpacked. Gzip is recognised by its magic bytes, whatever Content-Type or
 * Content-Encoding say (servers disagree on them); a body gzipped twice (a .gz file sent with
 * Content-Encoding: gzip) is unpacked twice.
 */
export async function* bodyBytes(body: Readable, limits: BodyLimits): AsyncGenerator<Buffer> {
  const clock = new ServerClock(body, limits);
  try {
    let source = body;
    for (let layer = 0; layer < 2; layer++) {
      clock.waiting();
      const head = await peek(source).finally(() => clock.received());
      if (!head || !isGzip(head)) break;
      // Large output chunks: each one is a round trip to zlib's thread pool.
      source = pipeline(source, createGunzip({ chunkSize: 128 * 1024 }), () => undefined);
    }
    const chunks = source[Symbol.asyncIterator]();
    for (;;) {
      clock.waiting();
      const next = await chunks.next().finally(() => clock.received());
      if (next.done) return;
      yield next.value as Buffer;
    }
  } finally {
    clock.received();
    body.destroy();
  }
}

class IdleBodyError extends Error {}

/** Errors that mean "the body broke off": the download is worth repeating. */
function isBrokenBody(error: unknown): boolean {
  if (error instanceof TruncatedBodyError || error instanceof IdleBodyError) return true;
  const code = (error as NodeJS.ErrnoException).code;
  return (
    ['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'Z_BUF_ERROR', 'Z_DATA_ERROR'].includes(code ?? '') || (error as Error).message === 'aborted'
  );
}

export interface DownloadRequest {
  url: string;
  params?: Params;
  /** What the user should read in messages (a pre-signed URL's query is a credential: never shown). */
  label: string;
  /**
   * For a pre-signed URL, which expires: asks for a fresh one. Then a repeated attempt uses a fresh
   * URL, and a 4xx from the storage host is a refused link (asked again), never a credential problem.
   */
  refresh?: () => Promise<string>;
}

/**
 * Items of a streamed download, each as raw text, in batches (one per chunk of the body: a generator
 * step per item would cost more than the item). On a broken body the download starts again, up to
 * the client's max_retries, and the items already yielded are skipped.
 */
export async function* downloadItems(http: HttpClient, request: DownloadRequest, newSplitter: SplitterFactory): AsyncGenerator<JsonBatch> {
  const { apiTitle, bounds, reporting } = http.options;
  const { maxRetries, backoffBaseMs, timeoutMs, downloadDeadlineMs, maxRecordBytes } = bounds;
  const { log } = reporting;
  let delivered = 0;
  let url = request.url;
  for (let attempt = 0; ; attempt++) {
    let seen = 0;
    if (attempt > 0 && request.refresh) url = await request.refresh();
    let response: Awaited<ReturnType<HttpClient['getStream']>>;
    try {
      response = await http.getStream(url, request.params);
    } catch (error) {
      const status = error instanceof ConnectorError ? error.httpStatus : undefined;
      if (!request.refresh || status === undefined || status < 400 || status >= 500) throw error;
      const refused = `the storage host refused the link to ${request.label} (HTTP ${status})`;
      if (attempt >= maxRetries) throw new TransientError(`${apiTitle}: ${refused} ${attempt + 1} times; ${delivered} items were delivered`);
      log('WARN', `${apiTitle}: ${refused}, as an expired pre-signed link is; asking for a fresh link`);
      continue;
    }
    try {
      const splitter = newSplitter(maxRecordBytes);
      // Only the items past those already delivered by an earlier attempt.
      const fresh = (items: JsonBatch): JsonBatch => {
        const skip = Math.max(0, Math.min(items.count, delivered - seen));
        seen += items.count;
        delivered += items.count - skip;
        return items.drop(skip);
      };
      for await (const chunk of bodyBytes(response.data, { idleTimeoutMs: timeoutMs, deadlineMs: downloadDeadlineMs })) {
        const items = fresh(splitter.push(chunk));
        if (items.count > 0) yield items;
      }
      const last = fresh(splitter.end());
      if (last.count > 0) yield last;
      return;
    } catch (error) {
      const reason = (error as Error).message;
      if (!isBrokenBody(error)) throw new SystemError(`${apiTitle}: reading ${request.label} failed: ${reason}`);
      if (attempt >= maxRetries) {
        throw new TransientError(`${apiTitle}: the download of ${request.label} broke off ${attempt + 1} times (last: ${reason}); ${delivered} items were delivered`);
      }
      const wait = Math.min(60_000, backoffBaseMs * 2 ** attempt);
      log(
        'WARN',
        `${apiTitle}: the download of ${request.label} broke off after ${seen} items (${reason}); downloading again in ${(wait / 1000).toFixed(1)} s, skipping the ${delivered} already delivered`,
      );
      await sleep(wait);
    }
  }
}
