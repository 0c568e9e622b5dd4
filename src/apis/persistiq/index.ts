import { type ApiDefinition, apiOption, clientFromConfig, tuningFields } from '../../connector';
import { SystemError } from '../../protocol';
import { type HttpApi, joinUrl } from '../../streams';
import { streams } from './streams';

const title = 'PersistIQ';
/** https://apidocs.persistiq.com/ (rate limiting): 100 requests per minute per key. */
const DOCUMENTED_REQUESTS_PER_MINUTE = 100;

/**
 * "X-RateLimit-Limit: Maximum allowed requests per minute" (apidocs.persistiq.com). A live key was
 * seen announcing 500 (shared/reference persistiq-rate-limits.yml): what the key has, not the docs'
 * 100, which stays the floor ("treat the runtime headers as authoritative and the documented 100/min
 * as the floor", same notes); X-RateLimit-Remaining still pauses a key that has less.
 */
function announcedRequestsPerMinute(headers: Record<string, unknown>): number | undefined {
  const limit = Number(headers['x-ratelimit-limit']);
  return Number.isInteger(limit) && limit > 0 ? limit : undefined;
}

/** PersistIQ errors: {"status":"error","error":{"reason","message"}} (or "errors": [...] for batches). */
function errorMessage(body: unknown): string | undefined {
  const { error, errors } = (body ?? {}) as { error?: { reason?: string; message?: string }; errors?: unknown };
  if (error && (error.message || error.reason)) return [error.message, error.reason && `(${error.reason})`].filter(Boolean).join(' ');
  if (Array.isArray(errors) && errors.length > 0) return JSON.stringify(errors).slice(0, 300);
  return undefined;
}

export const persistiq: ApiDefinition<HttpApi> = {
  name: 'persistiq',
  title,
  specOption: apiOption({
    name: 'persistiq',
    title,
    description: 'PersistIQ sales outreach API v1.',
    apiKeyDescription: 'PersistIQ API key (Settings → Integrations → API key), sent in the x-api-key header.',
    defaultBaseUrl: 'https://api.persistiq.com/v1',
    startDateDescription: 'Read leads updated and events created after this UTC time on the first sync. Empty: all history.',
    extra: tuningFields(
      { requestsPerMinute: DOCUMENTED_REQUESTS_PER_MINUTE, maxRetries: 7, timeoutSeconds: 60, maxWaitSeconds: 600, retryInitialDelaySeconds: 1 },
      "Empty: the limit PersistIQ announces for the key in every answer (X-RateLimit-Limit), never below the documented 100, which is also the pace until the first answer; back to 100 if PersistIQ refuses a request (429) at the announced rate. Set it to leave part of the key's limit to other tools: it caps the pace.",
      { announcedLimit: true },
    ),
  }),
  connect(config, environment) {
    const http = clientFromConfig(config, environment, {
      apiTitle: title,
      auth: { headers: { 'x-api-key': config.api_key } },
      answers: { errorMessage, baseUrlExample: 'https://api.persistiq.com/v1' },
      pace: { documentedRequestsPerMinute: DOCUMENTED_REQUESTS_PER_MINUTE, announcedRequestsPerMinute },
    });
    return { http, baseUrl: config.base_url, apiTitle: title };
  },
  async check(api) {
    const { body } = await api.http.getJson(joinUrl(api.baseUrl, '/users'), { page: 1 });
    if (!Array.isArray((body as { users?: unknown })?.users)) {
      throw new SystemError(`${title} answered GET /users without a "users" list; is base_url the PersistIQ API v1?`);
    }
  },
  streams,
};
