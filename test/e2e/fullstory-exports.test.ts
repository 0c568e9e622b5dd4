import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { catalogFor, errorsOf, lastStates, runConnector, statesOf, statusesOf, type Message } from '../helpers/connector';
import { expectedEvent, legacyEvents, losslessMessages, recordsIn } from '../helpers/fullstory';
import { FullstoryMock } from '../mocks/fullstory';

describe('Fullstory legacy Data Export', () => {
  let mock: FullstoryMock;
  before(async () => {
    mock = await new FullstoryMock().start();
  });
  beforeEach(() => {
    mock.faults.length = 0;
  });
  after(() => mock.close());
  const config = () => mock.connectorConfig({ start_date: undefined });

  test('export_bundles: 20 per list call, oldest first, Ids digit for digit, state = last Stop', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ export_bundles: 'incremental' }) });
    assert.equal(result.code, 0);
    const messages = losslessMessages(result.stdout);
    assert.deepEqual(
      recordsIn(messages, 'export_bundles'),
      mock.bundles.map((b) => ({ Id: b.Id, Start: b.Start, Stop: b.Stop })),
    );
    assert.ok(result.stdout.includes(`{"Id":${mock.bundles[0].Id},"Start":`), 'Id is a JSON integer with every digit');
    const lists = mock.requests.slice(start).map((r) => `${r.path}?${r.query}`);
    assert.deepEqual(lists, ['/api/v1/export/list?start=0', `/api/v1/export/list?start=${mock.bundles[19].Stop}`]);
    assert.deepEqual(
      statesOf(result.messages, 'export_bundles').map((s) => s.stream.stream_state),
      [{ Stop: mock.bundles[19].Stop }, { Stop: mock.bundles[24].Stop }],
    );

    const again = await runConnector('read', { config: config(), catalog: catalogFor({ export_bundles: 'incremental' }), state: lastStates(result.messages) });
    assert.deepEqual(recordsIn(losslessMessages(again.stdout), 'export_bundles'), []);
    assert.deepEqual(
      statesOf(again.messages, 'export_bundles').map((s) => s.stream.stream_state),
      [{ Stop: mock.bundles[24].Stop }],
    );
  });

  test('events: every event of every bundle (the 144 sample ones among them), custom keys moved, 64-bit ids exact', async () => {
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ events: 'incremental' }) });
    assert.equal(result.code, 0, result.stdout.slice(-1000));
    const records = recordsIn(losslessMessages(result.stdout), 'events');
    assert.deepEqual(records, legacyEvents(mock));
    assert.equal(records.filter((r) => r.EventType === 'uservar' || r.PageLatLong !== undefined).length >= 144, true);
    // 2^53 + 1 as a JSON number: JSON.parse would have printed ...992.
    assert.ok(result.stdout.includes('"IndvId":9007199254740993,'));
    assert.ok(
      records.some((r) => (r.custom_vars as Record<string, unknown> | undefined)?.['evt_order.total_real'] !== undefined),
      'sample custom vars kept',
    );
    // One STATE per bundle, under the declared cursor: the Stop of the last bundle fully written.
    assert.deepEqual(
      statesOf(result.messages, 'events').map((s) => s.stream.stream_state),
      mock.bundles.map((b) => ({ ExportBundleStop: b.Stop })),
    );
    assert.deepEqual(
      statesOf(result.messages, 'events').map((s) => s.sourceStats.recordCount),
      mock.bundles.map((b) => b.events.length),
    );
  });

  test('resuming from each bundle STATE: every event once, no duplicates', async () => {
    const full = await runConnector('read', { config: config(), catalog: catalogFor({ events: 'incremental' }) });
    const messages = losslessMessages(full.stdout);
    for (const cut of [3, 19, 20, 24]) {
      const index = messages.findIndex((m) => m.type === 'STATE' && m.state.stream.stream_state.ExportBundleStop === mock.bundles[cut].Stop);
      const printed = messages.slice(0, index + 1);
      const resumed = await runConnector('read', { config: config(), catalog: catalogFor({ events: 'incremental' }), state: lastStates(printed) });
      assert.deepEqual([...recordsIn(printed, 'events'), ...recordsIn(losslessMessages(resumed.stdout), 'events')], legacyEvents(mock), `cut after bundle ${cut}`);
    }
  });

  test('a state written by 0.1.0 ({Stop}) resumes after the same bundle', async () => {
    const legacy = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: { Stop: mock.bundles[20].Stop } } }];
    const resumed = await runConnector('read', { config: config(), catalog: catalogFor({ events: 'incremental' }), state: legacy });
    assert.equal(resumed.code, 0);
    assert.deepEqual(
      recordsIn(losslessMessages(resumed.stdout), 'events'),
      legacyEvents(mock).filter((e) => (e.ExportBundleStop as number) > mock.bundles[20].Stop),
    );
    assert.deepEqual(statesOf(resumed.messages, 'events').at(-1)!.stream.stream_state, { ExportBundleStop: mock.bundles[24].Stop });
  });

  test('a bundle download reset before headers or mid-body, truncated, stalled, or answered 429 with Retry-After: no event lost or repeated', async () => {
    mock.inject(
      { path: '/api/v1/export/get', query: { id: mock.bundles[2].Id }, kind: 'reset_mid_body', fraction: 0.6 },
      { path: '/api/v1/export/get', query: { id: mock.bundles[3].Id }, kind: 'truncate', fraction: 0.5 },
      {
        path: '/api/v1/export/get',
        query: { id: mock.bundles[5].Id },
        kind: 'status',
        status: 429,
        headers: { 'Retry-After': '1' },
        body: { message: 'Too many export downloads', code: 'too_many_requests' },
      },
      { path: '/api/v1/export/get', query: { id: mock.bundles[6].Id }, kind: 'reset' },
      { path: '/api/v1/export/get', query: { id: mock.bundles[7].Id }, kind: 'hang_mid_body', fraction: 0.3 },
    );
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ events: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(recordsIn(losslessMessages(result.stdout), 'events'), legacyEvents(mock));
    const warnings = result.messages.filter((m) => m.type === 'LOG' && m.log.level === 'WARN').map((m) => m.log.message);
    assert.equal(warnings.filter((w) => /^Fullstory: the download of export bundle \d+ broke off after \d+ items/.test(w)).length, 3);
  });
});

describe('Fullstory segment export', () => {
  let mock: FullstoryMock;
  before(async () => {
    mock = await new FullstoryMock().start();
  });
  beforeEach(() => {
    mock.failExports = false;
  });
  after(() => mock.close());

  test('segment_events with the defaults: windows up to now minus 24 h, so late events are in (none lost); the file is fetched without the key', async () => {
    const config = mock.connectorConfig({ segment_export_settle_minutes: undefined });
    const result = await runConnector('read', { config, catalog: catalogFor({ segment_events: 'incremental' }) });
    assert.equal(result.code, 0, result.stdout.slice(-1000));
    const states = statesOf(result.messages, 'segment_events').map((s) => s.stream.stream_state.EventStart as string);
    const from = Date.parse(String(config.api.start_date));
    const until = Date.parse(states.at(-1)!);
    assert.ok(Math.abs(until - (Date.now() - 86_400_000)) < 30_000, `reads up to now - 24 h, got ${states.at(-1)}`);
    // One STATE once the first exports are requested (their operation ids), then one per window of 24 h.
    assert.equal(states.length, 1 + Math.ceil((until - from) / 86_400_000), 'windows of 24 h from start_date');
    assert.equal(states[0], new Date(from).toISOString());
    const covered = mock.segmentEvents.filter((e) => e.at >= from && e.at < until);
    // Every event the state covers, the late ones (available 5 and 20 hours after they happened) included.
    assert.ok(covered.some((e) => e.availableAt - e.at >= 20 * 3_600_000));
    assert.deepEqual(
      recordsIn(losslessMessages(result.stdout), 'segment_events'),
      covered.map((e) => expectedEvent(e.text, 'segment_events')),
    );
    assert.ok(mock.storage.requests.length >= 3 && mock.storage.requests.every((r) => r.headers.authorization === undefined));
    assert.ok(
      result.messages.some((m) => m.type === 'LOG' && /^Fullstory export of events of segment "everyone" from .+: operation op-\d+ PENDING, 30% done$/.test(m.log.message)),
    );
    const discovered = (await runConnector('discover', { config })).messages[0].catalog.streams as Message[];
    assert.deepEqual(discovered.find((d) => d.name === 'segment_events')!.source_defined_primary_key, [['UserId'], ['SessionId'], ['PageId'], ['EventStart'], ['EventType']]);

    // A settle delay of 60 min with an overlap of 48 h: each sync exports the last two days again, so
    // an event that was not available yet when its window was first exported comes in the next sync.
    const quick = mock.connectorConfig({ segment_export_settle_minutes: 60, segment_export_overlap_hours: 48 });
    const first = await runConnector('read', { config: quick, catalog: catalogFor({ segment_events: 'incremental' }), state: lastStates(result.messages) });
    const firstEnd = Date.parse(statesOf(first.messages, 'segment_events').at(-1)!.stream.stream_state.EventStart);
    const pending = mock.segmentEvents.filter((e) => e.at < firstEnd && e.at >= firstEnd - 20 * 3_600_000 && e.availableAt > Date.now());
    assert.ok(pending.length > 0, 'some events were not available yet');
    for (const event of pending) event.availableAt = Date.now();
    const exportsBefore = mock.exportRequests.length;
    const second = await runConnector('read', { config: quick, catalog: catalogFor({ segment_events: 'incremental' }), state: lastStates(first.messages) });
    const texts = recordsIn(losslessMessages(second.stdout), 'segment_events').map((r) => JSON.stringify(r));
    for (const event of pending) assert.ok(texts.includes(JSON.stringify(expectedEvent(event.text, 'segment_events'))), 'a late event comes with the overlap');
    assert.equal(
      (mock.exportRequests[exportsBefore].timeRange as Record<string, string>).start,
      new Date(firstEnd - 2 * 86_400_000).toISOString(),
      'from the state less the overlap',
    );
    // Windows inside the overlap end before the saved state, which never moves backwards.
    const secondStates = statesOf(second.messages, 'segment_events').map((m) => Date.parse(m.stream.stream_state.EventStart));
    assert.ok(secondStates.length > 0 && secondStates.every((at) => at >= firstEnd), JSON.stringify(secondStates));
  });

  test('a segment export file reset mid-body and truncated: downloaded again, every row once', async () => {
    mock.storage.inject({ path: /^\/exports\//, kind: 'reset_mid_body', fraction: 0.5 }, { path: /^\/exports\//, kind: 'truncate', fraction: 0.8 });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ segment_individuals: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(
      recordsIn(losslessMessages(result.stdout), 'segment_individuals'),
      mock.individuals.map((i) => expectedEvent(i, 'segment_individuals')),
    );
    const warnings = result.messages.filter((m) => m.type === 'LOG' && m.log.level === 'WARN').map((m) => m.log.message);
    assert.equal(warnings.length, 2);
    assert.ok(
      warnings.every((w) => /^Fullstory: the download of export exp-op-\d+ broke off after \d+ items/.test(w) && !w.includes('Signature')),
      warnings.join('\n'),
    );
  });

  test('a download repeated after its pre-signed link expired asks for a fresh link; a link the storage host keeps refusing is a transient error, not a key problem', async () => {
    const shortLived = await new FullstoryMock({ linkTtlSeconds: 2 }).start();
    try {
      // The first download stalls past request_timeout_seconds (2 s): by then its link has expired.
      shortLived.storage.inject({ path: /^\/exports\//, kind: 'hang_mid_body', fraction: 0.5 });
      const result = await runConnector('read', { config: shortLived.connectorConfig(), catalog: catalogFor({ segment_individuals: 'full_refresh' }) });
      assert.equal(result.code, 0, result.stdout.slice(-800));
      assert.deepEqual(
        recordsIn(losslessMessages(result.stdout), 'segment_individuals'),
        shortLived.individuals.map((i) => expectedEvent(i, 'segment_individuals')),
      );
      assert.equal(shortLived.requests.filter((r) => /\/results$/.test(r.path)).length, 2, 'a fresh link for the second attempt');
      assert.equal(shortLived.storage.requests.length, 2);

      shortLived.storage.inject({ path: /^\/exports\//, kind: 'status', status: 403, times: 20, body: '<Error><Code>AccessDenied</Code></Error>' });
      const refused = await runConnector('read', { config: shortLived.connectorConfig(), catalog: catalogFor({ segment_individuals: 'full_refresh' }) });
      assert.equal(refused.code, 1);
      const [error] = errorsOf(refused.messages);
      assert.equal(error.failure_type, 'transient_error');
      assert.match(
        error.message,
        /^Stream "segment_individuals": Fullstory: the storage host refused the link to export exp-op-\d+ \(HTTP 403\) \d+ times; 0 items were delivered$/,
      );
    } finally {
      await shortLived.close();
    }
  });

  test('segment_individuals: every individual, however long inactive (all data, start_date aside), IndvId digit for digit; incremental reads those active since', async () => {
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ segment_individuals: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(
      recordsIn(losslessMessages(result.stdout), 'segment_individuals'),
      mock.individuals.map((i) => expectedEvent(i, 'segment_individuals')),
    );
    assert.ok(
      mock.individualsActivity.some((i) => i.lastActive < Date.now() - 30 * 86_400_000),
      'some inactive for over 30 days',
    );
    assert.deepEqual(mock.exportRequests.at(-1)!.timeRange, { start: '', end: (mock.exportRequests.at(-1)!.timeRange as Record<string, string>).end });
    assert.ok(result.stdout.includes(`"IndvId":${45035996273704965n}`));

    const since = new Date(Date.now() - 3.5 * 86_400_000).toISOString();
    const state = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'segment_individuals' }, stream_state: { LastEventStart: since } } }];
    const incremental = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ segment_individuals: 'incremental' }), state });
    const active = mock.individualsActivity.filter((i) => i.lastActive >= Date.parse(since)).map((i) => expectedEvent(i.text, 'segment_individuals'));
    assert.equal(active.length, 4);
    assert.deepEqual(recordsIn(losslessMessages(incremental.stdout), 'segment_individuals'), active);
    const end = Date.parse(statesOf(incremental.messages, 'segment_individuals').at(-1)!.stream.stream_state.LastEventStart);
    assert.ok(Math.abs(end - Date.now()) < 30_000);
  });

  test('a segment other than everyone keeps its own time range: segmentTimeRange is sent only for everyone', async () => {
    const segmentId = String(mock.segments[3].id);
    const before = mock.exportRequests.length;
    const result = await runConnector('read', { config: mock.connectorConfig({ segment_id: segmentId }), catalog: catalogFor({ segment_individuals: 'full_refresh' }) });
    assert.equal(result.code, 0);
    const sent = mock.exportRequests.slice(before);
    assert.deepEqual(
      sent.map((body) => [body.segmentId, 'segmentTimeRange' in body]),
      [[segmentId, false]],
    );
  });

  test("a FAILED export operation: ERROR trace with Fullstory's errorDetails, exit 1", async () => {
    mock.failExports = true;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ segment_individuals: 'full_refresh', segments: 'full_refresh' }) });
    assert.equal(result.code, 1);
    const [error] = errorsOf(result.messages);
    assert.equal(error.failure_type, 'system_error');
    assert.match(
      error.message,
      /^Stream "segment_individuals": Fullstory could not export individuals of segment "everyone" up to \S+: operation op-\d+ FAILED: export exceeded the maximum size$/,
    );
    assert.deepEqual(statusesOf(result.messages, 'segments'), ['STARTED', 'RUNNING', 'COMPLETE']);
  });

  test('an operation that stays PENDING past operation_timeout_minutes: transient_error, never a silent wait', async () => {
    const slow = await new FullstoryMock({ pendingPolls: 1000 }).start();
    try {
      const result = await runConnector('read', {
        config: slow.connectorConfig({ operation_timeout_minutes: 0.005, operation_poll_seconds: 0.05 }),
        catalog: catalogFor({ segment_individuals: 'full_refresh' }),
      });
      assert.equal(result.code, 1);
      assert.match(
        errorsOf(result.messages)[0].message,
        /^Stream "segment_individuals": Fullstory's export of individuals .+ \(operation op-1\) was still PENDING after 0\.005 minutes \(operation_timeout_minutes\)$/,
      );
      assert.equal(errorsOf(result.messages)[0].failure_type, 'transient_error');
      assert.ok(result.messages.filter((m) => m.type === 'LOG' && / PENDING, \d+% done$/.test(m.log.message)).length >= 3);
    } finally {
      await slow.close();
    }
  });
});
