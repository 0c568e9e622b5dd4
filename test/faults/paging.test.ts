// Servers that ignore a paging parameter: a token chain of empty pages that always names a new token,
// and a list that answers its first page whatever token it is sent. Both must end in a clear error,
// quickly, with no record written twice.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { catalogFor, errorsOf, recordsOf, runConnector, statusesOf, type Message } from '../helpers/connector';
import { FullstoryMock } from '../mocks/fullstory';

describe('paging parameters ignored', () => {
  let mock: FullstoryMock;
  before(async () => {
    mock = await new FullstoryMock().start();
  });
  after(() => mock.close());
  let counter = 0;
  // Tokens the mock could have issued (it answers 400 to others): new ones, each pointing nowhere new.
  const newToken = () => Buffer.from(String(++counter)).toString('base64url');

  test('empty pages with ever new tokens: system_error after five, not thousands of requests', async () => {
    mock.inject({ path: '/segments/v1', kind: 'rewrite', times: 1000, rewrite: () => ({ segments: [], nextPaginationToken: newToken() }) });
    const before = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ segments: 'full_refresh' }) });
    mock.faults.length = 0;
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e: Message) => e.failure_type),
      ['system_error'],
    );
    assert.match(errorsOf(result.messages)[0].message, /5 empty pages in a row still pointed to more/);
    assert.equal(mock.requests.length - before, 5);
  });

  test('the first page again whatever the token: system_error before any record is written twice', async () => {
    const firstPage = mock.segments.slice(0, 100);
    mock.inject({ path: '/segments/v1', kind: 'rewrite', times: 1000, rewrite: () => ({ segments: firstPage, nextPaginationToken: newToken() }) });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ segments: 'full_refresh' }) });
    mock.faults.length = 0;
    assert.equal(result.code, 1);
    assert.match(errorsOf(result.messages)[0].message, /answered the same items as the page before it/);
    assert.deepEqual(recordsOf(result.messages, 'segments'), firstPage);
  });
});

describe('a child endpoint that answers 404 for every parent', () => {
  test('sessions: 404 for every identified user is a system_error, not a COMPLETE stream of 0 records', async () => {
    const mock = await new FullstoryMock().start();
    try {
      mock.inject({ path: '/sessions/v2', kind: 'status', status: 404, times: 1000, body: { message: 'Not Found', code: 'not_found' } });
      const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ sessions: 'full_refresh' }) });
      assert.equal(result.code, 1);
      const identified = mock.users.filter((u) => u.uid).length;
      assert.deepEqual(
        errorsOf(result.messages).map((e: Message) => [e.failure_type, e.message]),
        [
          [
            'system_error',
            `Stream "sessions": Fullstory answered 404 for the sessions of every one of the ${identified} identified user(s) (GET /sessions/v2): the endpoint, not the users, is missing; check base_url`,
          ],
        ],
      );
    } finally {
      await mock.close();
    }
  });
});

describe('a failure every stream would meet', () => {
  test('a rejected key (401) ends the sync after the first stream: one ERROR trace, one request, the others INCOMPLETE', async () => {
    const mock = await new FullstoryMock().start();
    try {
      const streams = ['segments', 'operations', 'webhook_endpoints', 'users', 'settings_blocking'];
      const result = await runConnector('read', {
        config: mock.connectorConfig({ api_key: 'wrong-key-for-this-org' }),
        catalog: catalogFor(Object.fromEntries(streams.map((s) => [s, 'full_refresh']))),
      });
      assert.equal(result.code, 1);
      assert.deepEqual(
        errorsOf(result.messages).map((e: Message) => [e.failure_type, e.stream_descriptor?.name]),
        [['config_error', 'segments']],
      );
      assert.equal(mock.requests.length, 1);
      for (const stream of streams.slice(1)) assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'INCOMPLETE'], stream);
    } finally {
      await mock.close();
    }
  });
});
