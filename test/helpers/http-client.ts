import { HttpClient } from '../../src/http/client';
import type { HttpClientOptions } from '../../src/http/options';

/** Any part of any group of the client's options. */
export type ClientOverrides = { apiTitle?: string } & { [Group in Exclude<keyof HttpClientOptions, 'apiTitle'>]?: Partial<HttpClientOptions[Group]> };

/** An HttpClient for unit tests: fast backoff, silent, no limiter; anything can be overridden. */
export const testHttpClient = (origin: string, overrides: ClientOverrides = {}): HttpClient =>
  new HttpClient({
    apiTitle: overrides.apiTitle ?? 'Mock',
    auth: { credentialOrigins: [origin], headers: {}, userAgent: 'ua/1', ...overrides.auth },
    pace: { maxInFlight: 32, ...overrides.pace },
    bounds: {
      timeoutMs: 2000,
      deadlineMs: 30_000,
      downloadDeadlineMs: 60_000,
      maxResponseBytes: 64 * 1024 * 1024,
      maxRecordBytes: 16 * 1024 * 1024,
      maxRetries: 0,
      maxWaitMs: 1000,
      backoffBaseMs: 10,
      ...overrides.bounds,
    },
    answers: { errorMessage: () => undefined, ...overrides.answers },
    reporting: { log: () => undefined, ...overrides.reporting },
  });
