import { type ApiDefinition, apiOption, clientFromConfig, tuningFields } from '../../connector';
import { SystemError } from '../../protocol';
import { joinUrl } from '../../streams';
import { streams, type MindstampApi } from './streams';

const title = 'Mindstamp';

/** Mindstamp's error bodies are not documented: show `error` or `message` when there is one. */
function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 300) || undefined;
  const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown };
  const text = [message, error].find((value) => typeof value === 'string' && value !== '');
  return typeof text === 'string' ? text : undefined;
}

export const mindstamp: ApiDefinition<MindstampApi> = {
  name: 'mindstamp',
  title,
  specOption: apiOption({
    name: 'mindstamp',
    title,
    description: 'Mindstamp interactive video API v1: videos, viewers, views, interactions.',
    apiKeyDescription: 'Mindstamp API token (Account → Integrations → API), sent as "Authorization: Bearer <token>".',
    defaultBaseUrl: 'https://api.mindstamp.com/api/v1',
    startDateDescription: 'Read records updated after this UTC time on the first sync. Empty: all history.',
    extra: {
      page_size: {
        type: 'integer',
        title: 'Page size',
        description: 'Records per request (limit) for views and interactions, the paginated lists.',
        minimum: 1,
        maximum: 1000,
        default: 100,
        examples: [100],
      },
      ...tuningFields(
        { requestsPerMinute: 6000, maxRetries: 5, timeoutSeconds: 60, maxWaitSeconds: 300, retryInitialDelaySeconds: 2 },
        'Mindstamp publishes no rate limit: this is a ceiling. The pace starts at 15 a second, doubles each second until the first 429 (honouring Retry-After), then settles just under what the API accepts. Lower it to leave room for other users of the key.',
      ),
    },
  }),
  connect(config, environment) {
    const http = clientFromConfig(config, environment, {
      apiTitle: title,
      auth: { headers: { Authorization: `Bearer ${config.api_key}` } },
      answers: { errorMessage, baseUrlExample: 'https://api.mindstamp.com/api/v1' },
      // No published limit: the pace follows what Mindstamp accepts. Nothing says what its servers
      // take, unlike Fullstory's "should not be hit under realistic load": slow start begins at 15 a second.
      pace: { adaptive: true, adaptiveStartPerMinute: 900 },
    });
    return { http, baseUrl: config.base_url, apiTitle: title, pageSize: Number(config.page_size) };
  },
  async check(api) {
    // The cheapest authenticated call: one view (videos and viewers are not paginated).
    const { body } = await api.http.getJson(joinUrl(api.baseUrl, '/views'), { limit: 1, offset: 0 });
    if (!Array.isArray(body)) throw new SystemError(`${title} answered GET /views without a JSON list; is base_url the Mindstamp API v1?`);
  },
  streams,
};
