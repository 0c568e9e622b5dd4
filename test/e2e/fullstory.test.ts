import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { catalogFor, errorsOf, lastStates, logsOf, recordsOf, runConnector, statesOf, statusesOf, type Message } from '../helpers/connector';
import { historyRecord } from '../helpers/fullstory';
import { FullstoryMock, sessionCount } from '../mocks/fullstory';

const KINDS = ['blocking', 'domain', 'geo', 'privacy', 'features', 'targeting'];
const EVENT_KEY = [['UserId'], ['SessionId'], ['PageId'], ['EventStart'], ['EventType']];
const LISTS = ['segments', 'operations', 'webhook_endpoints', 'webhook_event_types', 'users', 'sessions'];
const full = (streams: string[]) => catalogFor(Object.fromEntries(streams.map((s) => [s, 'full_refresh'])));

describe('Fullstory lists, users, sessions and settings through the CLI', () => {
  let mock: FullstoryMock;
  before(async () => {
    mock = await new FullstoryMock().start();
  });
  after(() => mock.close());

  test('check sends "Authorization: Basic <key as issued>", lists one segment and reads the privacy settings (Admin level)', async () => {
    const before = mock.requests.length;
    const result = await runConnector('check', { config: mock.connectorConfig() });
    assert.deepEqual(result.messages.at(-1), { type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } });
    const requests = mock.requests.slice(before);
    assert.deepEqual(
      requests.map((r) => `${r.path}${String(r.query) ? `?${r.query}` : ''}`),
      ['/segments/v1?limit=1', '/settings/recording/v1/privacy'],
    );
    for (const request of requests) assert.equal(request.headers.authorization, `Basic ${mock.apiKey}`);
  });

  test('check with a bad key shows the v2 message and code', async () => {
    const result = await runConnector('check', { config: mock.connectorConfig({ api_key: 'nope' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(result.messages.at(-1)!.connectionStatus, {
      status: 'FAILED',
      message: 'Fullstory rejected the API key (HTTP 401): Unauthorized: invalid API key (code unauthorized)',
    });
  });

  test('discover: every stream with its key and cursor', async () => {
    const result = await runConnector('discover', { config: mock.connectorConfig() });
    const streams = result.messages.find((m) => m.type === 'CATALOG')!.catalog.streams as Message[];
    assert.deepEqual(
      streams.map((s) => [s.name, s.source_defined_primary_key ?? null, s.default_cursor_field ?? null]),
      [
        ['export_bundles', [['Id']], ['Stop']],
        ['events', EVENT_KEY, ['ExportBundleStop']],
        ['segment_events', EVENT_KEY, ['EventStart']],
        ['segment_individuals', [['IndvId']], ['LastEventStart']],
        ['segments', [['id']], null],
        ['operations', [['id']], null],
        ['webhook_endpoints', [['id']], null],
        ['webhook_event_types', [['eventName']], null],
        ['users', [['id']], null],
        ['sessions', [['userId'], ['sessionId']], null],
        ...KINDS.map((k) => [`settings_${k}`, null, null]),
        ...KINDS.map((k) => [`settings_${k}_history`, null, ['lastUpdated']]),
      ],
    );
  });

  test('lists: exact records over token pages; users with an ESTIMATE; sessions per identified user, ids as strings', async () => {
    mock.operations.push({ id: 'op-old', type: 'DELETE_USER', state: 'COMPLETED', estimatePctComplete: 100 });
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(LISTS) });
    assert.equal(result.code, 0, result.stdout.slice(-1000));
    assert.deepEqual(recordsOf(result.messages, 'segments'), mock.segments);
    assert.deepEqual(recordsOf(result.messages, 'operations'), mock.operations);
    assert.deepEqual(recordsOf(result.messages, 'webhook_endpoints'), mock.endpoints);
    assert.deepEqual(recordsOf(result.messages, 'webhook_event_types'), mock.eventDefs);
    assert.deepEqual(recordsOf(result.messages, 'users'), mock.users);
    const estimates = result.messages.filter((m) => m.type === 'TRACE' && m.trace.type === 'ESTIMATE').map((m) => m.trace.estimate);
    assert.deepEqual(estimates, [{ name: 'users', type: 'STREAM', row_estimate: 45 }]);
    const segmentPages = mock.requests
      .slice(start)
      .filter((r) => r.path === '/segments/v1')
      .map((r) => r.query.toString());
    assert.deepEqual(segmentPages, ['limit=100', `limit=100&paginationToken=${Buffer.from('100').toString('base64url')}`]);

    const sessions = recordsOf(result.messages, 'sessions');
    const identified = mock.users.map((u, index) => ({ u, index })).filter(({ u }) => u.uid);
    const expected = identified.flatMap(({ u, index }) =>
      Array.from({ length: sessionCount(index) }, (_, s) => ({
        userId: index % 2 === 0 ? u.id : String(1000 + index),
        sessionId: String(900 + s),
        createdTime: String(1_700_000_000 + s),
        fsUrl: `https://app.fullstory.com/ui/o-1/session/${index}:${s}`,
      })),
    );
    assert.deepEqual(sessions, expected);
    assert.ok(expected.length > 0 && identified.some(({ index }) => sessionCount(index) > 20), "some users have more than the API's default 20 sessions");
    assert.ok(
      mock.requests
        .slice(start)
        .filter((r) => r.path === '/sessions/v2')
        .every((r) => r.query.get('limit') === '1000'),
    );
    assert.ok(mock.requests.slice(start).some((r) => r.path === '/v2/users' && r.query.get('is_identified') === 'true'));
  });

  test('a user with as many sessions as sessions_per_user asks for is reported: Fullstory may hold more', async () => {
    const result = await runConnector('read', { config: mock.connectorConfig({ sessions_per_user: 45 }), catalog: full(['sessions']) });
    assert.equal(result.code, 0);
    const capped = mock.users.map((u, index) => ({ u, index })).filter(({ u, index }) => u.uid && sessionCount(index) >= 45);
    assert.ok(capped.length > 0);
    const warnings = result.messages.filter((m) => m.type === 'LOG' && m.log.level === 'WARN').map((m) => m.log.message);
    assert.deepEqual(warnings, [
      `Stream "sessions": ${capped.length} user(s) returned the 45 sessions asked for (sessions_per_user), so Fullstory may hold older ones; e.g. uid "${capped[0].u.uid}". Raise sessions_per_user to read them.`,
    ]);
  });

  test('a server that silently caps sessions at a round number below sessions_per_user: a WARN names the cap and the users at it', async () => {
    const capping = await new FullstoryMock({ sessionsCap: 20 }).start();
    try {
      const result = await runConnector('read', { config: capping.connectorConfig(), catalog: full(['sessions']) });
      assert.equal(result.code, 0);
      const atCap = capping.users.map((u, index) => ({ u, index })).filter(({ u, index }) => u.uid && sessionCount(index) >= 20);
      assert.ok(atCap.length > 0);
      assert.deepEqual(logsOf(result.messages, 'WARN'), [
        `Stream "sessions": no user returned more than 20 sessions, a round number below the 1000 asked for (sessions_per_user), and ${atCap.length} user(s) returned exactly 20 (e.g. uid "${atCap[0].u.uid}"). If Fullstory caps the list at 20, their older sessions are missing: no document names a cap, and none can be asked past it (the list has no paging).`,
      ]);
      // Without the cap, the most any user returns (45) is no round number: no WARN.
      const uncapped = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['sessions']) });
      assert.deepEqual(logsOf(uncapped.messages, 'WARN'), []);
    } finally {
      await capping.close();
    }
  });

  test('lists paged with next_pagination_token (older pages spell it so), and an answer without its list key (proto3 JSON omits an empty list) is an empty page', async () => {
    const other = await new FullstoryMock({ listTokenKey: 'next_pagination_token', omitEmptyLists: true }).start();
    try {
      other.endpoints.length = 0;
      const result = await runConnector('read', { config: other.connectorConfig(), catalog: full(['segments', 'operations', 'webhook_endpoints']) });
      assert.equal(result.code, 0, result.stdout.slice(-500));
      assert.deepEqual(recordsOf(result.messages, 'segments'), other.segments);
      assert.ok(other.segments.length > 100, 'more than one page');
      for (const stream of ['operations', 'webhook_endpoints']) {
        assert.deepEqual(recordsOf(result.messages, stream), [], stream);
        assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'RUNNING', 'COMPLETE'], stream);
      }
    } finally {
      await other.close();
    }
  });

  test('a user deleted between the list and its sessions (404) is logged and skipped', async () => {
    const uid = String(mock.users[0].uid);
    mock.inject({ path: '/sessions/v2', query: { uid }, kind: 'status', status: 404, body: { message: 'user not found', code: 'resource_not_found' } });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['sessions']) });
    assert.equal(result.code, 0);
    assert.ok(
      result.messages.some((m) => m.type === 'LOG' && m.log.message === `Stream "sessions": Fullstory has no user with uid "${uid}" any more (HTTP 404); its sessions are skipped`),
    );
  });

  test('null items in the users and sessions lists are skipped, counted and logged once', async () => {
    const clean = recordsOf((await runConnector('read', { config: mock.connectorConfig(), catalog: full(['sessions']) })).messages, 'sessions');
    const uid = String(mock.users.find((u) => u.uid)?.uid);
    mock.inject(
      { path: '/v2/users', kind: 'rewrite', rewrite: (body) => ({ ...(body as object), results: [null, ...(body as { results: unknown[] }).results] }) },
      // The mock writes sessions as JSON text (ids as bare integers).
      { path: '/sessions/v2', query: { uid }, kind: 'rewrite', rewrite: (body) => `${String(body).slice(0, -2)}${String(body).endsWith('[]}') ? '' : ','}null]}` },
    );
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(['sessions']) });
    assert.equal(result.code, 0);
    assert.deepEqual(recordsOf(result.messages, 'sessions'), clean);
    const logs = result.messages.filter((m) => m.type === 'LOG' && /null item/.test(m.log.message)).map((m) => m.log.message);
    assert.deepEqual(logs, ['Stream "sessions": skipped 2 null item(s) in the responses of GET /v2/users and /sessions/v2']);
  });

  test('settings: one record each; history: every version, both token spellings', async () => {
    const streams = [...KINDS.map((k) => `settings_${k}`), ...KINDS.map((k) => `settings_${k}_history`)];
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: full(streams) });
    assert.equal(result.code, 0);
    for (const kind of KINDS) {
      assert.deepEqual(recordsOf(result.messages, `settings_${kind}`), [mock.settings[kind].current], kind);
      assert.deepEqual(recordsOf(result.messages, `settings_${kind}_history`), mock.settings[kind].versions.map(historyRecord), kind);
    }
    const geoPages = mock.requests.slice(start).filter((r) => r.path === '/settings/recording/v1/geo/history');
    assert.equal(geoPages.length, 3, 'next_pagination_token followed');
    assert.ok(
      geoPages.every((r) => r.query.get('limit') === '100'),
      'the documented maximum page',
    );
  });

  test('history incremental: state is the newest lastUpdated; the next sync yields only newer versions; 0.1.0 states are read', async () => {
    const catalog = catalogFor({ settings_geo_history: 'incremental' });
    const config = mock.connectorConfig({ start_date: undefined });
    const first = await runConnector('read', { config, catalog });
    assert.equal(recordsOf(first.messages, 'settings_geo_history').length, mock.settings.geo.versions.length);
    const state = lastStates(first.messages);
    assert.deepEqual(state[0].stream.stream_state, { lastUpdated: '2024-01-07T00:00:00.000Z' });
    const newer = { ...mock.settings.geo.versions[0], recordGeoZones: ['new'], metadata: { lastUpdated: '2024-03-01T00:00:00.000Z' } };
    mock.settings.geo.versions.splice(4, 0, newer);
    const second = await runConnector('read', { config, catalog, state });
    // The version at the state's very instant comes again (the bound is inclusive), then the newer one.
    const sinceState = mock.settings.geo.versions.filter((v) => String((v.metadata as Record<string, unknown>).lastUpdated) >= '2024-01-07T00:00:00.000Z');
    assert.equal(sinceState.length, 2);
    assert.deepEqual(recordsOf(second.messages, 'settings_geo_history'), sinceState.map(historyRecord));
    assert.deepEqual(statesOf(second.messages, 'settings_geo_history').at(-1)!.stream.stream_state, { lastUpdated: '2024-03-01T00:00:00.000Z' });
    // Version 0.1.0 wrote the nested cursor's path as one flat key: read as the same state.
    const legacy = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'settings_geo_history' }, stream_state: { 'metadata.lastUpdated': '2024-01-07T00:00:00.000Z' } } }];
    const migrated = await runConnector('read', { config, catalog, state: legacy });
    assert.deepEqual(recordsOf(migrated.messages, 'settings_geo_history'), recordsOf(second.messages, 'settings_geo_history'));
    assert.deepEqual(statesOf(migrated.messages, 'settings_geo_history').at(-1)!.stream.stream_state, { lastUpdated: '2024-03-01T00:00:00.000Z' });
  });

  test('an Architect key: privacy streams fail with config_error naming the Admin key, the others complete', async () => {
    const config = mock.connectorConfig({ api_key: mock.architectKey });
    const result = await runConnector('read', { config, catalog: full(['settings_blocking', 'settings_privacy', 'settings_privacy_history', 'segments']) });
    assert.equal(result.code, 1);
    // Streams are read at the same time: their errors come in no set order.
    assert.deepEqual(
      errorsOf(result.messages)
        .map((e) => [e.failure_type, e.message])
        .sort(),
      [
        [
          'config_error',
          'Stream "settings_privacy": Fullstory denied access to GET /settings/recording/v1/privacy (HTTP 403): This operation requires an Admin API key (code forbidden). Check the API key\'s permissions. Stream "settings_privacy" needs an Admin API key.',
        ],
        [
          'config_error',
          'Stream "settings_privacy_history": Fullstory denied access to GET /settings/recording/v1/privacy/history?limit=100 (HTTP 403): This operation requires an Admin API key (code forbidden). Check the API key\'s permissions. Stream "settings_privacy_history" needs an Admin API key.',
        ],
      ],
    );
    for (const stream of ['settings_blocking', 'segments']) assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'RUNNING', 'COMPLETE']);
  });
});
