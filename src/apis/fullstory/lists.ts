import { httpStream, type JsonSchema, nextTokenPaginator, singlePage } from '../../streams';
import type { FullstoryApi } from './api';
import { sessionsStream, userPages } from './sessions';
import operations from './schemas/operations.json';
import segments from './schemas/segments.json';
import users from './schemas/users.json';
import webhookEndpoints from './schemas/webhook_endpoints.json';
import webhookEventTypes from './schemas/webhook_event_types.json';

// The v1 lists take `limit` (at most 100) and `paginationToken`, and answer `nextPaginationToken`;
// older pages spell it `next_pagination_token` (developer.fullstory.com/list-segments), so both are read.
// They are proto3 JSON, which leaves out an empty list: an answer without its list key is an empty page.
const tokenPages = nextTokenPaginator({ tokenFields: ['nextPaginationToken', 'next_pagination_token'], param: 'paginationToken', initialParams: { limit: 100 } });

const list = (name: string, path: string, records: string, schema: JsonSchema, primaryKey = 'id') =>
  httpStream<FullstoryApi>({ name, schema, path, records, absentRecordsAreEmpty: true, paginator: tokenPages, primaryKey: [[primaryKey]] });

/** `total_records` is a string in /v2/users answers. */
const totalRecords = (body: unknown) => {
  const total = Number((body as { total_records?: unknown })?.total_records);
  return Number.isFinite(total) ? total : undefined;
};

export const listStreams = [
  list('segments', '/segments/v1', 'segments', segments),
  list('operations', '/operations/v1', 'operations', operations),
  list('webhook_endpoints', '/webhooks/v1/endpoints', 'endpoints', webhookEndpoints),
  httpStream<FullstoryApi>({
    name: 'webhook_event_types',
    schema: webhookEventTypes,
    path: '/webhooks/v1/event-types',
    records: 'eventDefs',
    absentRecordsAreEmpty: true,
    paginator: singlePage,
    primaryKey: [['eventName']],
  }),
  httpStream<FullstoryApi>({ name: 'users', schema: users, path: '/v2/users', records: 'results', paginator: userPages, primaryKey: [['id']], estimate: totalRecords }),
  sessionsStream,
];
