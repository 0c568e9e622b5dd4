// The error resolution table: what each failed request means for the user, as a ConnectorError
// whose failure type tells the platform whether to retry the sync or ask for a fix.
import { AxiosError, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type { Readable } from 'node:stream';
import { ConfigError, ConnectorError, SystemError, TransientError } from '../protocol';
import type { HttpClientOptions } from './options';
import { isHostUnreachable, isTooLarge, retryStateOf } from './retries';
import { MEGABYTE } from './response-body';

/** What this client has heard from the API so far in this run. */
export interface AnswersSoFar {
  /** Any HTTP answer: the host is there. */
  reached: boolean;
  /** A 2xx answer: base_url leads to the API. */
  served: boolean;
}

export function resolveHttpError(
  error: unknown,
  requestConfig: AxiosRequestConfig,
  options: HttpClientOptions,
  describe: (config: AxiosRequestConfig | undefined) => string,
  heard: AnswersSoFar,
): ConnectorError {
  if (!(error instanceof AxiosError)) return new SystemError(`${options.apiTitle}: ${(error as Error).message}`);
  const { apiTitle } = options;
  const request = describe(error.config ?? requestConfig);
  const state = retryStateOf(error.config);
  const attempts = (state?.retryCount ?? 0) + 1;
  const tries = `${attempts} attempt${attempts > 1 ? 's' : ''}`;
  const response = error.response;
  if (isTooLarge(error)) {
    return new SystemError(`${apiTitle}'s answer to ${request} cannot be used: it is larger than ${options.bounds.maxResponseBytes / MEGABYTE} MB (max_response_megabytes)`);
  }
  if (!response) {
    const reason = state?.deadlineExceeded
      ? `gave no complete answer within ${options.bounds.deadlineMs / 1000} s (request_deadline_seconds)`
      : error.code === AxiosError.ECONNABORTED || error.code === AxiosError.ETIMEDOUT
        ? `timed out after ${options.bounds.timeoutMs} ms without data (request_timeout_seconds)`
        : `${error.code ?? ''} ${error.message}`.trim();
    const origin = new URL(error.config?.url ?? requestConfig.url ?? 'http://unknown').origin;
    // The API's own host refuses connections or has no address: every stream would meet it again.
    const apiHostDown = isHostUnreachable(error) && options.auth.credentialOrigins.includes(origin);
    const hint = apiHostDown && !heard.reached ? `; check api.base_url's host (${new URL(origin).host}) and the network between it and the connector` : '';
    const unreachable = new TransientError(`${apiTitle} could not be reached: ${request} ${reason} (${tries})${hint}`);
    if (apiHostDown) unreachable.everyStream = true;
    return unreachable;
  }
  const status = response.status;
  if (status < 300) {
    return new TransientError(`${apiTitle}: the response to ${request} broke off before its end (${error.code ?? error.message}; ${tries})`);
  }
  // Answers from the API's own host (not a pre-signed download's) say whether base_url is right.
  const fromApiRoot = options.auth.credentialOrigins.includes(new URL(response.config.url ?? 'http://unknown').origin);
  if (fromApiRoot && isHtml(response.data)) return htmlPageError(response, request, tries, options, heard);
  const message = apiMessage(response, options);
  const detail = message ? `: ${message}` : '';
  if (state?.budgetExceededMs !== undefined) {
    return new TransientError(
      `${apiTitle} asked to wait ${(state.budgetExceededMs / 1000).toFixed(0)} s after HTTP ${status} on ${request}, which with earlier retries exceeds the connector's wait limit of ${(options.bounds.maxWaitMs / 1000).toFixed(0)} s per request (max_wait_seconds)${detail}`,
    );
  }
  if (status === 401) return Object.assign(new ConfigError(`${apiTitle} rejected the API key (HTTP 401)${detail}`), { everyStream: true });
  if (status === 403) return new ConfigError(`${apiTitle} denied access to ${request} (HTTP 403)${detail}. Check the API key's permissions.`);
  if (status === 429) return new TransientError(`${apiTitle} rate limit still exceeded after ${attempts} attempts on ${request} (HTTP 429)${detail}`);
  if (status >= 500 || status === 408) {
    return new TransientError(`${apiTitle} failed ${attempts} times on ${request} (last: HTTP ${status})${detail}`);
  }
  if (status === 404 && fromApiRoot && !heard.served) {
    // The first path asked of the API is missing: base_url, which every stream shares, is the likely cause.
    const wrongRoot = new ConfigError(`${apiTitle} answered HTTP 404 (not found) to ${request}, the first request of this run${detail}. ${baseUrlAdvice(options)}`);
    wrongRoot.everyStream = true;
    return wrongRoot;
  }
  if (status >= 300 && status < 400) {
    return new SystemError(`${apiTitle} redirected ${request} (HTTP ${status}) to ${withoutQuery(response.headers.location, requestConfig.url)}; check base_url`);
  }
  return new SystemError(`${apiTitle} returned HTTP ${status} for ${request}${detail}`);
}

/**
 * An HTML page where the API answers JSON, at any status: a web server or proxy at base_url, not the
 * API. `tries` is said for a page worth retrying (5xx, 408, 429).
 */
export function htmlPageError(response: AxiosResponse, request: string, tries: string, options: HttpClientOptions, heard: AnswersSoFar): ConnectorError {
  const { status } = response;
  const host = new URL(response.config.url ?? 'http://unknown').host;
  const what = `${host} answered ${request} with an HTML page, not ${options.apiTitle}'s JSON (HTTP ${status}`;
  const page = `body starts with: ${excerpt(options, String(response.data).trim(), 200)}`;
  if (status >= 500 || status === 408 || status === 429) {
    // A proxy's error page during an outage: worth a later retry; base_url only if it lasts.
    return new TransientError(`${what}, ${tries}). If this lasts, ${baseUrlAdvice(options, false)}`, page);
  }
  const error = new ConfigError(`${what}). ${baseUrlAdvice(options)}`, page);
  if (!heard.served) error.everyStream = true;
  return error;
}

/** What base_url should be, said once in every message that blames it. */
export function baseUrlAdvice(options: Pick<HttpClientOptions, 'answers'>, capital = true): string {
  const example = options.answers.baseUrlExample ? `; it should be the API's root, like ${options.answers.baseUrlExample}` : '';
  return `${capital ? 'C' : 'c'}heck api.base_url${example}`;
}

export const isHtml = (body: unknown): boolean => typeof body === 'string' && /^\s*</.test(body);

function apiMessage(response: AxiosResponse, options: HttpClientOptions): string | undefined {
  const raw = response.data;
  if (raw === undefined || raw === null || typeof (raw as Readable).pipe === 'function') return undefined;
  let body: unknown = raw;
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw);
    } catch {
      return excerpt(options, raw.trim(), 300) || undefined;
    }
  }
  const message = options.answers.errorMessage(body);
  return message === undefined ? excerpt(options, JSON.stringify(body), 300) : excerpt(options, message, 1000);
}

/** The start of a text, secrets masked before it is cut (a cut key would show its first characters). */
export function excerpt(options: Pick<HttpClientOptions, 'reporting'>, text: string, length: number): string {
  return (options.reporting.mask ? options.reporting.mask(text) : text).slice(0, length);
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
