import type { ApiConfig, ConnectEnvironment } from './api';
import type { HttpClient, HttpClientOptions } from './http';
import type { JsonSchema } from './stream';

export interface TuningDefaults {
  requestsPerMinute: number;
  maxRetries: number;
  timeoutSeconds: number;
  maxWaitSeconds: number;
  retryInitialDelaySeconds: number;
}

/** Spec fields for request pacing and retries; each API states its own defaults (from its docs). */
export function tuningFields(defaults: TuningDefaults, rateLimitNote: string): Record<string, JsonSchema> {
  return {
    requests_per_minute: {
      type: 'integer',
      title: 'Requests per minute',
      description: `Most requests the connector sends per minute. ${rateLimitNote}`,
      minimum: 1,
      default: defaults.requestsPerMinute,
      examples: [defaults.requestsPerMinute],
    },
    max_retries: {
      type: 'integer',
      title: 'Max retries',
      description: 'Retries of one request after a network error, a timeout, HTTP 429 or 5xx, with exponential backoff and jitter.',
      minimum: 0,
      maximum: 20,
      default: defaults.maxRetries,
      examples: [defaults.maxRetries],
    },
    retry_initial_delay_seconds: {
      type: 'number',
      title: 'First retry delay (seconds)',
      description: 'Wait before the first retry when the API gives no Retry-After; it doubles with each retry.',
      minimum: 0,
      default: defaults.retryInitialDelaySeconds,
      examples: [defaults.retryInitialDelaySeconds],
    },
    max_wait_seconds: {
      type: 'integer',
      title: 'Max wait per request (seconds)',
      description: 'Cap on the total time spent waiting between retries of one request, Retry-After included. Beyond it the stream fails with a transient error.',
      minimum: 1,
      default: defaults.maxWaitSeconds,
      examples: [defaults.maxWaitSeconds],
    },
    request_timeout_seconds: {
      type: 'number',
      title: 'Request timeout (seconds)',
      description: 'A request with no data from the API for this long is abandoned and retried.',
      exclusiveMinimum: 0,
      default: defaults.timeoutSeconds,
      examples: [defaults.timeoutSeconds],
    },
  };
}

type ClientSpecifics = Pick<HttpClientOptions, 'apiTitle' | 'authHeaders' | 'errorMessage' | 'parseJson' | 'hideQuery'> & {
  /** Where the credentials may be sent; default: base_url's origin alone. */
  credentialOrigins?: string[];
};

/** Builds an API's HTTP client from its (defaults-applied) config. */
export function clientFromConfig(config: ApiConfig, environment: ConnectEnvironment, specifics: ClientSpecifics): HttpClient {
  // Loaded on first use: spec and discover send no request and need not load axios.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HttpClient: Client } = require('./http') as typeof import('./http');
  return new Client({
    ...specifics,
    credentialOrigins: specifics.credentialOrigins ?? [new URL(config.base_url).origin],
    userAgent: environment.userAgent,
    log: environment.log,
    mask: environment.mask,
    requestsPerMinute: Number(config.requests_per_minute),
    maxRetries: Number(config.max_retries),
    backoffBaseMs: Number(config.retry_initial_delay_seconds) * 1000,
    timeoutMs: Number(config.request_timeout_seconds) * 1000,
    maxWaitMs: Number(config.max_wait_seconds) * 1000,
  });
}
