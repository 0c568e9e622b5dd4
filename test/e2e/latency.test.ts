// At real latencies (100-300 ms an answer) the connector keeps as many requests in flight as its pace
// needs: streams that share an API are read at the same time, offset pages are read ahead, and a
// fan-out stream (Fullstory sessions, one request per user) starts on the first page of its parents.
// Each stream's own messages stay in order, its STATE after its records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogFor, recordsOf, runConnector, streamOf, type Message } from '../helpers/connector';
import { expectUsersAndSessions } from '../helpers/fullstory';
import { FullstoryMock } from '../mocks/fullstory';
import { MINDSTAMP_STREAMS, MindstampMock } from '../mocks/mindstamp';
import type { MockRequest } from '../mocks/server';

const LATENCY_MS = 100;

/** The most requests that were in flight at once: each from its arrival to its answer, LATENCY_MS later. */
const mostInFlight = (requests: MockRequest[]): number => Math.max(...requests.map(({ at }) => requests.filter((other) => other.at >= at && other.at < at + LATENCY_MS).length));

/**
 * Each stream's messages: its records and STATEs, each STATE counting the records since the one
 * before (pages read ahead or in flight change nothing there), the last STATE after the last record,
 * then COMPLETE.
 */
function assertEachStreamInOrder(messages: Message[], streams: string[]): void {
  for (const stream of streams) {
    const own = messages.filter((m) => streamOf(m) === stream);
    const kinds = own.map((m) => (m.type === 'TRACE' ? m.trace.stream_status.status : m.type));
    assert.deepEqual([...kinds.slice(0, 2), ...kinds.slice(-2)], ['STARTED', 'RUNNING', 'STATE', 'COMPLETE'], stream);
    let since = 0;
    for (const message of own.slice(2, -1)) {
      assert.ok(message.type === 'RECORD' || message.type === 'STATE', `${stream}: ${message.type} between RUNNING and COMPLETE`);
      if (message.type === 'RECORD') since++;
      else {
        assert.equal(message.state.sourceStats.recordCount, since, `${stream}: a STATE counts the records since the one before`);
        since = 0;
      }
    }
  }
}

test(`at ${LATENCY_MS} ms an answer, Mindstamp's streams are read at the same time and its paged lists several pages at once; every record once, in order`, async () => {
  const mock = await new MindstampMock({ counts: { views: 1500, interactions: 2500 } }).start();
  mock.latencyMs = LATENCY_MS;
  try {
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor(Object.fromEntries(MINDSTAMP_STREAMS.map((s) => [s, 'full_refresh']))) });
    assert.equal(result.code, 0);
    for (const stream of MINDSTAMP_STREAMS) assert.deepEqual(recordsOf(result.messages, stream), mock.records(stream), stream);
    assertEachStreamInOrder(result.messages, [...MINDSTAMP_STREAMS]);
    assert.ok(mostInFlight(mock.requests) >= 4, `at most ${mostInFlight(mock.requests)} requests in flight`);
    const views = mock.requests.filter((r) => r.path.endsWith('/views'));
    const interactions = mock.requests.filter((r) => r.path.endsWith('/interactions'));
    assert.ok(interactions[0].at < views.at(-1)!.at, 'interactions were read while views were');
  } finally {
    await mock.close();
  }
});

test(`at ${LATENCY_MS} ms an answer, Fullstory sessions start on the first page of users, many in flight; users and sessions read at the same time`, async () => {
  const mock = await new FullstoryMock({ users: 150, bundles: 0, segmentEvents: 0, individuals: 0 }).start();
  mock.latencyMs = LATENCY_MS;
  try {
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ users: 'full_refresh', sessions: 'full_refresh' }) });
    assert.equal(result.code, 0);
    expectUsersAndSessions(result.messages, mock);
    assertEachStreamInOrder(result.messages, ['users', 'sessions']);
    const identifiedPages = mock.requests.filter((r) => r.path === '/v2/users' && r.query.get('is_identified') === 'true');
    const sessions = mock.requests.filter((r) => r.path === '/sessions/v2');
    assert.ok(identifiedPages.length > 1);
    assert.ok(sessions[0].at < identifiedPages.at(-1)!.at, 'the first sessions were asked for before the last page of users');
    assert.ok(mostInFlight(sessions) >= 4, `at most ${mostInFlight(sessions)} sessions requests in flight`);
    const allUsersPages = mock.requests.filter((r) => r.path === '/v2/users' && r.query.get('is_identified') === null);
    assert.ok(sessions[0].at < allUsersPages.at(-1)!.at, 'sessions did not wait for the users stream');
  } finally {
    await mock.close();
  }
});
