import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { catalogFor, lastStates, logsOf, recordsOf, runConnector, statesOf, statusesOf, type Message } from '../helpers/connector';
import { EVENT_GROUPS, PersistIqMock } from '../mocks/persistiq';

const STREAMS = ['users', 'leads', 'campaigns', 'lead_statuses', 'lead_fields', 'events', 'dnc_domains', 'tags'] as const;

const configFor = (mock: PersistIqMock, extra: Record<string, unknown> = {}) => mock.connectorConfig(extra);

const fullRefreshAll = catalogFor(Object.fromEntries(STREAMS.map((s) => [s, 'full_refresh'])));

const byId = (records: Record<string, unknown>[]) => [...records].sort((a, b) => String(a.id).localeCompare(String(b.id)));

/** A server-side bound: a millisecond before the state, so a strict filter returns the boundary instant. */
const msEarlier = (iso: string) => new Date(Date.parse(iso) - 1).toISOString();

/** Every event, with the documented group it was read in (the connector adds `group`; null: read only without one). */
const eventsAsRead = (mock: PersistIqMock) =>
  mock.data.events.map((event, i) => ({ ...event, group: (EVENT_GROUPS as readonly string[]).includes(mock.eventGroups[i]) ? mock.eventGroups[i] : null }));

/** Records on each page of a list of `count` (at least one page, maybe empty). */
const pageCounts = (count: number, size: number) => Array.from({ length: Math.max(1, Math.ceil(count / size)) }, (_, i) => Math.min(size, count - i * size));

/**
 * A full refresh's states: after each page the next one to read (`page`, in its `group` for events),
 * and after the last, that the stream is complete; each with the records since the one before.
 */
function expectedStates(mock: PersistIqMock, stream: (typeof STREAMS)[number]): [Record<string, unknown>, number][] {
  const parts: { group?: string; count: number }[] =
    stream === 'events' ? EVENT_GROUPS.map((group) => ({ group, count: mock.eventGroups.filter((g) => g === group).length })) : [{ count: mock.data[stream].length }];
  const size = stream === 'lead_statuses' || stream === 'lead_fields' ? Number.MAX_SAFE_INTEGER : stream === 'events' ? 500 : 100;
  const states: [Record<string, unknown>, number][] = [];
  parts.forEach(({ group, count }, part) => {
    const pages = pageCounts(count, size);
    const where = group === undefined ? {} : { group };
    pages.forEach((records, page) => {
      if (page + 1 < pages.length) states.push([{ ...where, page: page + 2 }, records]);
      else if (part + 1 < parts.length) states.push([{ group: parts[part + 1].group }, records]);
      else states.push([{ __ab_full_refresh_sync_complete: true }, records]);
    });
  });
  return states;
}

describe('PersistIQ through the CLI', () => {
  let mock: PersistIqMock;
  before(async () => {
    mock = await new PersistIqMock({ rateLimit: false }).start();
  });
  after(() => mock.close());

  test('check succeeds with a valid key and sends it only as x-api-key', async () => {
    const result = await runConnector('check', { config: configFor(mock) });
    assert.equal(result.code, 0);
    assert.deepEqual(result.messages.at(-1), { type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } });
    const request = mock.requests.at(-1)!;
    assert.equal(request.path, '/v1/users');
    assert.equal(request.headers['x-api-key'], mock.apiKey);
    assert.equal(request.headers.authorization, undefined);
    assert.match(String(request.headers['user-agent']), /^source-saas-trio\/\d+\.\d+\.\d+$/);
  });

  test('a field the schema does not declare reaches the destination in _ab_additional_properties, and is reported once', async () => {
    // The audit found PersistIQ fields no schema listed (api-fidelity-audit.md §0 #1); any future one
    // must survive the platform, which drops undeclared top-level keys.
    mock.inject({
      path: '/v1/tags',
      kind: 'rewrite',
      rewrite: (body) => ({ ...(body as Message), tags: (body as Message).tags.map((t: Message, i: number) => (i < 3 ? { ...t, color: '#f00', archived: i === 0 } : t)) }),
    });
    const result = await runConnector('read', { config: configFor(mock), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 0);
    const tags = recordsOf(result.messages, 'tags');
    assert.deepEqual(tags.slice(0, 4), [
      { ...mock.data.tags[0], _ab_additional_properties: { color: '#f00', archived: true } },
      { ...mock.data.tags[1], _ab_additional_properties: { color: '#f00', archived: false } },
      { ...mock.data.tags[2], _ab_additional_properties: { color: '#f00', archived: false } },
      mock.data.tags[3],
    ]);
    const logs = result.messages.filter((m) => m.type === 'LOG' && /schema does not describe/.test(m.log.message)).map((m) => [m.log.level, m.log.message]);
    assert.deepEqual(logs, [
      [
        'INFO',
        'Stream "tags": the data held what its schema does not describe; top-level keys the schema does not declare, kept in _ab_additional_properties: color ×3, archived ×3',
      ],
    ]);
    const discovered = (await runConnector('discover', { config: configFor(mock) })).messages[0].catalog.streams as Message[];
    for (const stream of discovered) assert.equal(stream.json_schema.properties._ab_additional_properties.type.join(), 'object,null', stream.name);
  });

  test('check with a bad key fails with the API message, exit 0, no retries', async () => {
    const before = mock.requests.length;
    const result = await runConnector('check', { config: { api: { ...configFor(mock).api, api_key: 'wrong-key-123' } } });
    assert.equal(result.code, 0);
    const status = result.messages.find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus;
    assert.equal(status.status, 'FAILED');
    assert.equal(status.message, 'PersistIQ rejected the API key (HTTP 401): Invalid API key. Check the x-api-key header. (invalid_request_error)');
    assert.equal(mock.requests.length - before, 1);
  });

  test('check against an unreachable host fails clearly, exit 0', async () => {
    const config = configFor(mock, { base_url: 'http://127.0.0.1:9/v1', retry_initial_delay_seconds: 0.01 });
    const result = await runConnector('check', { config });
    assert.equal(result.code, 0);
    const status = result.messages.find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus;
    assert.equal(status.status, 'FAILED');
    assert.match(
      status.message,
      /^PersistIQ could not be reached: GET \/v1\/users\?page=1 ECONNREFUSED .* \(3 attempts\); check api\.base_url's host \(127\.0\.0\.1:9\) and the network between it and the connector$/,
    );
  });

  test('user_agent from the config is sent', async () => {
    await runConnector('check', { config: { ...configFor(mock), user_agent: 'acme-sync/2.0 (data@acme.test)' } });
    assert.equal(mock.requests.at(-1)!.headers['user-agent'], 'acme-sync/2.0 (data@acme.test)');
  });

  test('discover lists all 8 streams with schemas, keys, cursors and sync modes', async () => {
    const result = await runConnector('discover', { config: configFor(mock) });
    assert.equal(result.code, 0);
    const streams = result.messages.find((m) => m.type === 'CATALOG')!.catalog.streams as Message[];
    assert.deepEqual(
      streams.map((s) => s.name),
      [...STREAMS],
    );
    for (const stream of streams) {
      assert.deepEqual(stream.source_defined_primary_key, [['id']], stream.name);
      assert.equal(stream.json_schema.type, 'object');
      assert.equal(stream.json_schema.additionalProperties, true);
      assert.ok(stream.json_schema.properties.id, `${stream.name} declares id`);
    }
    const incremental = streams.filter((s) => s.supported_sync_modes.includes('incremental'));
    assert.deepEqual(
      incremental.map((s) => [s.name, s.default_cursor_field, s.source_defined_cursor, s.is_resumable]),
      [
        ['leads', ['updated_at'], true, true],
        ['events', ['event_at'], true, true],
      ],
    );
    for (const stream of incremental) assert.ok(stream.json_schema.properties[stream.default_cursor_field[0]]);
    const campaignStats = streams.find((s) => s.name === 'campaigns')!.json_schema.properties.stats.properties;
    assert.ok(campaignStats.total_prospects);
    assert.equal(campaignStats.total_contacted, undefined);
  });

  test('full refresh of every stream yields exactly the mock records, with statuses and states', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: configFor(mock), catalog: fullRefreshAll });
    assert.equal(result.code, 0, result.stdout.slice(-2000));
    for (const stream of STREAMS) {
      assert.deepEqual(byId(recordsOf(result.messages, stream)), byId(stream === 'events' ? eventsAsRead(mock) : mock.data[stream]), stream);
      assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'RUNNING', 'COMPLETE'], stream);
      const states = statesOf(result.messages, stream);
      assert.deepEqual(
        states.map((s) => [s.stream.stream_state, s.sourceStats.recordCount]),
        expectedStates(mock, stream),
        stream,
      );
    }
    assert.equal(recordsOf(result.messages, 'leads').length, 250);
    const leadPages = mock.requests
      .slice(start)
      .filter((r) => r.path === '/v1/leads')
      .map((r) => r.query.get('page'));
    assert.deepEqual(leadPages, [null, '2', '3']);
    // A STATE comes after the records it counts, and COMPLETE after the stream's last STATE.
    const leadsMessages = result.messages.filter((m) => m.record?.stream === 'leads' || m.state?.stream?.stream_descriptor.name === 'leads');
    assert.equal(leadsMessages.at(-1)!.type, 'STATE');
  });

  test('incremental: state, then a second run yields only leads updated since', async () => {
    const catalog = catalogFor({ leads: 'incremental' });
    const first = await runConnector('read', { config: configFor(mock), catalog });
    assert.equal(first.code, 0);
    assert.equal(recordsOf(first.messages, 'leads').length, 250);
    const state = lastStates(first.messages);
    assert.deepEqual(state[0].stream.stream_state, { updated_at: mock.data.leads[249].updated_at });

    mock.touchLeads([3, 77, 140]);
    const second = await runConnector('read', { config: configFor(mock), catalog, state });
    assert.equal(second.code, 0);
    // The lead at the state's very instant comes again (the bound is inclusive), then the touched ones.
    assert.deepEqual(
      recordsOf(second.messages, 'leads').map((r) => r.id),
      ['l_0003', 'l_0077', 'l_0140', 'l_0249'],
    );
    assert.equal(mock.requests.at(-1)!.query.get('updated_after'), msEarlier(state[0].stream.stream_state.updated_at));
    const secondState = statesOf(second.messages, 'leads').at(-1)!;
    assert.deepEqual(secondState.stream.stream_state, { updated_at: mock.data.leads[140].updated_at });
    assert.equal(secondState.sourceStats.recordCount, 4);
  });

  test('a state dated in the future yields 0 records and a STATE', async () => {
    const state = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'leads' }, stream_state: { updated_at: '2999-01-01T00:00:00Z' } } }];
    const result = await runConnector('read', { config: configFor(mock), catalog: catalogFor({ leads: 'incremental', events: 'incremental' }), state });
    assert.equal(result.code, 0);
    assert.equal(recordsOf(result.messages, 'leads').length, 0);
    assert.deepEqual(
      statesOf(result.messages, 'leads').map((s) => s.stream.stream_state),
      [{ updated_at: '2999-01-01T00:00:00Z' }],
    );
    assert.deepEqual(statusesOf(result.messages, 'leads'), ['STARTED', 'RUNNING', 'COMPLETE']);
  });

  test('legacy {stream: state} input is accepted', async () => {
    const latest = mock.data.leads
      .map((l) => String(l.updated_at))
      .sort()
      .at(-1)!;
    const result = await runConnector('read', { config: configFor(mock), catalog: catalogFor({ leads: 'incremental' }), state: { leads: { updated_at: latest } } });
    assert.equal(result.code, 0);
    const atLatest = mock.data.leads.filter((l) => l.updated_at === latest).length;
    assert.deepEqual(
      recordsOf(result.messages, 'leads').map((r) => r.updated_at),
      Array(atLatest).fill(latest),
      "only the leads at the state's instant",
    );
  });
});

describe('PersistIQ events (the published reference shape, and the OpenAPI one)', () => {
  test('every group is read, then the list without group (here only campaign events again: copies), event_at is the cursor, a 0.1.0 state is read', async () => {
    const mock = await new PersistIqMock({ rateLimit: false, counts: { events: 1200 } }).start();
    try {
      const catalog = catalogFor({ events: 'incremental' });
      const first = await runConnector('read', { config: configFor(mock), catalog });
      assert.equal(first.code, 0);
      assert.deepEqual(byId(recordsOf(first.messages, 'events')), byId(eventsAsRead(mock)));
      assert.deepEqual(
        mock.requests.filter((r) => r.path === '/v1/events').map((r) => `${r.query.get('group')} ${r.query.get('page') ?? 1}`),
        ['campaign 1', 'campaign 2', 'settings 1', 'lead_detail 1', 'null 1', 'null 2'],
      );
      assert.ok(
        logsOf(first.messages, 'INFO').includes(
          'Stream "events": 720 record(s) came in more than one part; each was written once, in the first part it came in (records written per part: group=campaign: 720, group=settings: 120, group=lead_detail: 360, no filter: 0)',
        ),
      );
      const last = String(mock.data.events.at(-1)!.event_at);
      assert.deepEqual(lastStates(first.messages)[0].stream.stream_state, { event_at: last });

      const legacy = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: { created_at: String(mock.data.events[1189].event_at) } } }];
      const resumed = await runConnector('read', { config: configFor(mock), catalog, state: legacy });
      assert.deepEqual(byId(recordsOf(resumed.messages, 'events')), byId(eventsAsRead(mock).slice(1189)), "from the event at the state's instant on");
      assert.equal(mock.requests.at(-1)!.query.get('start_at'), msEarlier(String(mock.data.events[1189].event_at)));
      assert.deepEqual(statesOf(resumed.messages, 'events').at(-1)!.stream.stream_state, { event_at: last });
    } finally {
      await mock.close();
    }
  });

  test('events in a group no document names, returned only without group, are read once with group null; the others stay in their group', async () => {
    const mock = await new PersistIqMock({ rateLimit: false, withoutGroup: 'every', undocumentedGroupEvents: 30, counts: { events: 800 } }).start();
    try {
      for (const mode of ['incremental', 'full_refresh'] as const) {
        const result = await runConnector('read', { config: configFor(mock), catalog: catalogFor({ events: mode }) });
        assert.equal(result.code, 0);
        const records = recordsOf(result.messages, 'events');
        assert.equal(records.length, 800, mode);
        assert.deepEqual(byId(records), byId(eventsAsRead(mock)), mode);
        assert.deepEqual(
          records.filter((r) => r.group === null).map((r) => r.kind),
          Array.from({ length: 30 }, () => 'sequence_paused'),
        );
        assert.ok(
          logsOf(result.messages, 'INFO').some((line) => line.endsWith('group=campaign: 462, group=settings: 77, group=lead_detail: 231, no filter: 30)')),
          mode,
        );
      }
    } finally {
      await mock.close();
    }
  });

  test('events in the OpenAPI shape keep their fields, and created_at serves as the cursor', async () => {
    const mock = await new PersistIqMock({ rateLimit: false, eventShape: 'openapi', counts: { events: 40 } }).start();
    try {
      const result = await runConnector('read', { config: configFor(mock), catalog: catalogFor({ events: 'incremental' }) });
      assert.deepEqual(byId(recordsOf(result.messages, 'events')), byId(eventsAsRead(mock)));
      assert.deepEqual(lastStates(result.messages)[0].stream.stream_state, { event_at: mock.data.events[39].created_at });
      assert.equal(result.messages.filter((m) => m.type === 'LOG' && /schema does not describe/.test(m.log.message)).length, 0, 'every field declared');
    } finally {
      await mock.close();
    }
  });
});

describe('PersistIQ leads without updated_at (as the OpenAPI shows them)', () => {
  test('state advances to the sync start; the next sync asks for later changes only', async () => {
    const mock = await new PersistIqMock({ leadsHaveUpdatedAt: false, rateLimit: false, counts: { leads: 120 } }).start();
    try {
      const catalog = catalogFor({ leads: 'incremental' });
      const before = Date.now();
      const first = await runConnector('read', { config: configFor(mock), catalog });
      assert.equal(recordsOf(first.messages, 'leads').length, 120);
      const state = lastStates(first.messages);
      const cursor = Date.parse(state[0].stream.stream_state.updated_at);
      assert.ok(cursor >= before - 1000 && cursor <= Date.now(), `state ${state[0].stream.stream_state.updated_at} is the sync start`);

      mock.touchLeads([5, 6], cursor + 1000);
      mock.addLead({ id: 'l_new1', status: 'new', data: { email: 'new@example.org' } }, cursor + 2000);
      const second = await runConnector('read', { config: configFor(mock), catalog, state });
      assert.deepEqual(
        recordsOf(second.messages, 'leads').map((r) => r.id),
        ['l_0005', 'l_0006', 'l_new1'],
      );
      assert.equal(mock.requests.at(-1)!.query.get('updated_after'), msEarlier(state[0].stream.stream_state.updated_at));
    } finally {
      await mock.close();
    }
  });
});
