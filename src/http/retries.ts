// What axios-retry keeps on a request's config across its attempts, and which failures are retried.
import { AxiosError, type AxiosRequestConfig } from 'axios';

export interface RetryState {
  retryCount?: number;
  waitedMs?: number;
  nextWaitMs?: number;
  budgetExceededMs?: number;
  /** This attempt ran out of its total deadline. */
  deadlineExceeded?: boolean;
  /** The attempt's deadline timer, cleared once the answer (or its headers, for a download) is in. */
  deadlineTimer?: NodeJS.Timeout;
  rateLimited?: boolean;
  sentAt?: number;
  /** This attempt holds a slot of the client's in-flight window (InFlightWindow). */
  holdsSlot?: boolean;
  /** The caller's own signal: the request is no longer wanted (a page read ahead and dropped). */
  callerSignal?: AbortSignal;
  /** One of many sent at once: it waits for a slot behind the requests sent alone (InFlightWindow). */
  bulk?: boolean;
}

export const retryState = (config: AxiosRequestConfig | undefined): RetryState => ((config as { 'axios-retry'?: RetryState })['axios-retry'] ??= {});

/** The retry state of a request that may have none (an error thrown before the request was configured). */
export const retryStateOf = (config: AxiosRequestConfig | undefined): RetryState | undefined => (config ? retryState(config) : undefined);

/** Exponential backoff stops growing here; server-requested waits are bounded by maxWaitMs only. */
export const MAX_BACKOFF_MS = 60_000;

/** axios's own cap on a page's size (maxContentLength) was reached. */
export const isTooLarge = (error: AxiosError) => error.code === AxiosError.ERR_BAD_RESPONSE && /^maxContentLength/.test(error.message);

/** Connection failures that no other request to the same host will escape. */
const HOST_UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
export const isHostUnreachable = (error: AxiosError): boolean => !error.response && HOST_UNREACHABLE.has(error.code ?? '');

const retryableCodes = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryable(error: AxiosError): boolean {
  if (error.code === AxiosError.ERR_CANCELED) return retryState(error.config).deadlineExceeded === true;
  if (isTooLarge(error)) return false;
  // No response: network error, reset, timeout. A 2xx here: the body broke off mid-transfer.
  if (!error.response || error.response.status < 300) return true;
  return retryableCodes.has(error.response.status) || error.response.status >= 500;
}
