import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface MockRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface MockResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a Buffer or string. */
  body?: unknown;
  gzip?: boolean;
}

/** A fault injected into matching requests, `times` times (default once). */
export type Fault = {
  path?: string | RegExp;
  /** Only when the query has these values (e.g. { page: '2' }). */
  query?: Record<string, string>;
  times?: number;
} & (
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Closes the connection before any header. */
  | { kind: 'reset' }
  /** Sends headers and part of the body (default half), then closes the connection. */
  | { kind: 'reset_mid_body'; fraction?: number }
  /** Sends part of the body as if it were all of it (Content-Length matches; a clean end). */
  | { kind: 'truncate'; fraction?: number }
  /** Sends part of the body, then nothing more. */
  | { kind: 'hang_mid_body'; fraction?: number }
  /** Never answers. */
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  /** Answers 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** Rewrites the normal JSON answer. */
  | { kind: 'rewrite'; rewrite: (body: unknown, request: MockRequest) => unknown }
  /** Answers at the socket level, as a hostile server or proxy might (drips, endless bodies, raw bytes). */
  | { kind: 'handle'; handle: (res: ServerResponse, request: MockRequest) => void }
);

export interface RateLimit {
  limit: number;
  windowMs: number;
  /**
   * fixed (default): windows that start at the first request after the last one ended, as the
   * APIs' X-RateLimit-Reset (the end of the current window) describes. sliding: at most `limit` in
   * any `windowMs`, as Fullstory words its limiter: "the number of requests received by the API
   * within any given second" (developer.fullstory.com/overview/limits).
   */
  kind?: 'fixed' | 'sliding';
  /** The API's own 429 answer. */
  reject(resetAtMs: number, limit: number): MockResponse;
  /** Headers the API adds to every answer. */
  headers?(limit: number, remaining: number, resetAtMs: number): Record<string, string>;
}

export type Handler = (request: MockRequest, server: MockServer) => MockResponse | Promise<MockResponse>;

const matches = (fault: Fault, request: MockRequest): boolean => {
  if (fault.path !== undefined) {
    if (typeof fault.path === 'string' ? fault.path !== request.path : !fault.path.test(request.path)) return false;
  }
  return Object.entries(fault.query ?? {}).every(([key, value]) => request.query.get(key) === value);
};

/** Config fields that keep tests fast: no proactive pacing to speak of, short backoff and timeouts. */
/** A port on 127.0.0.1 that nothing listens on: a connection to it is refused (ECONNREFUSED). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const FAST_TUNING = { requests_per_minute: 6000, retry_initial_delay_seconds: 0.05, max_wait_seconds: 10, request_timeout_seconds: 2 };

/** A local HTTP server on 127.0.0.1 and a random port, with a request log and fault switches. */
export class MockServer {
  readonly requests: MockRequest[] = [];
  readonly faults: Fault[] = [];
  /** 429s the rate limit provoked (a well-behaved client provokes none). */
  rateLimited = 0;
  rateLimit: RateLimit | undefined;
  /** Compress JSON answers when the client accepts gzip, as the APIs' web servers do. */
  gzipWhenAccepted = false;
  /** The server's clock minus the real one, as its Date header shows it (a server whose clock is off). */
  clockSkewMs = 0;
  /** A server clock stopped at this instant (epoch ms), as its Date header shows it: the same answers at any real time. */
  pinnedNow: number | undefined;
  /**
   * Time every answer takes, as a real API's do (100-300 ms): each request waits on its own, however
   * many are in flight, and is counted against the rate limit when it arrives.
   */
  latencyMs = 0;
  /** Requests being answered now, and the most there were at once. */
  private inFlight = 0;
  mostInFlight = 0;
  private readonly server: Server;
  private windowStart = 0;
  private windowCount = 0;
  /** Sliding windows: when the requests accepted in the last window arrived. */
  private acceptedAt: number[] = [];
  url = '';

  constructor(private readonly handler: Handler) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', this.url);
        const request: MockRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        this.requests.push(request);
        this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
        res.once('close', () => this.inFlight--);
        this.respond(request, res).catch((error: Error) => {
          res.statusCode = 500;
          res.end(JSON.stringify({ mock_error: error.message }));
        });
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The server's time (its clock may be off: clockSkewMs). */
  now(): number {
    return this.pinnedNow ?? Date.now() + this.clockSkewMs;
  }

  inject(...faults: Fault[]): this {
    this.faults.push(...faults);
    return this;
  }

  private takeFault(request: MockRequest): Fault | undefined {
    const index = this.faults.findIndex((fault) => matches(fault, request));
    if (index < 0) return undefined;
    const fault = this.faults[index];
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }

  /** Fixed windows, as the APIs' X-RateLimit-Reset (end of the current window) describes. */
  private countRequest(): { allowed: boolean; headers: Record<string, string> } {
    const limit = this.rateLimit;
    if (!limit) return { allowed: true, headers: {} };
    const now = Date.now();
    if (limit.kind === 'sliding') {
      this.acceptedAt = this.acceptedAt.filter((at) => now - at < limit.windowMs);
      const allowed = this.acceptedAt.length < limit.limit;
      if (allowed) this.acceptedAt.push(now);
      // Refused: the budget has room again when the oldest request in the window leaves it.
      this.windowStart = allowed ? now - limit.windowMs : this.acceptedAt[0];
      return { allowed, headers: limit.headers?.(limit.limit, limit.limit - this.acceptedAt.length, this.acceptedAt[0] + limit.windowMs) ?? {} };
    }
    if (now - this.windowStart >= limit.windowMs) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    const resetAt = this.windowStart + limit.windowMs;
    const allowed = this.windowCount < limit.limit;
    if (allowed) this.windowCount++;
    const headers = limit.headers?.(limit.limit, Math.max(0, limit.limit - this.windowCount), resetAt) ?? {};
    return { allowed, headers };
  }

  private async respond(request: MockRequest, res: ServerResponse): Promise<void> {
    const { allowed, headers: limitHeaders } = this.countRequest();
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (!allowed && this.rateLimit) {
      this.rateLimited++;
      return this.send(res, this.rateLimit.reject(this.windowStart + this.rateLimit.windowMs, this.rateLimit.limit), limitHeaders);
    }
    const fault = this.takeFault(request);
    switch (fault?.kind) {
      case 'handle':
        return fault.handle(res, request);
      case 'reset':
        res.socket?.destroy();
        return;
      case 'hang':
        return;
      case 'status':
        return this.send(res, { status: fault.status, body: fault.body ?? { error: `injected ${fault.status}` }, headers: fault.headers }, limitHeaders);
      case 'malformed':
        return this.send(res, { status: 200, body: '{"status":"success","records": [{"id": 1,', headers: { 'Content-Type': 'application/json' } }, limitHeaders);
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        break;
    }
    const response = await this.handler(request, this);
    if (this.gzipWhenAccepted && response.status === 200 && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) response.gzip ??= true;
    if (fault?.kind === 'rewrite') response.body = fault.rewrite(response.body, request);
    if (fault?.kind === 'reset_mid_body' || fault?.kind === 'truncate' || fault?.kind === 'hang_mid_body') {
      const body = this.encode(response);
      const part = body.subarray(0, Math.floor(body.length * (fault.fraction ?? 0.5)));
      if (fault.kind === 'truncate') return this.sendEncoded(res, response, part, limitHeaders);
      res.writeHead(response.status, { ...this.headersFor(response, limitHeaders), 'Content-Length': String(body.length) });
      res.write(part, () => fault.kind === 'reset_mid_body' && res.socket?.destroy());
      return;
    }
    return this.send(res, response, limitHeaders);
  }

  private encode(response: MockResponse): Buffer {
    const body = response.body;
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body));
    return response.gzip ? gzipSync(raw) : raw;
  }

  private headersFor(response: MockResponse, extraHeaders: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', ...extraHeaders, ...response.headers };
    if (this.clockSkewMs !== 0 || this.pinnedNow !== undefined) headers.Date = new Date(this.now()).toUTCString();
    if (response.gzip && !headers['Content-Type']?.includes('gzip')) headers['Content-Encoding'] = 'gzip';
    return headers;
  }

  private send(res: ServerResponse, response: MockResponse, extraHeaders: Record<string, string>): void {
    this.sendEncoded(res, response, this.encode(response), extraHeaders);
  }

  private sendEncoded(res: ServerResponse, response: MockResponse, body: Buffer, extraHeaders: Record<string, string>): void {
    res.writeHead(response.status, { ...this.headersFor(response, extraHeaders), 'Content-Length': String(body.length) });
    res.end(body);
  }
}
