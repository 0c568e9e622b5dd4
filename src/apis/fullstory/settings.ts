import { SystemError } from '../../core/errors';
import { nextTokenPaginator } from '../../core/paginate';
import { httpStream, joinUrl, type JsonSchema, type StreamDefinition } from '../../core/stream';
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
const historyPages = nextTokenPaginator({ tokenFields: ['nextPaginationToken', 'next_pagination_token'], param: 'paginationToken' });

/** Every saved version; no documented order or server filter, so filtered here, checkpointed at the end. */
const history = (kind: string, schema: JsonSchema) =>
  httpStream<FullstoryApi>({
    name: `settings_${kind}_history`,
    schema: { ...schema, title: `${String(schema.title)} (history)`, description: `Saved versions (GET ${path(kind)}/history).` },
    path: `${path(kind)}/history`,
    records: 'versions',
    paginator: historyPages,
    incremental: { cursor: ['metadata', 'lastUpdated'], sorted: false, clientFilter: true, whenMissing: 'ignore' },
  });

export const settingsStreams = [...SETTINGS.map(([kind, schema]) => current(kind, schema)), ...SETTINGS.map(([kind, schema]) => history(kind, schema))];
