// A full refresh resumes where an earlier attempt of the same sync stopped: each paged stream's STATE
// holds the next page to read, a stream read whole says so (the CDK's completion state), and a state
// that does not fit is read from the start, said. What the platform passes: the last STATE of each
// stream of the failed attempt (docs.airbyte.com/understanding-airbyte/resumability).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { catalogFor, logsOf, type Message, recordsOf, runConnector, statesOf, statusesOf, streamStates } from '../helpers/connector';
import { FullstoryMock, sessionCount } from '../mocks/fullstory';
import { MindstampMock } from '../mocks/mindstamp';
import { EVENT_GROUPS, PersistIqMock } from '../mocks/persistiq';

const COMPLETE = { __ab_full_refresh_sync_complete: true };
const full = (streams: string[]) => catalogFor(Object.fromEntries(streams.map((s) => [s, 'full_refresh'])));
const statesWithCounts = (messages: Message[], stream: string) => statesOf(messages, stream).map((s) => [s.stream.stream_state, s.sourceStats.recordCount]);
const ids = (records: Record<string, unknown>[]) => records.map((r) => r.id);

const discovered = async (config: unknown) => {
  const result = await runConnector('discover', { config });
  return (result.messages.find((m) => m.type === 'CATALOG')!.catalog.streams as Message[]).filter((s) => s.is_resumable).map((s) => s.name);
};

describe('PersistIQ: full refresh resumed by a retried attempt', () => {
  let mock: PersistIqMock;
  before(async () => {
    mock = await new PersistIqMock({ rateLimit: false }).start();
  });
  after(() => mock.close());
  const requestsAfter = (start: number, path: string) =>
    mock.requests
      .slice(start)
      .filter((r) => r.path === path)
      .map((r) => r.query.toString());

  test('discover: every stream is_resumable (each pages by next_page), none gets a cursor for it', async () => {
    assert.deepEqual(await discovered(mock.connectorConfig()), ['users', 'leads', 'campaigns', 'lead_statuses', 'lead_fields', 'events', 'dnc_domains', 'tags']);
  });

  test('a state {page: 2} reads from page 2 on; the end is marked complete', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['leads']), state: streamStates({ leads: { page: 2 } }) });
    assert.equal(result.code, 0);
    assert.deepEqual(ids(recordsOf(result.messages, 'leads')), ids(mock.data.leads.slice(100)));
    assert.deepEqual(requestsAfter(start, '/v1/leads'), ['page=2', 'page=3']);
    assert.deepEqual(statesWithCounts(result.messages, 'leads'), [
      [{ page: 3 }, 100],
      [COMPLETE, 50],
    ]);
    assert.ok(logsOf(result.messages, 'INFO').includes('Stream "leads": resuming where an earlier attempt of this sync stopped ({"page":2})'));
  });

  test('events resume in the group the state names; the groups before it are read again only for their ids, so the pass without group writes no copy', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['events']), state: streamStates({ events: { group: 'lead_detail' } }) });
    assert.equal(result.code, 0);
    const leadDetail = mock.data.events.filter((_, i) => mock.eventGroups[i] === 'lead_detail');
    assert.deepEqual(ids(recordsOf(result.messages, 'events')), ids(leadDetail));
    // The mock answers the campaign group to a request without group: every one a copy.
    assert.deepEqual(requestsAfter(start, '/v1/events'), ['group=campaign', 'group=settings', 'group=lead_detail', '']);
    assert.deepEqual(statesWithCounts(result.messages, 'events'), [[COMPLETE, leadDetail.length]]);
    assert.equal(EVENT_GROUPS.at(-1), 'lead_detail');
  });

  test('events resumed mid-way through the pass without group: no event of the groups is written again', async () => {
    const every = await new PersistIqMock({ rateLimit: false, withoutGroup: 'every', undocumentedGroupEvents: 600, counts: { events: 1400 } }).start();
    try {
      const result = await runConnector('read', { config: every.connectorConfig(), catalog: full(['events']), state: streamStates({ events: { page: 3 } }) });
      assert.equal(result.code, 0);
      // Pages of 500 without group: page 3 holds events 1000-1399, of which those from 800 on are in no documented group.
      assert.deepEqual(ids(recordsOf(result.messages, 'events')), ids(every.data.events.slice(1000)));
      assert.ok(recordsOf(result.messages, 'events').every((r) => r.group === null));
      // The pages before page 3 are read for their ids (page 3 may be asked twice: a list asks for the next page as soon as it is named).
      assert.deepEqual([...new Set(every.requests.map((r) => r.query.toString()))], ['group=campaign', 'group=settings', 'group=lead_detail', '', 'page=2', 'page=3']);
    } finally {
      await every.close();
    }
  });

  test('a stream whose state says it was read whole is not read again: its state is repeated, and it completes', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['leads', 'tags']), state: streamStates({ leads: COMPLETE, tags: { page: 1 } }) });
    assert.equal(result.code, 0);
    assert.equal(recordsOf(result.messages, 'leads').length, 0);
    assert.deepEqual(requestsAfter(start, '/v1/leads'), []);
    assert.deepEqual(statesWithCounts(result.messages, 'leads'), [[COMPLETE, 0]]);
    assert.deepEqual(statusesOf(result.messages, 'leads'), ['STARTED', 'RUNNING', 'COMPLETE']);
    assert.ok(logsOf(result.messages, 'INFO').includes('Stream "leads": an earlier attempt of this sync read it whole (its state says so); not read again'));
    assert.deepEqual(ids(recordsOf(result.messages, 'tags')), ids(mock.data.tags));
  });

  test('no position ({}, the CDK\'s "no cursor" end state) or a state of another kind: read from the first page, the latter said in a WARN', async () => {
    for (const [state, warning] of [
      [{}, undefined],
      [{ __ab_no_cursor_state_message: true }, undefined],
      [
        { updated_at: '2024-01-01T00:00:00Z' },
        'Stream "leads": the state given cannot be resumed (it holds "updated_at", which this stream does not page by (page)); reading from the first page',
      ],
    ] as const) {
      const start = mock.requests.length;
      const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['leads']), state: streamStates({ leads: state }) });
      assert.equal(result.code, 0);
      assert.deepEqual(ids(recordsOf(result.messages, 'leads')), ids(mock.data.leads), JSON.stringify(state));
      assert.deepEqual(requestsAfter(start, '/v1/leads'), ['', 'page=2', 'page=3']);
      assert.deepEqual(logsOf(result.messages, 'WARN'), warning ? [warning] : []);
    }
  });
});

describe('Mindstamp: offsets resumed', () => {
  test('discover: every stream is_resumable (each has a cursor); a full refresh of views given {offset} reads from there', async () => {
    const mock = await new MindstampMock({ counts: { views: 450 } }).start();
    try {
      assert.deepEqual(await discovered(mock.connectorConfig()), ['videos', 'viewers', 'views', 'interactions']);
      const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['views']), state: streamStates({ views: { offset: 300 } }) });
      assert.equal(result.code, 0);
      const rest = mock.data.views.slice(300).filter((v) => v !== null) as Record<string, unknown>[];
      assert.deepEqual(ids(recordsOf(result.messages, 'views')), ids(rest));
      // From the state's offset on, each page once; pages asked ahead past the list's end (offset 500,
      // when the pace and latency allow reading ahead) are answered empty and dropped.
      const offsets = mock.requests.filter((r) => r.path.endsWith('/views')).map((r) => Number(r.query.get('offset')));
      const end = mock.data.views.length;
      assert.deepEqual(
        offsets.filter((offset) => offset <= end),
        [300, 400, end],
      );
      assert.ok(
        offsets.every((offset) => offset <= end || offset % 100 === 0),
        offsets.join(),
      );
      assert.deepEqual(statesWithCounts(result.messages, 'views'), [
        [{ offset: 400 }, mock.data.views.slice(300, 400).filter((v) => v !== null).length],
        [{ offset: mock.data.views.length }, mock.data.views.slice(400).filter((v) => v !== null).length],
        [COMPLETE, 0],
      ]);
    } finally {
      await mock.close();
    }
  });
});

describe('Fullstory: lists, users and sessions resumed', () => {
  let mock: FullstoryMock;
  before(async () => {
    mock = await new FullstoryMock({ users: 90, bundles: 0, segmentEvents: 0, individuals: 0 }).start();
  });
  after(() => mock.close());
  const token = (offset: number) => Buffer.from(String(offset)).toString('base64url');

  test('discover: the paged lists and sessions are is_resumable, besides the incremental streams', async () => {
    const resumable = await discovered(mock.connectorConfig());
    const kinds = ['blocking', 'domain', 'geo', 'privacy', 'features', 'targeting'];
    assert.deepEqual(resumable, [
      'export_bundles',
      'events',
      'segment_events',
      'segment_individuals',
      'segments',
      'operations',
      'webhook_endpoints',
      'users',
      'sessions',
      ...kinds.map((k) => `settings_${k}_history`),
    ]);
  });

  test('sessions resume after the users of the page their state names, asking for no sessions of the users before', async () => {
    const identified = mock.users.map((user, index) => ({ user, index })).filter(({ user }) => user.uid);
    // Identified users are paged 20 at a time: the state says 5 users of the second page are done.
    const rest = identified.slice(25);
    const start = mock.requests.length;
    const result = await runConnector('read', {
      config: mock.connectorConfig(),
      catalog: full(['sessions']),
      state: streamStates({ sessions: { users_page_token: token(20), users_done: 5 } }),
    });
    assert.equal(result.code, 0, result.stdout.slice(-1000));
    // Several in flight: they arrive in no set order.
    const asked = mock.requests
      .slice(start)
      .filter((r) => r.path === '/sessions/v2')
      .map((r) => r.query.get('uid'));
    assert.deepEqual(asked.sort(), rest.map(({ user }) => String(user.uid)).sort());
    assert.equal(
      recordsOf(result.messages, 'sessions').length,
      rest.reduce((sum, { index }) => sum + sessionCount(index), 0),
    );
    const states = statesOf(result.messages, 'sessions').map((s) => s.stream.stream_state);
    assert.deepEqual(states[0], { users_page_token: token(20), users_done: 6 });
    assert.deepEqual(states.at(-1), COMPLETE);
  });

  test('a page token the API no longer takes (400) is read from the start, said in a WARN', async () => {
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['users']), state: streamStates({ users: { page_token: 'expired' } }) });
    assert.equal(result.code, 0);
    assert.deepEqual(ids(recordsOf(result.messages, 'users')), ids(mock.users));
    assert.deepEqual(logsOf(result.messages, 'WARN'), [
      'Stream "users": the API refused the position an earlier attempt stopped at (Fullstory returned HTTP 400 for GET /v2/users?page_token=expired: invalid page token (code invalid_argument)); reading from the start',
    ]);
  });
});
