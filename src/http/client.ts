import axios, { AxiosError, CanceledError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import axiosRetry from 'axios-retry';
import http, { type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { ConnectorError, SystemError } from '../protocol';
import { type AnswersSoFar, excerpt, htmlPageError, isHtml, resolveHttpError } from './error-table';
import { isHostUnreachable, isRetryable, MAX_BACKOFF_MS, retryState } from './retries';
import type { HttpClientOptions } from './options';
import { RequestPace } from './request-pace';
import { CutGzipError, decodeBody, decodeErrorBody, UndecodableBodyError } from './response-body';
import { parseJsonExact } from '../json';
import { limitSpent, retryWaitMs } from './server-waits';
import { describeRequest, type Params } from './request';

export interface SendOptions {
  /** The caller no longer needs the answer: it is then not sent, or not waited for. */
  signal?: AbortSignal;
  /** One of many the caller sends at once (pages read ahead, a request per parent): requests sent alone go first. */
  bulk?: boolean;
}

export interface JsonResponse<T = unknown> {
  body: T;
  status: number;
  headers: Record<string, string | undefined>;
}

/**
 * Node's own transport with room for response headers up to MAX_HEADER_BYTES: its default, 16 KiB,
 * fails an answer with a long Link or Set-Cookie list as a connection that "could not be reached".
 */
const MAX_HEADER_BYTES = 256 * 1024;
const roomyHeaders = {
  request: (options: RequestOptions, callback: (response: IncomingMessage) => void) =>
    (options.protocol === 'https:' ? https : http).request({ ...options, maxHeaderSize: MAX_HEADER_BYTES }, callback),
};

/**
 * Retries of a host that refuses connections or has no address before it ever answered: a wrong
 * base_url or a network that is not there, not worth minutes of backoff (a blip mid-sync gets all).
 */
const RETRIES_BEFORE_FIRST_ANSWER = 2;

export class HttpClient {
  readonly axios: AxiosInstance;
  private readonly pace: RequestPace;
  private readonly heard: AnswersSoFar = { reached: false, served: false };

  constructor(readonly options: HttpClientOptions) {
    const { log, reporter } = options.reporting;
    const { auth, bounds } = options;
    this.axios = axios.create({
      timeout: bounds.timeoutMs,
      headers: { 'User-Agent': auth.userAgent, Accept: 'application/json', 'Accept-Encoding': 'gzip' },
      // Bytes in, decompressed and parsed here: axios's own gunzip accepts a truncated body, and a
      // malformed body must become a clear error instead of a silent string.
      responseType: 'arraybuffer',
      transformResponse: [(data: unknown) => data],
      maxRedirects: 0,
      transport: roomyHeaders,
      decompress: false,
      maxContentLength: bounds.maxResponseBytes,
    });
    this.pace = new RequestPace(options);
    this.axios.interceptors.request.use(async (config) => {
      const origin = new URL(config.url ?? '').origin;
      if (auth.credentialOrigins.includes(origin)) {
        for (const [name, value] of Object.entries(auth.headers)) config.headers.set(name, value);
      }
      const state = retryState(config);
      // The caller's signal, kept across retries (each attempt gets its own for its deadline).
      const caller = (state.callerSignal ??= config.signal as AbortSignal | undefined);
      const canceled = () => {
        state.deadlineExceeded = false;
        return new CanceledError('the request is no longer needed', config);
      };
      if (!(await this.pace.admit(state, caller))) throw canceled();
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
      }, bounds.deadlineMs);
      caller?.addEventListener('abort', () => controller.abort(), { once: true });
      config.signal = controller.signal;
      return config;
    });
    // Before axios-retry's interceptor, so a body cut short inside its gzip stream is retried.
    this.axios.interceptors.response.use(
      (response) => {
        const state = retryState(response.config);
        clearTimeout(state.deadlineTimer);
        this.heard.reached = true;
        this.pace.accepted(state, response.status, response.headers);
        options.answers.clock?.observe(response.headers.date);
        this.debugLog(response.config, response.status);
        if (response.config.responseType !== 'arraybuffer') {
          this.served();
          return response;
        }
        try {
          response.data = decodeBody(response.data, bounds.maxResponseBytes, response.headers['content-encoding']);
          // An HTML page is not the API serving (a web server at a wrong base_url answers 200 too).
          if (!isHtml(response.data)) this.served();
        } catch (error) {
          if (error instanceof UndecodableBodyError)
            throw new SystemError(`${options.apiTitle}'s answer to ${this.describe(response.config)} (HTTP ${response.status}) cannot be used: ${error.message}`);
          throw new AxiosError((error as Error).message, (error as CutGzipError).code, response.config, response.request, response);
        }
        return response;
      },
      (error: AxiosError) => {
        const state = retryState(error.config);
        clearTimeout(state.deadlineTimer);
        if (error.response) this.heard.reached = true;
        this.pace.failed(state, error.response);
        options.answers.clock?.observe(error.response?.headers.date);
        this.debugLog(error.config, error.response?.status ?? error.code);
        if (error.response?.config.responseType === 'arraybuffer') error.response.data = decodeErrorBody(error.response.data, bounds.maxResponseBytes);
        throw error;
      },
    );
    axiosRetry(this.axios, {
      retries: bounds.maxRetries,
      shouldResetTimeout: true,
      retryCondition: (error) => this.planRetry(error),
      retryDelay: (_count, error) => retryState(error.config).nextWaitMs ?? 0,
      onRetry: (count, error, config) => {
        const state = retryState(error.config);
        reporter?.retrying();
        // The spent signal would cut the wait short; the next attempt gets its own.
        config.signal = undefined;
        const what = error.response
          ? `HTTP ${error.response.status}`
          : state.deadlineExceeded
            ? `no complete answer within ${bounds.deadlineMs / 1000} s`
            : (error.code ?? error.message);
        if (limitSpent(error.response?.status, error.response?.headers)) {
          state.rateLimited = true;
          reporter?.waiting(Date.now() + (state.nextWaitMs ?? 0));
        }
        const notYetReached = this.unreachedHost(error);
        const retries = notYetReached ? Math.min(bounds.maxRetries, RETRIES_BEFORE_FIRST_ANSWER) : bounds.maxRetries;
        log(
          'WARN',
          `${options.apiTitle}: ${this.describe(error.config)} failed (${what}); retry ${count}/${retries} in ${((state.nextWaitMs ?? 0) / 1000).toFixed(1)} s${notYetReached ? ' (the host has not answered once yet)' : ''}`,
        );
      },
    });
  }

  /**
   * Requests this client would keep in flight now: what a stream that can send several at once (pages
   * read ahead, one request per parent) offers, so that the window, not the stream, is the bound.
   */
  get parallelism(): number {
    return this.pace.parallelism;
  }

  private debugLog(config: AxiosRequestConfig | undefined, outcome: number | string | undefined): void {
    if (!this.options.reporting.debug || !config) return;
    const sentAt = retryState(config).sentAt;
    this.options.reporting.log('DEBUG', `${this.options.apiTitle}: ${this.describe(config)} → ${outcome ?? 'no answer'} in ${sentAt === undefined ? '?' : Date.now() - sentAt} ms`);
  }

  /** The API answered as the API (2xx, not an HTML page): base_url leads to it, and the key works. */
  private served(): void {
    this.heard.served = true;
    this.options.reporting.reporter?.answered();
  }

  /** A connection refused, or a name without an address, before the host ever answered in this run. */
  private unreachedHost(error: AxiosError): boolean {
    return isHostUnreachable(error) && !this.heard.reached;
  }

  /** Decides whether to retry and how long to wait, within the per-request wait budget. */
  private planRetry(error: AxiosError): boolean {
    if (!isRetryable(error)) return false;
    const state = retryState(error.config);
    const attempt = (state.retryCount ?? 0) + 1;
    if (this.unreachedHost(error) && attempt > RETRIES_BEFORE_FIRST_ANSWER) return false;
    const backoff = Math.min(MAX_BACKOFF_MS, this.options.bounds.backoffBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random());
    const requested = retryWaitMs(error.response?.status, error.response?.headers as Record<string, unknown> | undefined);
    const wait = requested !== undefined ? requested + this.pace.slackMs(requested) : backoff;
    const waited = state.waitedMs ?? 0;
    if (waited + wait > this.options.bounds.maxWaitMs) {
      state.budgetExceededMs = wait;
      return false;
    }
    state.nextWaitMs = wait;
    state.waitedMs = waited + wait;
    return true;
  }

  async getJson<T = unknown>(url: string, params?: Params, sending: SendOptions = {}): Promise<JsonResponse<T>> {
    const config: AxiosRequestConfig = { method: 'GET', url, params, signal: sending.signal };
    retryState(config).bulk = sending.bulk;
    return this.json<T>(config);
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
      body = (this.options.answers.parseJson ?? parseJsonExact)(text) as T;
    } catch (error) {
      if (isHtml(text)) throw htmlPageError(response, this.describe(config), '1 attempt', this.options, this.heard);
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
    if (!this.options.reporting.hideQuery || !config?.url) return describeRequest(config);
    const url = new URL(config.url);
    return `${(config.method ?? 'get').toUpperCase()} ${url.origin}${url.pathname}`;
  }

  /** The error resolution table: what each failure means for the user. */
  toConnectorError(error: unknown, requestConfig: AxiosRequestConfig): ConnectorError {
    if (error instanceof ConnectorError) return error;
    const resolved = resolveHttpError(error, requestConfig, this.options, (config) => this.describe(config), this.heard);
    if (error instanceof AxiosError && error.response) resolved.httpStatus = error.response.status;
    return resolved;
  }

  /** The start of a text, secrets masked before it is cut (a cut key would show its first characters). */
  private excerpt(text: string, length: number): string {
    return excerpt(this.options, text, length);
  }
}
