import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, beforeEach, describe, test } from 'node:test';
import { assertNoSecrets, catalogFor, errorsOf, MAIN, recordsOf, runConnector, statesOf, statusesOf, writeTemp } from '../helpers/connector';
import { PersistIqMock } from '../mocks/persistiq';
import { MockServer } from '../mocks/server';

describe('PersistIQ under faults', () => {
  let mock: PersistIqMock;
  const config = () => mock.connectorConfig({ max_retries: 3, max_wait_seconds: 5, request_timeout_seconds: 1 });
  const leadIds = () => mock.data.leads.map((l) => l.id);
  before(async () => {
    mock = await new PersistIqMock({ rateLimit: false }).start();
  });
  beforeEach(() => {
    mock.faults.length = 0;
  });
  after(() => mock.close());

  test('a 500/502/503 burst shorter than the retry budget: exact records', async () => {
    mock.inject(
      { path: '/v1/leads', query: { page: '2' }, kind: 'status', status: 500, times: 1 },
      { path: '/v1/leads', query: { page: '2' }, kind: 'status', status: 502 },
      { path: '/v1/leads', query: { page: '2' }, kind: 'status', status: 503 },
    );
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(
      recordsOf(result.messages, 'leads').map((r) => r.id),
      leadIds(),
    );
    assert.equal(result.messages.filter((m) => m.type === 'LOG' && /retry \d\/3/.test(m.log.message)).length, 3);
  });

  test('a 504 burst longer than the budget: stream INCOMPLETE with transient_error, others complete, exit 1', async () => {
    mock.inject({ path: '/v1/leads', query: { page: '2' }, kind: 'status', status: 504, times: 10 });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'full_refresh', tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.deepEqual(statusesOf(result.messages, 'leads'), ['STARTED', 'RUNNING', 'INCOMPLETE']);
    assert.deepEqual(statusesOf(result.messages, 'tags'), ['STARTED', 'RUNNING', 'COMPLETE']);
    assert.equal(recordsOf(result.messages, 'tags').length, mock.data.tags.length);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message, e.stream_descriptor]),
      [['transient_error', 'Stream "leads": PersistIQ failed 4 times on GET /v1/leads?page=2 (last: HTTP 504): {"error":"injected 504"}', { name: 'leads' }]],
    );
    // The page read before the failure is checkpointed: a retried attempt of this sync starts at page 2.
    assert.deepEqual(
      statesOf(result.messages, 'leads').map((s) => [s.stream.stream_state, s.sourceStats.recordCount]),
      [[{ page: 2 }, 100]],
    );
  });

  test('429 with Retry-After in seconds and as an HTTP-date, and with only X-RateLimit-Reset', async () => {
    const body = { status: 'error', error: { reason: 'too_many_requests', message: 'You performed more than 100 requests per minute.' } };
    mock.inject(
      { path: '/v1/leads', query: { page: '2' }, kind: 'status', status: 429, body, headers: { 'Retry-After': '1' } },
      { path: '/v1/leads', query: { page: '3' }, kind: 'status', status: 429, body, headers: { 'Retry-After': new Date(Date.now() + 1000).toUTCString() } },
      { path: '/v1/tags', kind: 'status', status: 429, body, headers: { 'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + 1) } },
    );
    const started = Date.now();
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'full_refresh', tags: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(
      recordsOf(result.messages, 'leads').map((r) => r.id),
      leadIds(),
    );
    assert.equal(recordsOf(result.messages, 'tags').length, mock.data.tags.length);
    assert.ok(Date.now() - started >= 1000, 'the Retry-After waits were honoured');
  });

  test('a Retry-After beyond max_wait_seconds fails at once with transient_error', async () => {
    mock.inject({ path: '/v1/tags', kind: 'status', status: 429, headers: { 'Retry-After': '3600' } });
    const before = mock.requests.length;
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.equal(mock.requests.length - before, 1);
    assert.match(
      errorsOf(result.messages)[0].message,
      /^Stream "tags": PersistIQ asked to wait 3600 s after HTTP 429 on GET \/v1\/tags, which with earlier retries exceeds the connector's wait limit of 5 s per request \(max_wait_seconds\)/,
    );
    assert.equal(errorsOf(result.messages)[0].failure_type, 'transient_error');
  });

  test('connection reset before headers and a response that never ends are retried', async () => {
    mock.inject(
      { path: '/v1/leads', query: { page: '1' }, kind: 'reset' },
      { path: '/v1/leads', query: { page: '3' }, kind: 'hang' },
      { path: '/v1/leads', query: { page: '2' }, kind: 'reset_mid_body' },
    );
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'full_refresh' }) });
    assert.equal(result.code, 0, result.stdout.slice(-1500));
    assert.deepEqual(
      recordsOf(result.messages, 'leads').map((r) => r.id),
      leadIds(),
    );
  });

  test('a malformed JSON page fails the stream with system_error naming the request', async () => {
    mock.inject({ path: '/v1/leads', query: { page: '2' }, kind: 'malformed' });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'full_refresh', tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.equal(recordsOf(result.messages, 'leads').length, 100, 'page 1 was delivered');
    const [error] = errorsOf(result.messages);
    assert.equal(error.failure_type, 'system_error');
    assert.match(error.message, /^Stream "leads": PersistIQ returned invalid JSON for GET \/v1\/leads\?page=2 \(HTTP 200\): /);
    assert.deepEqual(statusesOf(result.messages, 'tags'), ['STARTED', 'RUNNING', 'COMPLETE']);
  });

  test('a page that repeats the same next_page is a loop, reported clearly', async () => {
    mock.inject({ path: '/v1/leads', query: { page: '2' }, kind: 'rewrite', rewrite: (body) => ({ ...(body as object), next_page: `${mock.baseUrl}/leads?page=2` }) });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.equal(recordsOf(result.messages, 'leads').length, 200);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['system_error', 'Stream "leads": Pagination loop: the API pointed to GET /v1/leads?page=2 a second time; stopping instead of reading the same pages forever']],
    );
  });

  test('a next_page on another origin is not followed with the key; its page number is read from our origin', async () => {
    const foreign = await new MockServer(() => ({ status: 200, body: { leads: [] } })).start();
    try {
      mock.inject({ path: '/v1/leads', query: { page: '1' }, kind: 'rewrite', rewrite: (body) => ({ ...(body as object), next_page: `${foreign.url}/v1/leads?page=2` }) });
      const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'full_refresh' }) });
      assert.equal(result.code, 0);
      assert.deepEqual(
        recordsOf(result.messages, 'leads').map((r) => r.id),
        leadIds(),
      );
      assert.equal(foreign.requests.length, 0);
    } finally {
      await foreign.close();
    }
  });

  test('a list where records should be, or a missing envelope key: system_error naming stream and path', async () => {
    mock.inject(
      { path: '/v1/tags', kind: 'rewrite', rewrite: () => ({ status: 'success', tags: 'none' }) },
      { path: '/v1/users', kind: 'rewrite', rewrite: () => ({ status: 'success', users: ['u_1'] }) },
    );
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh', users: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [
        ['system_error', 'Stream "tags": PersistIQ returned an unexpected response to GET /v1/tags: expected a list of records at "tags", got string'],
        ['system_error', 'Stream "users": GET /v1/users returned a string where a record object was expected: "u_1"'],
      ],
    );
  });

  test('401 during read: config_error without retries', async () => {
    const before = mock.requests.length;
    const result = await runConnector('read', { config: { api: { ...config().api, api_key: 'revoked-key-777' } }, catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.equal(mock.requests.length - before, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['config_error', 'Stream "tags": PersistIQ rejected the API key (HTTP 401): Invalid API key. Check the x-api-key header. (invalid_request_error)']],
    );
  });
});

describe('SIGTERM (how the platform cancels a sync)', () => {
  test('flushes whole lines, prints no STATE past unwritten records, exits 143 promptly', async () => {
    const mock = await new PersistIqMock({ rateLimit: false }).start();
    try {
      // Page 3 of leads hangs, so the sync is mid-stream when the signal comes.
      mock.inject({ path: '/v1/leads', query: { page: '3' }, kind: 'hang' });
      const config = writeTemp('config.json', mock.connectorConfig({ request_timeout_seconds: 30 }));
      const catalog = writeTemp('catalog.json', catalogFor({ tags: 'full_refresh', leads: 'full_refresh' }));
      const child = spawn(process.execPath, [MAIN, 'read', '--config', config, '--catalog', catalog]);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      while (!mock.requests.some((r) => r.query.get('page') === '3')) await new Promise((resolve) => setTimeout(resolve, 20));
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 143);
      assert.ok(Date.now() - signalledAt < 10_000);
      assert.ok(stdout.endsWith('\n'), 'only whole lines');
      assertNoSecrets(stdout + stderr, [mock.apiKey]);
      const messages = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.deepEqual(
        recordsOf(messages, 'leads').map((r) => r.id),
        mock.data.leads.slice(0, 200).map((l) => l.id),
      );
      assert.deepEqual(
        statesOf(messages, 'leads').map((s) => [s.stream.stream_state, s.sourceStats.recordCount]),
        [
          [{ page: 2 }, 100],
          [{ page: 3 }, 100],
        ],
      );
      assert.deepEqual(
        statesOf(messages, 'tags').map((s) => [s.stream.stream_state, s.sourceStats.recordCount]),
        [[{ __ab_full_refresh_sync_complete: true }, mock.data.tags.length]],
      );
      // The LOG says the sync was cancelled and where each stream stood.
      assert.deepEqual(
        messages.filter((m) => m.type === 'LOG' && m.log.level === 'WARN').map((m) => m.log.message),
        ['Sync cancelled (SIGTERM); complete: tags; stopped: "leads" after 200 records: the lines read so far are written, then nothing more'],
      );
    } finally {
      await mock.close();
    }
  });
});
