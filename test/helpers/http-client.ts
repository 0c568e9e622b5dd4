import { HttpClient, type HttpClientOptions } from '../../src/http/client';

/** An HttpClient for unit tests: fast backoff, silent, no limiter; anything can be overridden. */
export const testHttpClient = (origin: string, overrides: Partial<HttpClientOptions> = {}): HttpClient =>
  new HttpClient({
    apiTitle: 'Mock',
    credentialOrigins: [origin],
    authHeaders: {},
    userAgent: 'ua/1',
    timeoutMs: 2000,
    deadlineMs: 30_000,
    downloadDeadlineMs: 60_000,
    maxResponseBytes: 64 * 1024 * 1024,
    maxRecordBytes: 16 * 1024 * 1024,
    maxRetries: 0,
    maxInFlight: 32,
    maxWaitMs: 1000,
    backoffBaseMs: 10,
    errorMessage: () => undefined,
    log: () => undefined,
    ...overrides,
  });
