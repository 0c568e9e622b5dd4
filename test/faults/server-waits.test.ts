// How long the connector waits when a server says so, and only then: X-RateLimit-Reset is a wait
// when the limit is spent (a 429, or Remaining 0), read as epoch seconds, epoch milliseconds or
// seconds; and `check` answers within seconds whatever Retry-After asks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { catalogFor, recordsOf, runConnector, type Message } from '../helpers/connector';
import { MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';
import { FAULT_TUNING } from './targets';

/** The stream statuses a run printed (one stream in the catalog). */
const streamStatuses = (messages: Message[]) => messages.filter((m) => m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS').map((m) => m.trace.stream_status);
const statusAndReasons = (status: { status: string; reasons?: { type: string }[] }) => [status.status, status.reasons?.map((reason) => reason.type)];
/** A stream that waited once on the rate limit, and nothing else. */
const ONE_WAIT = [
  ['STARTED', undefined],
  ['RUNNING', undefined],
  ['RUNNING', ['RATE_LIMITED']],
  ['RUNNING', undefined],
  ['COMPLETE', undefined],
];

describe('server-requested waits', () => {
  let mock: PersistIqMock;
  before(async () => {
    mock = await new PersistIqMock({ rateLimit: false }).start();
  });
  after(() => mock.close());
  const config = () => mock.connectorConfig({ max_wait_seconds: 10, retry_initial_delay_seconds: 0.05 });

  test("a 503 that carries the window's X-RateLimit-Reset (PersistIQ sends it on every answer) is backed off, not waited out", async () => {
    const reset = String(Math.ceil(Date.now() / 1000) + 60);
    mock.inject({
      path: '/v1/tags',
      kind: 'status',
      status: 503,
      times: 2,
      body: { status: 'error', error: { reason: 'unavailable', message: 'try again' } },
      headers: { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '57', 'X-RateLimit-Reset': reset },
    });
    const started = Date.now();
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(recordsOf(result.messages, 'tags'), mock.data.tags);
    assert.ok(Date.now() - started < 8_000, `took ${Date.now() - started} ms`);
  });

  test('a 429 whose X-RateLimit-Reset is in epoch milliseconds is waited out for that long', async () => {
    const resetAt = Date.now() + 1500;
    mock.inject({
      path: '/v1/tags',
      kind: 'status',
      status: 429,
      body: { status: 'error', error: { reason: 'too_many_requests', message: 'slow down' } },
      headers: { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(resetAt) },
    });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(recordsOf(result.messages, 'tags'), mock.data.tags);
    const retried = mock.requests.filter((r) => r.path === '/v1/tags').at(-1)!;
    assert.ok(retried.at >= resetAt - 50, 'the retry came after the reset');
  });

  test('check answers within seconds when the server asks to wait 20 s: FAILED, saying so', async () => {
    mock.inject({
      path: '/v1/users',
      kind: 'status',
      status: 429,
      times: 3,
      headers: { 'Retry-After': '20' },
      body: { status: 'error', error: { reason: 'too_many_requests', message: 'slow down' } },
    });
    const started = Date.now();
    const result = await runConnector('check', { config: mock.connectorConfig({ max_wait_seconds: 600 }) });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    const status = result.messages.find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus;
    assert.equal(status.status, 'FAILED');
    assert.match(status.message, /asked to wait 20 s after HTTP 429/);
  });

  test('while it waits on the rate limit, the stream is RUNNING with reason RATE_LIMITED and its quota_reset, then RUNNING again', async () => {
    mock.inject({
      path: '/v1/tags',
      kind: 'status',
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { status: 'error', error: { reason: 'too_many_requests', message: 'slow down' } },
    });
    const before = Date.now();
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 0);
    const statuses = streamStatuses(result.messages);
    assert.deepEqual(statuses.map(statusAndReasons), ONE_WAIT);
    const quotaReset = statuses[2].reasons[0].rate_limited.quota_reset;
    assert.ok(quotaReset >= before + 1000 && quotaReset <= Date.now(), `quota_reset ${quotaReset}`);
    assert.deepEqual(recordsOf(result.messages, 'tags'), mock.data.tags);
  });

  test("a page read ahead that is refused (429) and then dropped at the list's end leaves no RATE_LIMITED open: RUNNING follows it before COMPLETE", async () => {
    // 100 views in pages of 100: offset 100 (empty) ends the list slowly while offset 200, read ahead,
    // is refused; the dropped page's retry never comes.
    const mindstamp = await new MindstampMock({ counts: { views: 100 } }).start();
    try {
      mindstamp.inject(
        {
          path: '/api/v1/views',
          query: { offset: '100' },
          kind: 'handle',
          handle: (res) =>
            setTimeout(() => {
              res.writeHead(200, { 'Content-Type': 'application/json' });
              res.end('[]');
            }, 300),
        },
        { path: '/api/v1/views', query: { offset: '200' }, kind: 'status', status: 429, body: { error: 'Too many requests' }, headers: { 'Retry-After': '2' } },
      );
      const result = await runConnector('read', { config: mindstamp.connectorConfig(FAULT_TUNING), catalog: catalogFor({ views: 'full_refresh' }) });
      assert.equal(result.code, 0);
      assert.ok(
        mindstamp.requests.some((request) => request.query.get('offset') === '200'),
        'the page at offset 200 was read ahead',
      );
      assert.deepEqual(streamStatuses(result.messages).map(statusAndReasons), ONE_WAIT);
      // The first page's records: the page at offset 100 answers empty (the fault), which ends the list.
      const firstPage = mindstamp.data.views.slice(0, 100).filter((item) => item !== null);
      assert.deepEqual(
        recordsOf(result.messages, 'views').map((record) => record.id),
        firstPage.map((record) => record.id),
      );
    } finally {
      await mindstamp.close();
    }
  });
});
