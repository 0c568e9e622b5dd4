import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import axiosRetry from 'axios-retry';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { isGzip } from './download';
import { ConfigError, ConnectorError, SystemError, TransientError } from './errors';
import { RateLimiter } from './rate-limit';

import { describeRequest, type Logger, type Params } from './request';

export type { Logger, Params };

export interface HttpClientOptions {
  /** Human name of the API, used in every error message ("PersistIQ rejected the API key"). */
  apiTitle: string;
  /** Credentials are attached only to requests whose origin is one of these. */
  credentialOrigins: string[];
  authHeaders: Record<string, string>;
  userAgent: string;
  timeoutMs: number;
  maxRetries: number;
  /** Cap on the sum of all waits for one request across its retries (a longer Retry-After fails at once). */
  maxWaitMs: number;
  /** First backoff step; doubles per attempt, with ±50 % jitter. */
  backoffBaseMs: number;
  requestsPerMinute?: number;
  /** Extracts the API's own error text from an error response body. */
  errorMessage: (body: unknown) => string | undefined;
  /** JSON parser for response bodies (default JSON.parse). */
  parseJson?: (text: string) => unknown;
  /** Leave query strings out of messages (pre-signed URLs carry their credential there). */
  hideQuery?: boolean;
  log: Logger;
  /** Masks secrets in text that is cut short before it is printed (masked first, so no part shows). */
  mask?: (text: string) => string;
}

export interface JsonResponse<T = unknown> {
  body: T;
  status: number;
  headers: Record<string, string | undefined>;
}

interface RetryState {
  retryCount?: number;
  waitedMs?: number;
  nextWaitMs?: number;
  budgetExceededMs?: number;
}

/** Wait the server asks for: Retry-After (seconds or HTTP-date), else X-RateLimit-Reset (epoch seconds). */
export function serverWaitMs(headers: Record<string, unknown> | undefined, now = Date.now()): number | undefined {
  const retryAfter = headers?.['retry-after'];
  if (typeof retryAfter === 'string' && retryAfter.trim() !== '') {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return rateLimitResetMs(headers, now);
}

/**
 * X-RateLimit-Reset as a wait: epoch seconds, epoch milliseconds, or seconds to wait (APIs differ;
 * an epoch is always far larger than a wait).
 */
function rateLimitResetMs(headers: Record<string, unknown> | undefined, now: number): number | undefined {
  const reset = Number(headers?.['x-ratelimit-reset']);
  if (headers?.['x-ratelimit-reset'] === undefined || headers['x-ratelimit-reset'] === '' || !Number.isFinite(reset)) return undefined;
  if (reset > 1e12) return Math.max(0, reset - now);
  return reset > 1e9 ? Math.max(0, reset * 1000 - now) : Math.max(0, reset * 1000);
}

/**
 * How long the server asks a retry to wait: Retry-After whenever sent; X-RateLimit-Reset only when
 * the limit is spent (a 429, or X-RateLimit-Remaining: 0). PersistIQ sends its reset on every answer:
 * a 5xx under it is backed off, not waited out until the window ends.
 */
function retryWaitMs(status: number | undefined, headers: Record<string, unknown> | undefined, now = Date.now()): number | undefined {
  const retryAfter = serverWaitMs({ 'retry-after': headers?.['retry-after'] }, now);
  if (retryAfter !== undefined) return retryAfter;
  const spent = status === 429 || String(headers?.['x-ratelimit-remaining']) === '0';
  return spent ? rateLimitResetMs(headers, now) : undefined;
}

/** Exponential backoff stops growing here; server-requested waits are bounded by maxWaitMs only. */
const MAX_BACKOFF_MS = 60_000;

const retryableCodes = new Set([408, 429, 500, 502, 503, 504]);

function isRetryable(error: AxiosError): boolean {
  if (error.code === AxiosError.ERR_CANCELED) return false;
  // No response: network error, reset, timeout. A 2xx here: the body broke off mid-transfer.
  if (!error.response || error.response.status < 300) return true;
  return retryableCodes.has(error.response.status) || error.response.status >= 500;
}

/** Strict gunzip (a truncated stream throws), recognised by its magic bytes; then UTF-8 text. */
function decodeBody(data: unknown): string {
  if (typeof data === 'string') return data;
  const bytes = Buffer.from(data as ArrayBuffer);
  return (isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8');
}

export class HttpClient {
  readonly axios: AxiosInstance;
  private readonly limiter?: RateLimiter;

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
    });
    if (options.requestsPerMinute) {
      this.limiter = new RateLimiter(options.requestsPerMinute, 60_000, (ms) => {
        if (ms >= 5_000) log('INFO', `${options.apiTitle}: waiting ${(ms / 1000).toFixed(1)} s to stay under ${options.requestsPerMinute} requests/minute`);
      });
    }
    this.axios.interceptors.request.use(async (config) => {
      const origin = new URL(config.url ?? '').origin;
      if (options.credentialOrigins.includes(origin)) {
        for (const [name, value] of Object.entries(options.authHeaders)) config.headers.set(name, value);
      }
      if (this.limiter) await this.limiter.acquire();
      return config;
    });
    // Before axios-retry's interceptor, so a body cut short inside its gzip stream is retried.
    this.axios.interceptors.response.use(
      (response) => {
        if (response.config.responseType !== 'arraybuffer') return response;
        try {
          response.data = decodeBody(response.data);
        } catch (error) {
          throw new AxiosError(`the body could not be decompressed (${(error as Error).message})`, (error as NodeJS.ErrnoException).code, response.config, response.request, response);
        }
        return response;
      },
      (error: AxiosError) => {
        if (error.response?.config.responseType === 'arraybuffer') {
          try {
            error.response.data = decodeBody(error.response.data);
          } catch {
            error.response.data = '';
          }
        }
        throw error;
      },
    );
    this.axios.interceptors.response.use((response) => {
      // The server says the budget is spent: do not send the next request before its reset.
      if (this.limiter && response.headers['x-ratelimit-remaining'] === '0') {
        const wait = rateLimitResetMs({ 'x-ratelimit-reset': response.headers['x-ratelimit-reset'] }, Date.now());
        if (wait !== undefined) this.limiter.pauseUntil(Date.now() + Math.min(wait, options.maxWaitMs));
      }
      return response;
    });
    axiosRetry(this.axios, {
      retries: options.maxRetries,
      shouldResetTimeout: true,
      retryCondition: (error) => this.planRetry(error),
      retryDelay: (_count, error) => (error.config as { 'axios-retry'?: RetryState })['axios-retry']?.nextWaitMs ?? 0,
      onRetry: (count, error) => {
        const state = (error.config as { 'axios-retry'?: RetryState })['axios-retry'];
        const what = error.response ? `HTTP ${error.response.status}` : (error.code ?? error.message);
        log('WARN', `${options.apiTitle}: ${this.describe(error.config)} failed (${what}); retry ${count}/${options.maxRetries} in ${((state?.nextWaitMs ?? 0) / 1000).toFixed(1)} s`);
      },
    });
  }

  /** Decides whether to retry and how long to wait, within the per-request wait budget. */
  private planRetry(error: AxiosError): boolean {
    if (!isRetryable(error)) return false;
    const state = ((error.config as { 'axios-retry'?: RetryState })['axios-retry'] ??= {});
    const attempt = (state.retryCount ?? 0) + 1;
    const backoff = Math.min(MAX_BACKOFF_MS, this.options.backoffBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random());
    const requested = retryWaitMs(error.response?.status, error.response?.headers as Record<string, unknown> | undefined);
    // A server-requested wait is honoured exactly (plus a little slack for clock skew).
    const wait = requested !== undefined ? requested + Math.min(1000, this.options.backoffBaseMs) : backoff;
    const waited = state.waitedMs ?? 0;
    if (waited + wait > this.options.maxWaitMs) {
      state.budgetExceededMs = wait;
      return false;
    }
    state.nextWaitMs = wait;
    state.waitedMs = waited + wait;
    return true;
  }

  async getJson<T = unknown>(url: string, params?: Params): Promise<JsonResponse<T>> {
    return this.json<T>({ method: 'GET', url, params });
  }

  async postJson<T = unknown>(url: string, data: unknown): Promise<JsonResponse<T>> {
    return this.json<T>({ method: 'POST', url, data, headers: { 'Content-Type': 'application/json' } });
  }

  /** A streamed response body (large downloads); the caller consumes or destroys it. */
  async getStream(url: string, params?: Params, headers?: Record<string, string>): Promise<AxiosResponse<Readable>> {
    return this.send<Readable>({ method: 'GET', url, params, headers, responseType: 'stream', decompress: false });
  }

  private async json<T>(config: AxiosRequestConfig): Promise<JsonResponse<T>> {
    const response = await this.send<string>(config);
    const text = response.data;
    let body: T;
    try {
      body = (this.options.parseJson ?? JSON.parse)(text) as T;
    } catch (error) {
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
    const resolved = this.resolve(error, requestConfig);
    if (error instanceof AxiosError && error.response) resolved.httpStatus = error.response.status;
    return resolved;
  }

  private resolve(error: unknown, requestConfig: AxiosRequestConfig): ConnectorError {
    if (!(error instanceof AxiosError)) return new SystemError(`${this.options.apiTitle}: ${(error as Error).message}`);
    const { apiTitle } = this.options;
    const request = this.describe(error.config ?? requestConfig);
    const state = (error.config as { 'axios-retry'?: RetryState } | undefined)?.['axios-retry'];
    const attempts = (state?.retryCount ?? 0) + 1;
    const tries = `${attempts} attempt${attempts > 1 ? 's' : ''}`;
    const response = error.response;
    if (!response) {
      const reason = error.code === AxiosError.ECONNABORTED || error.code === AxiosError.ETIMEDOUT ? `timed out after ${this.options.timeoutMs} ms` : `${error.code ?? ''} ${error.message}`.trim();
      return new TransientError(`${apiTitle} could not be reached: ${request} ${reason} (${tries})`);
    }
    const status = response.status;
    if (status < 300) {
      return new TransientError(`${apiTitle}: the response to ${request} broke off before its end (${error.code ?? error.message}; ${tries})`);
    }
    const apiMessage = this.apiMessage(response);
    const detail = apiMessage ? `: ${apiMessage}` : '';
    if (state?.budgetExceededMs !== undefined) {
      return new TransientError(
        `${apiTitle} asked to wait ${(state.budgetExceededMs / 1000).toFixed(0)} s after HTTP ${status} on ${request}, which with earlier retries exceeds the connector's wait limit of ${(this.options.maxWaitMs / 1000).toFixed(0)} s per request (max_wait_seconds)${detail}`,
      );
    }
    if (status === 401) return Object.assign(new ConfigError(`${apiTitle} rejected the API key (HTTP 401)${detail}`), { everyStream: true });
    if (status === 403) return new ConfigError(`${apiTitle} denied access to ${request} (HTTP 403)${detail}. Check the API key's permissions.`);
    if (status === 429) return new TransientError(`${apiTitle} rate limit still exceeded after ${attempts} attempts on ${request} (HTTP 429)${detail}`);
    if (status >= 500 || status === 408) {
      return new TransientError(`${apiTitle} failed ${attempts} times on ${request} (last: HTTP ${status})${detail}`);
    }
    if (status >= 300 && status < 400) {
      return new SystemError(`${apiTitle} redirected ${request} (HTTP ${status}) to ${withoutQuery(response.headers.location, requestConfig.url)}; check base_url`);
    }
    return new SystemError(`${apiTitle} returned HTTP ${status} for ${request}${detail}`);
  }

  private apiMessage(response: AxiosResponse): string | undefined {
    const raw = response.data;
    if (raw === undefined || raw === null || typeof (raw as Readable).pipe === 'function') return undefined;
    let body: unknown = raw;
    if (typeof raw === 'string') {
      try {
        body = JSON.parse(raw);
      } catch {
        return this.excerpt(raw.trim(), 300) || undefined;
      }
    }
    const message = this.options.errorMessage(body);
    return message === undefined ? this.excerpt(JSON.stringify(body), 300) : this.excerpt(message, 1000);
  }

  /** The start of a text, secrets masked before it is cut (a cut key would show its first characters). */
  private excerpt(text: string, length: number): string {
    return (this.options.mask ? this.options.mask(text) : text).slice(0, length);
  }
}

/** A redirect target without its query (a pre-signed URL carries its credential there). */
function withoutQuery(location: unknown, base: string | undefined): string {
  if (typeof location !== 'string' || location === '') return 'an unknown location';
  try {
    const url = new URL(location, base);
    return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return 'an unparsable location';
  }
}
