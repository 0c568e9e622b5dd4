import { HttpClient, type HttpClientOptions } from '../../src/core/http';

/** An HttpClient for unit tests: fast backoff, silent, no limiter; anything can be overridden. */
export const testHttpClient = (origin: string, overrides: Partial<HttpClientOptions> = {}): HttpClient =>
  new HttpClient({
    apiTitle: 'Mock',
    credentialOrigins: [origin],
    authHeaders: {},
    userAgent: 'ua/1',
    timeoutMs: 2000,
    maxRetries: 0,
    maxWaitMs: 1000,
    backoffBaseMs: 10,
    errorMessage: () => undefined,
    log: () => undefined,
    ...overrides,
  });
