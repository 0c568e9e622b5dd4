import { ConnectorError, SystemError } from '../../protocol';
import {
  fetchPages,
  httpStream,
  inOrder,
  joinUrl,
  type JsonRecord,
  type JsonSchema,
  nextTokenPaginator,
  recordObjects,
  recordsAt,
  singlePage,
  type StreamDefinition,
} from '../../streams';
import { describeRequest } from '../../http';
import type { FullstoryApi } from './api';
import operations from './schemas/operations.json';
import segments from './schemas/segments.json';
import sessions from './schemas/sessions.json';
import users from './schemas/users.json';
import webhookEndpoints from './schemas/webhook_endpoints.json';
import webhookEventTypes from './schemas/webhook_event_types.json';

// The v1 lists take `limit` (at most 100) and `paginationToken`, and answer `nextPaginationToken`;
// older pages spell it `next_pagination_token` (developer.fullstory.com/list-segments), so both are read.
// They are proto3 JSON, which leaves out an empty list: an answer without its list key is an empty page.
const tokenPages = nextTokenPaginator({ tokenFields: ['nextPaginationToken', 'next_pagination_token'], param: 'paginationToken', initialParams: { limit: 100 } });
// /v2/users takes `page_token` and answers `next_page_token`.
const userPages = nextTokenPaginator({ tokenFields: ['next_page_token'], param: 'page_token' });

const list = (name: string, path: string, records: string, schema: JsonSchema, primaryKey = 'id') =>
  httpStream<FullstoryApi>({ name, schema, path, records, absentRecordsAreEmpty: true, paginator: tokenPages, primaryKey: [[primaryKey]] });

/** `total_records` is a string in /v2/users answers. */
const totalRecords = (body: unknown) => {
  const total = Number((body as { total_records?: unknown })?.total_records);
  return Number.isFinite(total) ? total : undefined;
};

/** Sessions are listed per user; ids may come as numbers or strings and are emitted as strings. */
const sessionsStream: StreamDefinition<FullstoryApi> = {
  name: 'sessions',
  schema: sessions,
  primaryKey: [['userId'], ['sessionId']],
  async *read(api, context) {
    const usersUrl = { url: joinUrl(api.baseUrl, '/v2/users'), params: { is_identified: true } };
    let skipped = 0;
    let asked = 0;
    let nulls = 0;
    const capped: string[] = [];
    const countNull = () => nulls++;
    const sessionsOf = recordsAt('sessions', api.apiTitle, true);
    // Identified users, in list order, each with where it stands (for the progress LOGs).
    async function* identifiedUsers(): AsyncGenerator<{ uid: string; position: string }> {
      for await (const page of fetchPages(api.http, usersUrl, userPages, recordsAt('results', api.apiTitle))) {
        const total = (page.body as { total_records?: unknown } | undefined)?.total_records;
        for (const user of recordObjects(page.items, describeRequest(page.request), countNull)) {
          const uid = user.uid;
          if (typeof uid !== 'string' || uid === '') continue; // only identified users have sessions by uid
          asked++;
          yield { uid, position: `identified user ${asked}${total !== undefined ? ` of at most ${String(total)} users` : ''}` };
        }
      }
    }
    // "limit: the max number of sessions to return (defaults to 20)", no paging, no documented maximum.
    const sessionsRequest = (uid: string) => ({ url: joinUrl(api.baseUrl, '/sessions/v2'), params: { uid, limit: api.sessionsPerUser } });
    const fetchSessions = async ({ uid }: { uid: string }) => (await api.http.getJson(sessionsRequest(uid).url, sessionsRequest(uid).params, { bulk: true })).body;
    for await (const [{ uid, position }, answer] of inOrder(identifiedUsers(), () => api.http.parallelism, fetchSessions)) {
      yield { type: 'progress', position };
      if (!answer.ok) {
        const error = answer.error;
        // The user was deleted between the two calls: say so and go on with the others.
        if (error instanceof ConnectorError && error.httpStatus === 404) {
          skipped++;
          context.log('WARN', `Stream "sessions": Fullstory has no user with uid "${uid}" any more (HTTP 404); its sessions are skipped`);
          continue;
        }
        throw error;
      }
      const request = sessionsRequest(uid);
      const items = sessionsOf(answer.value, request);
      if (items.length >= api.sessionsPerUser) capped.push(uid);
      for (const session of recordObjects(items, describeRequest(request), countNull)) {
        yield { type: 'record', data: asStrings(session, ['userId', 'sessionId', 'createdTime']) };
      }
    }
    // One vanished user is a deletion; every user vanished is an endpoint that does not answer.
    if (skipped > 0 && skipped === asked) {
      throw new SystemError(
        `Fullstory answered 404 for the sessions of every one of the ${asked} identified user(s) (GET /sessions/v2): the endpoint, not the users, is missing; check base_url`,
      );
    }
    if (skipped > 0) context.log('WARN', `Stream "sessions": ${skipped} user(s) vanished while the stream was read`);
    if (capped.length > 0) {
      context.log(
        'WARN',
        `Stream "sessions": ${capped.length} user(s) returned the ${api.sessionsPerUser} sessions asked for (sessions_per_user), so Fullstory may hold older ones; e.g. uid "${capped[0]}". Raise sessions_per_user to read them.`,
      );
    }
    if (nulls > 0) context.log('INFO', `Stream "sessions": skipped ${nulls} null item(s) in the responses of GET /v2/users and /sessions/v2`);
    yield { type: 'checkpoint', state: {} };
  },
};

const asStrings = (record: JsonRecord, keys: string[]): JsonRecord => {
  const copy = { ...record };
  for (const key of keys) if (typeof copy[key] === 'number') copy[key] = String(copy[key]);
  return copy;
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
