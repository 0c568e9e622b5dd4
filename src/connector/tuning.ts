import type { ApiConfig, ConnectEnvironment } from './api';
import { type AnswerReading, type HttpClient, MEGABYTE, type PaceSettings, type Reporting } from '../http';
import type { JsonSchema } from '../streams';

export interface TuningDefaults {
  requestsPerMinute: number;
  maxRetries: number;
  timeoutSeconds: number;
  maxWaitSeconds: number;
  retryInitialDelaySeconds: number;
}

/** Bounds on time and memory, the same for every API: far above real answers, far below exhaustion. */
const LIMIT_DEFAULTS = { maxRequestsInFlight: 32, requestDeadlineSeconds: 300, downloadDeadlineMinutes: 60, maxResponseMegabytes: 256, maxRecordMegabytes: 64 };

/** Spec fields for request pacing and retries; each API states its own defaults (from its docs). */
export function tuningFields(
  defaults: TuningDefaults,
  rateLimitNote: string,
  /** announcedLimit: the API announces each key's limit in its answers; requests_per_minute is then only the user's own cap. */
  options: { downloads?: boolean; announcedLimit?: boolean } = {},
): Record<string, JsonSchema> {
  const fields: Record<string, JsonSchema> = {
    requests_per_minute: {
      type: 'integer',
      title: 'Requests per minute',
      description: `Most requests the connector sends per minute. ${rateLimitNote}`,
      minimum: 1,
      ...(options.announcedLimit ? {} : { default: defaults.requestsPerMinute }),
      examples: [defaults.requestsPerMinute],
    },
    max_requests_in_flight: {
      type: 'integer',
      title: 'Max requests in flight',
      description:
        'Most requests sent and not yet answered at once, over all streams. Within it the connector keeps as many in flight as the pace needs at the latency it measures (pace × time an answer takes), so that slow answers do not slow the sync. Lower it for an API or proxy that dislikes parallel connections.',
      minimum: 1,
      maximum: 256,
      default: LIMIT_DEFAULTS.maxRequestsInFlight,
      examples: [LIMIT_DEFAULTS.maxRequestsInFlight],
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
      description:
        'A request with no data from the API for this long is abandoned and retried. Only the time spent waiting on the API counts, never the time the destination takes to accept records.',
      exclusiveMinimum: 0,
      default: defaults.timeoutSeconds,
      examples: [defaults.timeoutSeconds],
    },
    request_deadline_seconds: {
      type: 'number',
      title: 'Request deadline (seconds)',
      description:
        'Longest one attempt of a request may take in all, from sending it to the last byte of its answer (to its headers, for a download), however steadily the API sends; then it is abandoned and retried.',
      exclusiveMinimum: 0,
      default: LIMIT_DEFAULTS.requestDeadlineSeconds,
      examples: [LIMIT_DEFAULTS.requestDeadlineSeconds],
    },
    max_response_megabytes: {
      type: 'number',
      title: 'Max response size (MB)',
      description:
        'Largest answer to one page request, as sent and decompressed. A larger one fails the stream with an error instead of exhausting memory; real pages are far smaller.',
      exclusiveMinimum: 0,
      default: LIMIT_DEFAULTS.maxResponseMegabytes,
      examples: [LIMIT_DEFAULTS.maxResponseMegabytes],
    },
  };
  if (!options.downloads) return fields;
  // Only an API with export downloads has these.
  return {
    ...fields,
    download_deadline_minutes: {
      type: 'number',
      title: 'Download deadline (minutes)',
      description:
        'Longest a download (an export file) may spend waiting on the API in all, over its whole body; then it is started again, skipping the records already delivered.',
      exclusiveMinimum: 0,
      default: LIMIT_DEFAULTS.downloadDeadlineMinutes,
      examples: [LIMIT_DEFAULTS.downloadDeadlineMinutes],
    },
    max_record_megabytes: {
      type: 'number',
      title: 'Max record size (MB)',
      description: 'Largest single record in a download (an export event). A larger one, or one that never ends, fails the stream with an error instead of exhausting memory.',
      exclusiveMinimum: 0,
      default: LIMIT_DEFAULTS.maxRecordMegabytes,
      examples: [LIMIT_DEFAULTS.maxRecordMegabytes],
    },
  };
}

/** What an API folder gives for its client; pace and bounds come from the config's tuning fields. */
export interface ClientSpecifics {
  apiTitle: string;
  auth: {
    headers: Record<string, string>;
    /** Where the credentials may be sent; default: base_url's origin alone. */
    credentialOrigins?: string[];
  };
  answers: Omit<AnswerReading, 'clock'>;
  pace?: Pick<PaceSettings, 'adaptive' | 'adaptiveStartPerMinute' | 'announcedRequestsPerMinute'> & {
    /** The pace until the API announces the key's limit, when requests_per_minute is left empty; an announcement below it is not followed below it. */
    documentedRequestsPerMinute?: number;
  };
  reporting?: Pick<Reporting, 'hideQuery'>;
}

/** Builds an API's HTTP client from its (defaults-applied) config. */
export function clientFromConfig(config: ApiConfig, environment: ConnectEnvironment, specifics: ClientSpecifics): HttpClient {
  // Loaded on first use: spec and discover send no request and need not load axios.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HttpClient: Client } = require('../http/client') as typeof import('../http/client');
  const { documentedRequestsPerMinute, ...pace } = specifics.pace ?? {};
  return new Client({
    apiTitle: specifics.apiTitle,
    auth: { headers: specifics.auth.headers, credentialOrigins: specifics.auth.credentialOrigins ?? [new URL(config.base_url).origin], userAgent: environment.userAgent },
    pace: {
      ...pace,
      requestsPerMinute: Number(config.requests_per_minute ?? documentedRequestsPerMinute),
      maxInFlight: Number(config.max_requests_in_flight ?? LIMIT_DEFAULTS.maxRequestsInFlight),
      requestsPerMinuteCap: config.requests_per_minute === undefined ? undefined : Number(config.requests_per_minute),
      announcedRequestsPerMinuteFloor: documentedRequestsPerMinute,
    },
    bounds: {
      maxRetries: Number(config.max_retries),
      backoffBaseMs: Number(config.retry_initial_delay_seconds) * 1000,
      timeoutMs: Number(config.request_timeout_seconds) * 1000,
      deadlineMs: Number(config.request_deadline_seconds) * 1000,
      downloadDeadlineMs: Number(config.download_deadline_minutes ?? LIMIT_DEFAULTS.downloadDeadlineMinutes) * 60_000,
      maxResponseBytes: Math.round(Number(config.max_response_megabytes) * MEGABYTE),
      maxRecordBytes: Math.round(Number(config.max_record_megabytes ?? LIMIT_DEFAULTS.maxRecordMegabytes) * MEGABYTE),
      maxWaitMs: Number(config.max_wait_seconds) * 1000,
    },
    answers: { ...specifics.answers, clock: environment.clock },
    reporting: { ...specifics.reporting, log: environment.log, mask: environment.mask, reporter: environment.reporter, debug: environment.debug },
  });
}
