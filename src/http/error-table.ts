// The error resolution table: what each failed request means for the user, as a ConnectorError
// whose failure type tells the platform whether to retry the sync or ask for a fix.
import { AxiosError, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type { Readable } from 'node:stream';
import { ConfigError, ConnectorError, SystemError, TransientError } from '../protocol';
import type { HttpClientOptions } from './options';
import { isTooLarge, retryStateOf } from './retries';
import { MEGABYTE } from './response-body';

/** Connection failures that no other request to the same host will escape. */
const HOST_UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function resolveHttpError(
  error: unknown,
  requestConfig: AxiosRequestConfig,
  options: HttpClientOptions,
  describe: (config: AxiosRequestConfig | undefined) => string,
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
    const unreachable = new TransientError(`${apiTitle} could not be reached: ${request} ${reason} (${tries})`);
    // The API's own host refuses connections or has no address: every stream would meet it again.
    const origin = new URL(error.config?.url ?? requestConfig.url ?? 'http://unknown').origin;
    if (HOST_UNREACHABLE.has(error.code ?? '') && options.auth.credentialOrigins.includes(origin)) unreachable.everyStream = true;
    return unreachable;
  }
  const status = response.status;
  if (status < 300) {
    return new TransientError(`${apiTitle}: the response to ${request} broke off before its end (${error.code ?? error.message}; ${tries})`);
  }
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
  if (status >= 300 && status < 400) {
    return new SystemError(`${apiTitle} redirected ${request} (HTTP ${status}) to ${withoutQuery(response.headers.location, requestConfig.url)}; check base_url`);
  }
  return new SystemError(`${apiTitle} returned HTTP ${status} for ${request}${detail}`);
}

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
