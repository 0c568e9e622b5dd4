import { ConnectorError, type StreamState, SystemError } from '../../protocol';
import {
  fetchPages,
  fromPositionOrStart,
  inOrder,
  logResuming,
  joinUrl,
  type JsonRecord,
  nextTokenPaginator,
  recordObjects,
  recordsAt,
  type StreamDefinition,
  type StreamItem,
} from '../../streams';
import { describeRequest, type Logger } from '../../http';
import type { FullstoryApi } from './api';
import sessions from './schemas/sessions.json';

// /v2/users takes `page_token` and answers `next_page_token`.
export const userPages = nextTokenPaginator({ tokenFields: ['next_page_token'], param: 'page_token' });

/**
 * Where a full refresh of sessions stands in the list of identified users: the page of users (the
 * token that reads it; none for the first page) and how many of its users are done. A STATE holds it
 * after each user whose sessions were written, so a retried attempt asks again only for the
 * sessions of the user it stopped in and of those after. (The CDK's substream state lists every
 * parent done, which grows with the users; this stays one position.)
 */
interface UsersPlace {
  users_page_token?: string;
  users_done: number;
}

function placeOf(state: StreamState | undefined, log: Logger): UsersPlace | undefined {
  if (!state || Object.keys(state).length === 0) return undefined;
  const { users_page_token: token, users_done: done, ...rest } = state;
  const fits = Object.keys(rest).length === 0 && (token === undefined || typeof token === 'string') && Number.isInteger(done) && (done as number) >= 0;
  if (fits) {
    logResuming('sessions', state, log);
    return { users_page_token: token as string | undefined, users_done: done as number };
  }
  log('WARN', `Stream "sessions": the state given is not a place in the users list (${JSON.stringify(state)}); reading from the first user`);
  return undefined;
}

/**
 * Numbers a server's own cap on `limit` would likely be. No document names a maximum for
 * /sessions/v2's `limit`; if Fullstory silently caps it, no user returns more than that cap.
 */
const ROUND_CAPS = new Set([20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 25_000, 50_000]);

/** Sessions are listed per user; ids may come as numbers or strings and are emitted as strings. */
export const sessionsStream: StreamDefinition<FullstoryApi> = {
  name: 'sessions',
  schema: sessions,
  primaryKey: [['userId'], ['sessionId']],
  resumable: true,
  async *read(api, context) {
    const usersUrl = joinUrl(api.baseUrl, '/v2/users');
    let skipped = 0;
    let asked = 0;
    let nulls = 0;
    const capped: string[] = [];
    // The most sessions one user returned, and the users who returned that many.
    let most = 0;
    let atMost: string[] = [];
    const countNull = () => nulls++;
    const sessionsOf = recordsAt('sessions', api.apiTitle, true);
    // Identified users, in list order, each with where it stands (for the progress LOGs) and the place after it.
    async function* identifiedUsers(from: UsersPlace | undefined): AsyncGenerator<{ uid: string; position: string; after: UsersPlace }> {
      const params = { is_identified: true, ...(from?.users_page_token ? { page_token: from.users_page_token } : {}) };
      let done = from?.users_done ?? 0;
      for await (const page of fetchPages(api.http, { url: usersUrl, params }, userPages, recordsAt('results', api.apiTitle))) {
        const total = (page.body as { total_records?: unknown } | undefined)?.total_records;
        const token = page.request.params.page_token;
        for (let index = done; index < page.items.length; index++) {
          const after = { ...(typeof token === 'string' ? { users_page_token: token } : {}), users_done: index + 1 };
          for (const user of recordObjects([page.items[index]], describeRequest(page.request), countNull)) {
            const uid = user.uid;
            if (typeof uid !== 'string' || uid === '') continue; // only identified users have sessions by uid
            asked++;
            yield { uid, position: `identified user ${asked}${total !== undefined ? ` of at most ${String(total)} users` : ''}`, after };
          }
        }
        done = 0;
      }
    }
    // "limit: the max number of sessions to return (defaults to 20)", no paging, no documented maximum.
    const sessionsRequest = (uid: string) => ({ url: joinUrl(api.baseUrl, '/sessions/v2'), params: { uid, limit: api.sessionsPerUser } });
    const fetchSessions = async ({ uid }: { uid: string }) => (await api.http.getJson(sessionsRequest(uid).url, sessionsRequest(uid).params, { bulk: true })).body;
    const sessionsFrom = async function* (from: UsersPlace | undefined): AsyncGenerator<StreamItem> {
      for await (const [{ uid, position, after }, answer] of inOrder(identifiedUsers(from), () => api.http.parallelism, fetchSessions)) {
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
        if (items.length > most) [most, atMost] = [items.length, []];
        if (items.length === most) atMost.push(uid);
        let written = 0;
        for (const session of recordObjects(items, describeRequest(request), countNull)) {
          written++;
          yield { type: 'record', data: asStrings(session, ['userId', 'sessionId', 'createdTime']) };
        }
        if (written > 0 && context.syncMode === 'full_refresh') yield { type: 'checkpoint', state: { ...after } };
      }
    };
    const from = placeOf(context.state, context.log);
    yield* fromPositionOrStart('sessions', from !== undefined, (point) => sessionsFrom(point === 'position' ? from : undefined), context.log);
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
    if (most < api.sessionsPerUser && ROUND_CAPS.has(most)) {
      context.log(
        'WARN',
        `Stream "sessions": no user returned more than ${most} sessions, a round number below the ${api.sessionsPerUser} asked for (sessions_per_user), and ${atMost.length} user(s) returned exactly ${most} (e.g. uid "${atMost[0]}"). If Fullstory caps the list at ${most}, their older sessions are missing: no document names a cap, and none can be asked past it (the list has no paging).`,
      );
    }
    if (nulls > 0) context.log('INFO', `Stream "sessions": skipped ${nulls} null item(s) in the responses of GET /v2/users and /sessions/v2`);
  },
};

const asStrings = (record: JsonRecord, keys: string[]): JsonRecord => {
  const copy = { ...record };
  for (const key of keys) if (typeof copy[key] === 'number') copy[key] = String(copy[key]);
  return copy;
};
