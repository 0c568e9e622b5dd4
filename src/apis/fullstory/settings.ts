import { SystemError } from '../../protocol';
import { httpStream, joinUrl, type JsonRecord, type JsonSchema, nextTokenPaginator, renamedStateKey, type StreamDefinition } from '../../streams';
import type { FullstoryApi } from './api';
import blocking from './schemas/settings_blocking.json';
import domain from './schemas/settings_domain.json';
import features from './schemas/settings_features.json';
import geo from './schemas/settings_geo.json';
import privacy from './schemas/settings_privacy.json';
import targeting from './schemas/settings_targeting.json';

export const SETTINGS: [kind: string, schema: JsonSchema][] = [
  ['blocking', blocking],
  ['domain', domain],
  ['geo', geo],
  ['privacy', privacy],
  ['features', features],
  ['targeting', targeting],
];

const path = (kind: string) => `/settings/recording/v1/${kind}`;

/** The current settings: one object at the root of the answer, emitted as one record. */
const current = (kind: string, schema: JsonSchema): StreamDefinition<FullstoryApi> => ({
  name: `settings_${kind}`,
  schema,
  async *read(api) {
    const { body } = await api.http.getJson(joinUrl(api.baseUrl, path(kind)));
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new SystemError(`Fullstory answered GET ${path(kind)} with ${Array.isArray(body) ? 'a list' : typeof body} where the settings object was expected`);
    }
    yield { type: 'record', data: body as Record<string, unknown> };
    yield { type: 'checkpoint', state: {} };
  },
});

// History answers {versions, nextPaginationToken} — some endpoints spell it next_pagination_token.
// `limit`: "The default is 20 and the max is 100" (get-privacy-settings-history): the max, 5× fewer requests.
const historyPages = nextTokenPaginator({ tokenFields: ['nextPaginationToken', 'next_pagination_token'], param: 'paginationToken', initialParams: { limit: 100 } });

/**
 * The cursor: `metadata.lastUpdated` copied to the top level (as tap-fullstory does), because
 * Airbyte's cursor and state are a top-level field (CAT reads a nested cursor's object, not its value).
 */
const LAST_UPDATED = 'lastUpdated';
const lastUpdatedProperty = {
  type: ['string', 'null'],
  format: 'date-time',
  description: 'Added by the connector: a copy of metadata.lastUpdated, the cursor of the history stream.',
};
const lastUpdatedOf = (record: JsonRecord) => (record.metadata as { lastUpdated?: unknown } | null | undefined)?.lastUpdated ?? null;

/** Every saved version; no documented order or server filter, so filtered here, checkpointed at the end. */
const history = (kind: string, schema: JsonSchema) =>
  httpStream<FullstoryApi>({
    name: `settings_${kind}_history`,
    schema: {
      ...schema,
      title: `${String(schema.title)} (history)`,
      description: `Saved versions (GET ${path(kind)}/history).`,
      properties: { ...(schema.properties as JsonSchema), [LAST_UPDATED]: lastUpdatedProperty },
    },
    path: `${path(kind)}/history`,
    records: 'versions',
    absentRecordsAreEmpty: true,
    paginator: historyPages,
    addFields: { [LAST_UPDATED]: lastUpdatedOf },
    incremental: { cursor: LAST_UPDATED, sorted: false, clientFilter: true, whenMissing: 'ignore' },
    // Versions up to 0.1.0 kept the nested cursor's path, joined with a dot, as a flat key.
    migrateState: renamedStateKey('metadata.lastUpdated', LAST_UPDATED),
  });

export const settingsStreams = [...SETTINGS.map(([kind, schema]) => current(kind, schema)), ...SETTINGS.map(([kind, schema]) => history(kind, schema))];
