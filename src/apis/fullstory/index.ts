import { type ApiDefinition, apiOption, tuningFields } from '../../connector';
import { ConfigError, ConnectorError, SystemError } from '../../protocol';
import { joinUrl, type StreamDefinition } from '../../streams';
import { connectFullstory, title, type FullstoryApi } from './api';
import { legacyExportStreams } from './legacy-export';
import { listStreams } from './lists';
import { segmentExportStreams } from './segment-export';
import { settingsStreams } from './settings';

/** A 403 names the key level the stream needs (reading data: Admin or Architect; privacy: Admin). */
function needsKey(level: string, stream: StreamDefinition<FullstoryApi>): StreamDefinition<FullstoryApi> {
  return {
    ...stream,
    async *read(api, context) {
      try {
        yield* stream.read(api, context);
      } catch (error) {
        if (error instanceof ConnectorError && error.httpStatus === 403) throw new ConfigError(`${error.message} Stream "${stream.name}" needs ${level} API key.`);
        throw error;
      }
    },
  };
}

const streams = [...legacyExportStreams, ...segmentExportStreams, ...listStreams, ...settingsStreams].map((stream) =>
  needsKey(stream.name === 'settings_privacy' || stream.name === 'settings_privacy_history' ? 'an Admin' : 'an Admin or Architect', stream),
);

/** A numeric field; a minimum of 0 is exclusive for durations that must be positive. */
const number = (title: string, description: string, value: number, minimum: number) => ({
  type: 'number',
  title,
  description,
  ...(minimum === 0 ? { exclusiveMinimum: 0 } : { minimum }),
  default: value,
  examples: [value],
});

export const fullstory: ApiDefinition<FullstoryApi> = {
  name: 'fullstory',
  title,
  specOption: apiOption({
    name: 'fullstory',
    title,
    description: 'Fullstory: legacy Data Export bundles, segment exports, users, sessions, webhooks and recording settings.',
    apiKeyDescription:
      'Fullstory API key (Settings → Integrations → API Keys), Admin or Architect level (privacy settings need Admin). Sent as "Authorization: Basic <key>", exactly as issued.',
    defaultBaseUrl: 'https://api.fullstory.com',
    startDateDescription:
      'Lower bound of the incremental streams (export bundles and their events, segment events, settings history) on the first sync. Empty: all legacy bundles and history, and the last 30 days of segment events. Individuals are always read in full.',
    extra: {
      export_base_url: {
        type: 'string',
        title: 'Legacy Data Export base URL',
        description: 'Base URL of the legacy Data Export API (list and get of export bundles).',
        format: 'uri',
        pattern: '^https?://',
        default: 'https://export.fullstory.com/api/v1/export',
        examples: ['https://export.fullstory.com/api/v1/export'],
      },
      segment_id: {
        type: 'string',
        title: 'Segment',
        description:
          'Segment the segment exports read. "everyone": every event and individual. Another segment: only the events that match its event criteria and the individuals it selects, within its own time range.',
        minLength: 1,
        default: 'everyone',
        examples: ['everyone'],
      },
      segment_export_window_hours: {
        ...number('Segment export window (hours)', 'Each segment_events export covers this many hours; the state advances window by window.', 24, 1),
        type: 'integer',
      },
      segment_exports_in_flight: {
        ...number(
          'Segment exports prepared at once',
          'segment_events windows whose exports Fullstory prepares at the same time; they are still read and checkpointed in window order.',
          4,
          1,
        ),
        type: 'integer',
        maximum: 16,
      },
      segment_export_settle_minutes: {
        ...number(
          'Settle delay (minutes)',
          'segment_events reads up to now minus this delay. Fullstory recommends 24 hours for final values: events arrive late and change after the fact. Lower it only with an overlap.',
          1440,
          1,
        ),
        type: 'integer',
        minimum: 0,
      },
      segment_export_overlap_hours: {
        ...number(
          'Overlap (hours)',
          'Each sync exports segment_events again from this long before its state, for late events (Fullstory: overlapping windows with de-duplication); the primary key lets the destination de-duplicate.',
          0,
          1,
        ),
        type: 'integer',
        minimum: 0,
      },
      operation_timeout_minutes: number(
        'Export wait limit (minutes)',
        'Longest wait for one export operation to complete; beyond it the stream fails with a transient error.',
        60,
        0,
      ),
      operation_poll_seconds: number('Export poll interval (seconds)', 'Wait between two polls of an export operation.', 10, 0),
      sessions_per_user: {
        ...number(
          'Sessions per user',
          'limit of each GET /sessions/v2 request (Fullstory returns 20 unless asked for more, and documents no maximum); a user who reaches it is reported.',
          1000,
          1,
        ),
        type: 'integer',
        maximum: 100000,
      },
      legacy_downloads_per_minute: { ...number('Bundle downloads per minute', 'Fullstory documents 2 legacy export downloads per minute.', 2, 1), type: 'integer' },
      ...tuningFields(
        { requestsPerMinute: 6000, maxRetries: 6, timeoutSeconds: 120, maxWaitSeconds: 600, retryInitialDelaySeconds: 2 },
        'Fullstory publishes no limit for its v2 APIs ("set such that it should not be hit under realistic load") and answers 429 with Retry-After when one is hit: this is a ceiling. The pace starts at 35 a second, doubles each second until the first 429, then settles just under what the API accepts. Lower it to leave room for other users of the key. (Legacy bundle downloads keep their own documented 2 per minute.)',
        { downloads: true },
      ),
    },
  }),
  connect: connectFullstory,
  async check(api) {
    // Cheap, and it needs the same key level as reading data.
    const { body } = await api.http.getJson(joinUrl(api.baseUrl, '/segments/v1'), { limit: 1 });
    if (!Array.isArray((body as { segments?: unknown })?.segments))
      throw new SystemError(`${title} answered GET /segments/v1 without a "segments" list; is base_url https://api.fullstory.com?`);
    // Privacy settings need an Admin key ("This operation requires an Admin API key"): said now, not mid-sync.
    try {
      await api.http.getJson(joinUrl(api.baseUrl, '/settings/recording/v1/privacy'));
    } catch (error) {
      if (!(error instanceof ConnectorError) || error.httpStatus !== 403) throw error;
      api.http.options.reporting.log(
        'WARN',
        `${title}: this key is below Admin level (GET /settings/recording/v1/privacy answered 403): the streams settings_privacy and settings_privacy_history will fail; the others can be read. Use an Admin key to read them.`,
      );
    }
  },
  streams,
};
