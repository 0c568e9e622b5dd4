// What an API's HTTP client is built from, in the groups a new API folder fills in: who it is and
// where its key may go (auth), how fast it may ask (pace), how long and how much it may take (bounds),
// how to read the API's answers (answers), and what it tells (reporting). connector/tuning.ts fills
// pace and bounds from the config's tuning fields; an API folder gives the rest.
import type { ApiClock } from './clock';
import type { Logger } from './request';

export interface HttpClientOptions {
  /** Names the API in every message ("PersistIQ rejected the API key"). */
  apiTitle: string;
  auth: AuthOptions;
  pace: PaceSettings;
  bounds: Bounds;
  answers: AnswerReading;
  reporting: Reporting;
}

export interface AuthOptions {
  /** Headers that carry the key, attached only to requests whose origin is one of `credentialOrigins`. */
  headers: Record<string, string>;
  credentialOrigins: string[];
  userAgent: string;
}

export interface PaceSettings {
  requestsPerMinute?: number;
  /** The most requests in flight at once; within it, requests in flight follow the pace times the latency. */
  maxInFlight: number;
  /** No published limit: requestsPerMinute is a ceiling, and the pace follows what the server accepts (429s). */
  adaptive?: boolean;
  /** Adaptive: the pace slow start begins at, requests per minute (default 1,200: 20 a second). */
  adaptiveStartPerMinute?: number;
  /**
   * The key's own limit, from an answer's headers (PersistIQ's X-RateLimit-Limit): the pace follows
   * it, never above `requestsPerMinuteCap`; a 429 at it returns the pace to requestsPerMinute.
   */
  announcedRequestsPerMinute?: (headers: Record<string, unknown>) => number | undefined;
  /** The user's own cap on the pace, if any (an announced limit is followed up to it). */
  requestsPerMinuteCap?: number;
  /** The documented limit: an announcement below it is followed only down to it. */
  announcedRequestsPerMinuteFloor?: number;
}

export interface Bounds {
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
}

export interface AnswerReading {
  /** Extracts the API's own error text from an error response body. */
  errorMessage: (body: unknown) => string | undefined;
  /** JSON parser for response bodies (default JSON.parse). */
  parseJson?: (text: string) => unknown;
  /** What api.base_url should look like, for the message when a server answers with something else (an HTML page). */
  baseUrlExample?: string;
  /** Told the Date header of every answer. */
  clock?: ApiClock;
}

export interface Reporting {
  log: Logger;
  /** Told of each request and retry, and of waits on the server's rate limit. */
  reporter?: RequestReporter;
  /** DEBUG log of each answer: method, path, status, duration (never headers, keys or signed queries). */
  debug?: boolean;
  /** Leave query strings out of messages (pre-signed URLs carry their credential there). */
  hideQuery?: boolean;
  /** Masks secrets in text that is cut short before it is printed (masked first, so no part shows). */
  mask?: (text: string) => string;
}

export interface RequestReporter {
  /** A request (or a retry of one) went out. */
  sent(): void;
  /** An answer in the 2xx range came, not an HTML page: the API, not a web server, is at base_url. */
  answered(): void;
  retrying(): void;
  /** Requests wait on the server's rate limit until about `quotaResetMs` (epoch ms). */
  waiting(quotaResetMs: number): void;
  resumed(): void;
}
