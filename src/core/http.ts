import axios, { AxiosError, CanceledError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import axiosRetry from 'axios-retry';
import type { Readable } from 'node:stream';
import { ConfigError, ConnectorError, SystemError } from './errors';
import { excerpt, resolveHttpError } from './error-table';
import { isRetryable, MAX_BACKOFF_MS, retryState, type RetryState } from './retries';
import { followAnnouncement, RateLimiter } from './rate-limit';
import { InFlightWindow } from './in-flight';
import { CutGzipError, decodeBody, decodeErrorBody, UndecodableBodyError } from './response-body';
import { limitSpent, retryWaitMs } from './server-waits';

import type { ApiClock } from './clock';
import { describeRequest, type Logger, type Params } from './request';

export type { Logger, Params };
export { serverWaitMs } from './server-waits';

export interface HttpClientOptions {
  /** Human name of the API, used in every error message ("PersistIQ rejected the API key"). */
  apiTitle: string;
  /** Credentials are attached only to requests whose origin is one of these. */
  credentialOrigins: string[];
  authHeaders: Record<string, string>;
  userAgent: string;
  /** Idle timeout: no byte from the server for this long. */
  timeoutMs: number;
  /** Total time for one attempt of a request, from sending it to the last byte of a page (to the headers of a download). */
  deadlineMs: number;
  /** Time a download may spend waiting on the server, summed over its body (not the time its reader is busy). */
  downloadDeadlineMs: number;
  /** Cap on a page's size, as sent and decompressed. */
  maxResponseBytes: number;
  /** Cap on one item of a streamed download. */
  maxRecordBytes: number;
  maxRetries: number;
  /** Cap on the sum of all waits for one request across its retries (a longer Retry-After fails at once). */
  maxWaitMs: number;
  /** First backoff step; doubles per attempt, with ±50 % jitter. */
  backoffBaseMs: number;
  requestsPerMinute?: number;
  /** The most requests in flight at once; within it, requests in flight follow the pace times the latency. */
  maxInFlight: number;
  /**
   * The key's own limit, from an answer's headers (PersistIQ's X-RateLimit-Limit): the pace follows
   * it, never above `requestsPerMinuteCap`; a 429 at it returns the pace to requestsPerMinute.
   */
  announcedRequestsPerMinute?: (headers: Record<string, unknown>) => number | undefined;
  /** The user's own cap on the pace, if any (an announced limit is followed up to it). */
  requestsPerMinuteCap?: number;
  /** The documented limit: an announcement below it is followed only down to it. */
  announcedRequestsPerMinuteFloor?: number;
  /** No published limit: requestsPerMinute is a ceiling, and the pace follows what the server accepts (429s). */
  adaptiveRate?: boolean;
  /** Adaptive: the pace slow start begins at, requests per minute (default 1,200: 20 a second). */
  adaptiveStartPerMinute?: number;
  /** Extracts the API's own error text from an error response body. */
  errorMessage: (body: unknown) => string | undefined;
  /** JSON parser for response bodies (default JSON.parse). */
  parseJson?: (text: string) => unknown;
  /** What api.base_url should look like, for the message when a server answers with something else (an HTML page). */
  baseUrlExample?: string;
  /** Leave query strings out of messages (pre-signed URLs carry their credential there). */
  hideQuery?: boolean;
  log: Logger;
  /** Masks secrets in text that is cut short before it is printed (masked first, so no part shows). */
  mask?: (text: string) => string;
  /** Told of each request and retry, and of waits on the server's rate limit. */
  reporter?: RequestReporter;
  /** DEBUG log of each answer: method, path, status, duration (never headers, keys or signed queries). */
  debug?: boolean;
  /** Told the Date header of every answer. */
  clock?: ApiClock;
}

export interface RequestReporter {
  /** A request (or a retry of one) went out. */
  sent(): void;
  /** An answer in the 2xx range came. */
  answered(): void;
  retrying(): void;
  /** Requests wait on the server's rate limit until about `quotaResetMs` (epoch ms). */
  waiting(quotaResetMs: number): void;
  resumed(): void;
}

export interface JsonResponse<T = unknown> {
  body: T;
  status: number;
  headers: Record<string, string | undefined>;
}

export class HttpClient {
  readonly axios: AxiosInstance;
  private readonly limiter?: RateLimiter;
  private readonly window: InFlightWindow;

  constructor(readonly options: HttpClientOptions) {
    const { log } = options;
    this.axios = axios.create({
      timeout: options.timeoutMs,
      headers: { 'User-Agent': options.userAgent, Accept: 'application/json', 'Accept-Encoding': 'gzip' },
      // Bytes in, decompressed and parsed here: axios's own gunzip accepts a truncated body, and a
      // malformed body must become a clear error instead of a silent string.
      responseType: 'arraybuffer',
      transformResponse: [(data: unknown) => data],
      maxRedirects: 0,
      decompress: false,
      maxContentLength: options.maxResponseBytes,
    });
    const reporter = options.reporter;
    if (options.requestsPerMinute) {
      this.limiter = new RateLimiter(
        options.requestsPerMinute,
        60_000,
        (ms, serverPaused) => {
          if (serverPaused) reporter?.waiting(Date.now() + ms);
          if (ms >= 5_000) log('INFO', `${options.apiTitle}: waiting ${(ms / 1000).toFixed(1)} s ${serverPaused ? 'for the rate limit to reset' : `to stay under ${Math.round(this.limiter!.currentRate)} requests/minute`}`);
        },
        options.adaptiveRate,
        Date.now,
        options.adaptiveStartPerMinute,
      );
    }
    const limiter = this.limiter;
    this.window = new InFlightWindow(options.maxInFlight, () => (limiter ? (limiter.currentRate * 1000) / limiter.windowMs : undefined));
    this.axios.interceptors.request.use(async (config) => {
      const origin = new URL(config.url ?? '').origin;
      if (options.credentialOrigins.includes(origin)) {
        for (const [name, value] of Object.entries(options.authHeaders)) config.headers.set(name, value);
      }
      const state = retryState(config);
      // The caller's signal, kept across retries (each attempt gets its own for its deadline).
      const caller = (state.callerSignal ??= config.signal as AbortSignal | undefined);
      const canceled = () => {
        state.deadlineExceeded = false;
        return new CanceledError('the request is no longer needed', config);
      };
      await this.window.acquire(caller).catch(() => {
        throw canceled();
      });
      state.holdsSlot = true;
      if (this.limiter && (await this.limiter.acquire())) reporter?.resumed();
      if (caller?.aborted) throw canceled();
      reporter?.sent();
      state.sentAt = Date.now();
      if (state.rateLimited) reporter?.resumed();
      state.rateLimited = false;
      // The idle timeout does not see a server that sends one byte at a time: each attempt also has a deadline.
      const controller = new AbortController();
      state.deadlineExceeded = false;
      state.deadlineTimer = setTimeout(() => {
        state.deadlineExceeded = true;
        controller.abort();
      }, options.deadlineMs);
      caller?.addEventListener('abort', () => controller.abort(), { once: true });
      config.signal = controller.signal;
      return config;
    });
    // Before axios-retry's interceptor, so a body cut short inside its gzip stream is retried.
    this.axios.interceptors.response.use(
      (response) => {
        const state = retryState(response.config);
        clearTimeout(state.deadlineTimer);
        this.releaseSlot(state);
        options.clock?.observe(response.headers.date);
        this.followAnnouncedLimit(response.headers);
        this.limiter?.accepted(state.sentAt);
        reporter?.answered();
        this.debugLog(response.config, response.status);
        if (response.config.responseType !== 'arraybuffer') return response;
        try {
          response.data = decodeBody(response.data, options.maxResponseBytes);
        } catch (error) {
          if (error instanceof UndecodableBodyError) throw new SystemError(`${options.apiTitle}'s answer to ${this.describe(response.config)} (HTTP ${response.status}) cannot be used: ${error.message}`);
          throw new AxiosError((error as Error).message, (error as CutGzipError).code, response.config, response.request, response);
        }
        return response;
      },
      (error: AxiosError) => {
        const state = retryState(error.config);
        clearTimeout(state.deadlineTimer);
        this.releaseSlot(state, error.response !== undefined);
        options.clock?.observe(error.response?.headers.date);
        if (error.response?.status === 429 && this.limiter) {
          const before = this.limiter.currentRate;
          this.limiter.throttled(state.sentAt);
          this.holdWhileSpent(429, error.response.headers, state.sentAt);
          if (this.limiter.currentRate !== before) log('INFO', `${options.apiTitle} refused a request at ${Math.round(before)} requests/minute (HTTP 429); pacing at ${Math.round(this.limiter.currentRate)} from now on`);
        } else if (error.response) this.followAnnouncedLimit(error.response.headers);
        this.debugLog(error.config, error.response?.status ?? error.code);
        if (error.response?.config.responseType === 'arraybuffer') error.response.data = decodeErrorBody(error.response.data, options.maxResponseBytes);
        throw error;
      },
    );
    this.axios.interceptors.response.use((response) => {
      this.holdWhileSpent(response.status, response.headers);
      return response;
    });
    axiosRetry(this.axios, {
      retries: options.maxRetries,
      shouldResetTimeout: true,
      retryCondition: (error) => this.planRetry(error),
      retryDelay: (_count, error) => retryState(error.config).nextWaitMs ?? 0,
      onRetry: (count, error, config) => {
        const state = retryState(error.config);
        reporter?.retrying();
        // The spent signal would cut the wait short; the next attempt gets its own.
        config.signal = undefined;
        const what = error.response ? `HTTP ${error.response.status}` : state.deadlineExceeded ? `no complete answer within ${options.deadlineMs / 1000} s` : (error.code ?? error.message);
        if (limitSpent(error.response?.status, error.response?.headers)) {
          state.rateLimited = true;
          reporter?.waiting(Date.now() + (state.nextWaitMs ?? 0));
        }
        log('WARN', `${options.apiTitle}: ${this.describe(error.config)} failed (${what}); retry ${count}/${options.maxRetries} in ${((state.nextWaitMs ?? 0) / 1000).toFixed(1)} s`);
      },
    });
  }

  /**
   * Requests this client would keep in flight now: what a stream that can send several at once (pages
   * read ahead, one request per parent) offers, so that the window, not the stream, is the bound.
   */
  get parallelism(): number {
    return this.window.size;
  }

  /** An attempt's answer (or failure) came: its slot in the window goes to the next request. */
  private releaseSlot(state: RetryState, answered = true): void {
    if (!state.holdsSlot) return;
    state.holdsSlot = false;
    this.window.release(answered && state.sentAt !== undefined ? Date.now() - state.sentAt : undefined);
  }

  private followAnnouncedLimit(headers: Record<string, unknown>): void {
    const announced = this.options.announcedRequestsPerMinute?.(headers);
    if (!this.limiter || !announced) return;
    const change = followAnnouncement(this.limiter, announced, this.options.requestsPerMinuteCap, this.options.announcedRequestsPerMinuteFloor);
    if (change) this.options.log('INFO', `${this.options.apiTitle} ${change}`);
  }

  /**
   * The server says the key's budget is spent (a 429, or X-RateLimit-Remaining: 0): no request of
   * this client goes before the wait it asks for. Left to the refused request's own retry, the other
   * requests in flight would be sent into the spent budget and refused too. A wait beyond
   * max_wait_seconds holds nothing: each request then fails at once on its own answer, instead of
   * after max_wait_seconds of holding. A Retry-After in seconds counts from when the server decided,
   * as the refused request arrived, not from its answer a latency later (with the same slack as the
   * refused request's own retry, which so never waits on this hold); an absolute reset time is kept.
   */
  /**
   * Added to a wait the server asks for: a tenth of it, at most a second (a 1 s Retry-After, already
   * rounded up to the second, is not doubled), for clock skew and the request's way to the server.
   */
  private slackMs(requestedMs: number): number {
    return Math.min(1000, this.options.backoffBaseMs, requestedMs / 10);
  }

  private holdWhileSpent(status: number, headers: Record<string, unknown>, sentAt?: number): void {
    if (!this.limiter || !limitSpent(status, headers)) return;
    const wait = retryWaitMs(status, headers);
    if (wait === undefined || wait > this.options.maxWaitMs) return;
    const inSeconds = /^\s*\d+(\.\d+)?\s*$/.test(String(headers['retry-after'] ?? ''));
    this.limiter.pauseUntil(inSeconds && sentAt !== undefined ? sentAt + wait + this.slackMs(wait) : Date.now() + wait);
  }

  private debugLog(config: AxiosRequestConfig | undefined, outcome: number | string | undefined): void {
    if (!this.options.debug || !config) return;
    const sentAt = retryState(config).sentAt;
    this.options.log('DEBUG', `${this.options.apiTitle}: ${this.describe(config)} → ${outcome ?? 'no answer'} in ${sentAt === undefined ? '?' : Date.now() - sentAt} ms`);
  }

  /** Decides whether to retry and how long to wait, within the per-request wait budget. */
  private planRetry(error: AxiosError): boolean {
    if (!isRetryable(error)) return false;
    const state = retryState(error.config);
    const attempt = (state.retryCount ?? 0) + 1;
    const backoff = Math.min(MAX_BACKOFF_MS, this.options.backoffBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random());
    const requested = retryWaitMs(error.response?.status, error.response?.headers as Record<string, unknown> | undefined);
    const wait = requested !== undefined ? requested + this.slackMs(requested) : backoff;
    const waited = state.waitedMs ?? 0;
    if (waited + wait > this.options.maxWaitMs) {
      state.budgetExceededMs = wait;
      return false;
    }
    state.nextWaitMs = wait;
    state.waitedMs = waited + wait;
    return true;
  }

  /** `signal`: the caller no longer needs the answer (it is then not sent, or not waited for). */
  async getJson<T = unknown>(url: string, params?: Params, signal?: AbortSignal): Promise<JsonResponse<T>> {
    return this.json<T>({ method: 'GET', url, params, signal });
  }

  async postJson<T = unknown>(url: string, data: unknown): Promise<JsonResponse<T>> {
    return this.json<T>({ method: 'POST', url, data, headers: { 'Content-Type': 'application/json' } });
  }

  /** A streamed response body (large downloads); the caller consumes or destroys it. */
  async getStream(url: string, params?: Params, headers?: Record<string, string>): Promise<AxiosResponse<Readable>> {
    // Its size is bounded item by item (maxRecordBytes) by the reader, not as a whole.
    return this.send<Readable>({ method: 'GET', url, params, headers, responseType: 'stream', decompress: false, maxContentLength: -1 });
  }

  private async json<T>(config: AxiosRequestConfig): Promise<JsonResponse<T>> {
    const response = await this.send<string>(config);
    const text = response.data;
    let body: T;
    try {
      body = (this.options.parseJson ?? JSON.parse)(text) as T;
    } catch (error) {
      if (/^\s*</.test(String(text))) {
        const host = new URL(config.url ?? '').host;
        const example = this.options.baseUrlExample ? `; it should be the API's root, like ${this.options.baseUrlExample}` : '';
        throw new ConfigError(
          `${host} answered ${this.describe(config)} with an HTML page, not ${this.options.apiTitle}'s JSON (HTTP ${response.status}): check api.base_url${example}`,
          `body starts with: ${this.excerpt(String(text), 200)}`,
        );
      }
      throw new SystemError(
        `${this.options.apiTitle} returned invalid JSON for ${this.describe(config)} (HTTP ${response.status}): ${(error as Error).message}`,
        `body starts with: ${this.excerpt(String(text), 200)}`,
      );
    }
    return { body, status: response.status, headers: response.headers as Record<string, string | undefined> };
  }

  private async send<T>(config: AxiosRequestConfig): Promise<AxiosResponse<T>> {
    try {
      return await this.axios.request<T>(config);
    } catch (error) {
      throw this.toConnectorError(error, config);
    }
  }

  describe(config: AxiosRequestConfig | undefined): string {
    if (!this.options.hideQuery || !config?.url) return describeRequest(config);
    const url = new URL(config.url);
    return `${(config.method ?? 'get').toUpperCase()} ${url.origin}${url.pathname}`;
  }

  /** The error resolution table: what each failure means for the user. */
  toConnectorError(error: unknown, requestConfig: AxiosRequestConfig): ConnectorError {
    if (error instanceof ConnectorError) return error;
    const resolved = resolveHttpError(error, requestConfig, this.options, (config) => this.describe(config));
    if (error instanceof AxiosError && error.response) resolved.httpStatus = error.response.status;
    return resolved;
  }

  /** The start of a text, secrets masked before it is cut (a cut key would show its first characters). */
  private excerpt(text: string, length: number): string {
    return excerpt(this.options, text, length);
  }
}
