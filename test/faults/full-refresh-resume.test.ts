// Long full refreshes survive (issue 26): each API's streams in full refresh, SIGKILLed at 10 random
// points and resumed from the last STATEs each time (./crash.ts), as the platform retries a failed
// attempt of a sync with the last state it received. Every record is delivered, no record is
// committed twice, and a kill leaves at most one page (or one user's sessions) to read again. Given
// the final STATEs, a run reads nothing more of the streams that resume; without state, everything
// once. Then the platform's own pattern: attempt 1 fails on a burst of 500s, attempt 2 gets its STATEs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catalogFor, lastStates, recordsOf, runConnector, statusesOf, type Message } from '../helpers/connector';
import { historyRecord } from '../helpers/fullstory';
import { FullstoryMock, sessionCount } from '../mocks/fullstory';
import { MINDSTAMP_STREAMS, MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';
import type { Fault, MockServer } from '../mocks/server';
import { type Catalog, crashAndResume, report } from './crash';
import { FAULT_TUNING } from './targets';

const KILLS = 10;
const COMPLETE = { __ab_full_refresh_sync_complete: true };

interface Case {
  api: string;
  start(): Promise<MockServer & { connectorConfig(overrides?: Record<string, unknown>): unknown }>;
  streams: string[];
  /** Streams read in one request: nothing to resume, every attempt reads them whole. */
  restarting: string[];
  expected(mock: MockServer): Map<string, string[]>;
  identity(stream: string, record: Record<string, unknown>): string;
  /** Records of one page (or one parent's children): what one kill may leave to read again. */
  page(stream: string): number;
  /** A page in the middle of a long list, for the burst of 500s, and its stream. */
  burst: Omit<Fault, 'kind'>;
  burstStream: string;
  seed: number;
}

const byId = (_stream: string, record: Record<string, unknown>) => String(record.id);

const CASES: Case[] = [
  {
    api: 'persistiq',
    start: () => new PersistIqMock({ rateLimit: false, counts: { leads: 4000, events: 3000 } }).start(),
    streams: ['users', 'leads', 'campaigns', 'lead_statuses', 'lead_fields', 'events', 'dnc_domains', 'tags'],
    restarting: [],
    expected: (mock) => new Map(Object.entries((mock as PersistIqMock).data).map(([stream, records]) => [stream, records.map((r: { id: unknown }) => String(r.id))])),
    identity: byId,
    // PersistIQ's pages: 100 records, events 500 (the mock follows the OpenAPI examples).
    page: (stream) => (stream === 'events' ? 500 : 100),
    burst: { path: '/v1/leads', query: { page: '20' } },
    burstStream: 'leads',
    seed: 26,
  },
  {
    api: 'mindstamp',
    start: () => new MindstampMock({ counts: { views: 3000, interactions: 4000 } }).start(),
    streams: [...MINDSTAMP_STREAMS],
    restarting: ['videos', 'viewers'],
    expected: (mock) => new Map(MINDSTAMP_STREAMS.map((stream) => [stream as string, (mock as MindstampMock).records(stream).map((r) => String(r.id))])),
    identity: byId,
    page: () => 100,
    burst: { path: '/api/v1/interactions', query: { offset: '2000' } },
    burstStream: 'interactions',
    seed: 27,
  },
  {
    api: 'fullstory',
    start: () => new FullstoryMock({ users: 300, bundles: 0, segmentEvents: 0, individuals: 0 }).start(),
    streams: ['segments', 'webhook_event_types', 'users', 'sessions', 'settings_geo_history'],
    restarting: ['webhook_event_types'],
    expected: (server) => {
      const mock = server as FullstoryMock;
      const userId = (index: number) => (index % 2 === 0 ? String(mock.users[index].id) : String(1000 + index));
      return new Map([
        ['segments', mock.segments.map((s) => String(s.id))],
        ['webhook_event_types', mock.eventDefs.map((e) => String(e.eventName))],
        ['users', mock.users.map((u) => String(u.id))],
        ['sessions', mock.users.flatMap((user, index) => (user.uid ? Array.from({ length: sessionCount(index) }, (_, s) => `${userId(index)}/${900 + s}`) : []))],
        ['settings_geo_history', mock.settings.geo.versions.map((v) => JSON.stringify(historyRecord(v)))],
      ]);
    },
    identity: (stream, record) =>
      stream === 'sessions'
        ? `${String(record.userId)}/${String(record.sessionId)}`
        : stream === 'webhook_event_types'
          ? String(record.eventName)
          : stream === 'settings_geo_history'
            ? JSON.stringify(record)
            : String(record.id),
    // Segments 100 a page, users 20 (the mock's page), history 3; sessions: the most one user has.
    page: (stream) => ({ segments: 100, users: 20, sessions: 45, settings_geo_history: 3 })[stream] ?? Infinity,
    burst: { path: '/segments/v1', query: { paginationToken: Buffer.from('100').toString('base64url') } },
    burstStream: 'segments',
    seed: 28,
  },
];

const fullRefresh = (streams: string[]) => catalogFor(Object.fromEntries(streams.map((s) => [s, 'full_refresh']))) as Catalog;

for (const api of CASES) {
  describe(`${api.api}: a full refresh resumed by retried attempts`, () => {
    test(`killed at ${KILLS} random points: every record once, at most a page read again per kill; the final STATEs read nothing more; no state reads all`, async () => {
      const mock = await api.start();
      try {
        const expected = api.expected(mock);
        for (const [stream, ids] of expected) assert.equal(new Set(ids).size, ids.length, `${stream} records are distinct`);
        const config = mock.connectorConfig();
        const outcome = await crashAndResume(config, fullRefresh(api.streams), expected, api.identity, {
          kills: KILLS,
          seed: api.seed,
          restarting: new Set(api.restarting),
          uncommittedBound: api.page,
        });
        report(`${api.api} full refresh`, KILLS, outcome);

        // Given the final STATEs (a retry after the last attempt completed), the streams that resume read nothing.
        const before = mock.requests.length;
        const again = await runConnector('read', { config, catalog: fullRefresh(api.streams), state: outcome.finalStates });
        assert.equal(again.code, 0);
        for (const stream of api.streams) {
          const records = recordsOf(again.messages, stream).map((r) => api.identity(stream, r));
          assert.deepEqual(records.sort(), api.restarting.includes(stream) ? [...expected.get(stream)!].sort() : [], stream);
          assert.deepEqual(statusesOf(again.messages, stream), ['STARTED', 'RUNNING', 'COMPLETE'], stream);
        }
        assert.equal(mock.requests.length - before, api.restarting.length, 'only the streams read in one request asked again');

        // A new sync (no state: the platform clears a full refresh's state when a sync starts) reads everything once.
        const fresh = await runConnector('read', { config, catalog: fullRefresh(api.streams) });
        assert.equal(fresh.code, 0);
        for (const stream of api.streams) {
          assert.deepEqual(
            recordsOf(fresh.messages, stream)
              .map((r) => api.identity(stream, r))
              .sort(),
            [...expected.get(stream)!].sort(),
            stream,
          );
        }
      } finally {
        await mock.close();
      }
    });

    test('attempt 1 fails on a burst of 500s mid-list; attempt 2, given its last STATEs, reads the rest: every record, none committed twice', async () => {
      const mock = await api.start();
      try {
        const expected = api.expected(mock);
        const config = mock.connectorConfig(FAULT_TUNING);
        const catalog = fullRefresh(api.streams);
        mock.inject({ ...api.burst, kind: 'status', status: 500, times: FAULT_TUNING.max_retries + 1 });
        const first = await runConnector('read', { config, catalog });
        assert.equal(first.code, 1, 'attempt 1 fails');
        const failed = api.streams.filter((stream) => statusesOf(first.messages, stream).at(-1) === 'INCOMPLETE');
        assert.deepEqual(failed, [api.burstStream]);
        const second = await runConnector('read', { config, catalog, state: lastStates(first.messages) });
        assert.equal(second.code, 0);
        for (const stream of api.streams) {
          const committed = committedIn(first.messages, stream).map((r) => api.identity(stream, r));
          const resumed = recordsOf(second.messages, stream).map((r) => api.identity(stream, r));
          if (api.restarting.includes(stream)) continue;
          assert.deepEqual([...committed, ...resumed].sort(), [...expected.get(stream)!].sort(), `${stream}: attempt 1's committed records and attempt 2's are every record, once`);
          if (committed.length === expected.get(stream)!.length)
            assert.deepEqual(lastStates(second.messages).find((s) => s.stream.stream_descriptor.name === stream)!.stream.stream_state, COMPLETE);
        }
      } finally {
        await mock.close();
      }
    });
  });
}

/** A stream's records up to its last STATE in a run: what the platform committed. */
function committedIn(messages: Message[], stream: string): Record<string, unknown>[] {
  const own = messages.filter((m) => (m.type === 'RECORD' && m.record.stream === stream) || (m.type === 'STATE' && m.state.stream.stream_descriptor.name === stream));
  const last = own.map((m) => m.type).lastIndexOf('STATE');
  return own.slice(0, last + 1).flatMap((m) => (m.type === 'RECORD' ? [m.record.data] : []));
}
