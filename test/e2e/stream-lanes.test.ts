// Streams that wait on different things are read at the same time: Fullstory's `events` waits about
// 30 s between legacy bundle downloads (2 a minute, scaled here to one per 0.5 s), `segment_events` on
// Fullstory preparing its exports, while `users` and `sessions`, on the v2 APIs' own pace, go on. Messages of different streams interleave (the protocol
// allows it); each stream's own messages keep their order, and each STATE follows its own records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogFor, recordsOf, runConnector, statusesOf, streamOf } from '../helpers/connector';
import { expectUsersAndSessions, legacyEvents, losslessMessages, recordsIn } from '../helpers/fullstory';
import { FullstoryMock } from '../mocks/fullstory';

const catalog = catalogFor({ events: 'incremental', users: 'full_refresh', sessions: 'full_refresh' });

test('users and sessions are read while events waits between bundle downloads; each stream complete, in order, its states after its records', async () => {
  const mock = await new FullstoryMock({ bundles: 4, eventsPerBundle: 5, users: 30, segmentEvents: 0, individuals: 0, downloadLimit: { limit: 1, windowMs: 500 } }).start();
  try {
    // 100 a minute: 600 ms apart against the mock's 1 per 500 ms, room for a busy machine's timers.
    const result = await runConnector('read', { config: mock.connectorConfig({ start_date: undefined, legacy_downloads_per_minute: 100 }), catalog });
    assert.equal(result.code, 0);
    const messages = losslessMessages(result.stdout);
    assert.deepEqual(recordsIn(messages, 'events'), legacyEvents(mock));
    expectUsersAndSessions(result.messages, mock);
    assert.equal(mock.rateLimited, 0);
    const order = messages.map(streamOf);
    const eventsDone = messages.findIndex((m) => streamOf(m) === 'events' && m.type === 'TRACE' && m.trace.stream_status.status === 'COMPLETE');
    assert.ok(order.indexOf('sessions') < eventsDone, 'sessions were read before events completed');
    assert.ok(order.indexOf('events') < order.indexOf('users'), 'events, first in the catalog, started first');
    for (const stream of ['events', 'users', 'sessions']) assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'RUNNING', 'COMPLETE']);
    // Each events STATE covers the bundles whose events precede it.
    let eventsSeen = 0;
    for (const m of messages) {
      if (streamOf(m) !== 'events') continue;
      if (m.type === 'RECORD') eventsSeen++;
      if (m.type === 'STATE' && m.state.stream.stream_state.ExportBundleStop !== undefined) {
        const covered = mock.bundles.filter((b) => b.Stop <= m.state.stream.stream_state.ExportBundleStop).reduce((sum, b) => sum + b.events.length, 0);
        assert.equal(eventsSeen, covered, 'a STATE of events covers exactly the events written before it');
      }
    }
  } finally {
    await mock.close();
  }
});

test('users are read while Fullstory prepares the segment exports', async () => {
  const mock = await new FullstoryMock({ prepareMs: 1500, bundles: 0, users: 30, individuals: 0 }).start();
  try {
    const result = await runConnector('read', {
      config: mock.connectorConfig({ segment_export_settle_minutes: undefined }),
      catalog: catalogFor({ segment_events: 'incremental', users: 'full_refresh' }),
    });
    assert.equal(result.code, 0);
    const order = losslessMessages(result.stdout)
      .filter((m) => m.type === 'RECORD')
      .map(streamOf);
    assert.equal(order.indexOf('users'), 0, 'the first record is a user: segment_events had none before its exports were ready');
    assert.deepEqual(
      recordsOf(result.messages, 'users').map((u) => u.id),
      mock.users.map((u) => u.id),
    );
    const ranges = mock.exportRequests.map((r) => r.timeRange as { start: string; end: string });
    const [from, until] = [Date.parse(ranges[0].start), Date.parse(ranges.at(-1)!.end)];
    assert.equal(recordsOf(result.messages, 'segment_events').length, mock.segmentEvents.filter((e) => e.at >= from && e.at < until).length);
  } finally {
    await mock.close();
  }
});

test('a bundle download refused (429) while sessions run: RATE_LIMITED is reported on events, not on the streams read beside it', async () => {
  const mock = await new FullstoryMock({ bundles: 3, eventsPerBundle: 5, users: 30, segmentEvents: 0, individuals: 0, downloadLimit: { limit: 1, windowMs: 1000 } }).start();
  try {
    // Twice the downloads the mock allows: the second of each pair is refused with Retry-After 1.
    const result = await runConnector('read', { config: mock.connectorConfig({ start_date: undefined, legacy_downloads_per_minute: 120, requests_per_minute: 600 }), catalog });
    assert.equal(result.code, 0);
    assert.ok(mock.rateLimited >= 1);
    const limited = result.messages.filter((m) => m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS' && m.trace.stream_status.reasons?.[0]?.type === 'RATE_LIMITED');
    assert.ok(limited.length >= 1);
    assert.deepEqual([...new Set(limited.map(streamOf))], ['events']);
    assert.deepEqual(recordsIn(losslessMessages(result.stdout), 'events'), legacyEvents(mock));
  } finally {
    await mock.close();
  }
});
