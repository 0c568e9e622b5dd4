import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ConfigError, SystemError, TransientError } from '../../src/protocol/errors';
import { serverWaitMs } from '../../src/http/server-waits';
import { testHttpClient, type ClientOverrides } from '../helpers/http-client';
import { MockServer } from '../mocks/server';
import { handshakeProxy } from '../helpers/handshake-proxy';

describe('serverWaitMs', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');

  test('Retry-After in seconds', () => {
    assert.equal(serverWaitMs({ 'retry-after': '7' }, now), 7000);
    assert.equal(serverWaitMs({ 'retry-after': '0.5' }, now), 500);
    assert.equal(serverWaitMs({ 'retry-after': '-3' }, now), 0);
  });

  test('Retry-After as an HTTP-date, past dates meaning no wait', () => {
    assert.equal(serverWaitMs({ 'retry-after': 'Mon, 01 Jan 2024 00:00:05 GMT' }, now), 5000);
    assert.equal(serverWaitMs({ 'retry-after': 'Sun, 31 Dec 2023 23:59:00 GMT' }, now), 0);
  });

  test('X-RateLimit-Reset as epoch seconds, or as seconds until the reset', () => {
    assert.equal(serverWaitMs({ 'x-ratelimit-reset': String(now / 1000 + 12) }, now), 12000);
    assert.equal(serverWaitMs({ 'x-ratelimit-reset': String(now / 1000 - 12) }, now), 0);
    assert.equal(serverWaitMs({ 'x-ratelimit-reset': '30' }, now), 30000);
    assert.equal(serverWaitMs({ 'x-ratelimit-reset': String(now + 4500) }, now), 4500, 'epoch milliseconds');
  });

  test('Retry-After wins over X-RateLimit-Reset; nothing usable gives undefined', () => {
    assert.equal(serverWaitMs({ 'retry-after': '2', 'x-ratelimit-reset': '30' }, now), 2000);
    assert.equal(serverWaitMs({ 'retry-after': 'soon', 'x-ratelimit-reset': '3' }, now), 3000);
    assert.equal(serverWaitMs({ 'retry-after': '' }, now), undefined);
    assert.equal(serverWaitMs({ 'x-ratelimit-reset': 'never' }, now), undefined);
    assert.equal(serverWaitMs({}, now), undefined);
    assert.equal(serverWaitMs(undefined, now), undefined);
  });
});

describe('HttpClient against the mock server', () => {
  let mock: MockServer;
  let other: MockServer;
  let logs: string[] = [];
  const ok = (request: { path: string }) => ({ status: 200, body: { ok: true, path: request.path } });
  before(async () => {
    mock = await new MockServer(ok).start();
    other = await new MockServer(ok).start();
  });
  beforeEach(() => {
    for (const server of [mock, other]) {
      server.requests.length = 0;
      server.faults.length = 0;
    }
    logs = [];
  });
  after(async () => {
    await mock.close();
    await other.close();
  });

  const client = (overrides: ClientOverrides = {}) =>
    testHttpClient(mock.url, {
      apiTitle: 'TestAPI',
      auth: { headers: { 'x-api-key': 'sekret' } },
      pace: overrides.pace,
      bounds: { maxRetries: 3, maxWaitMs: 5000, ...overrides.bounds },
      answers: { errorMessage: (body) => (body as { error?: { message?: string } })?.error?.message },
      reporting: { log: (level, message) => logs.push(`${level} ${message}`) },
    });

  test('500 twice then success: the success, after exactly 3 requests', async () => {
    mock.inject({ path: '/items', kind: 'status', status: 500, times: 2 });
    const response = await client().getJson(`${mock.url}/items`, { page: 1 });
    assert.deepEqual(response.body, { ok: true, path: '/items' });
    assert.equal(response.status, 200);
    assert.deepEqual(
      mock.requests.map((r) => `${r.method} ${r.path}?${r.query}`),
      ['GET /items?page=1', 'GET /items?page=1', 'GET /items?page=1'],
    );
    assert.equal(logs.length, 2);
    assert.match(logs[0], /^WARN TestAPI: GET \/items\?page=1 failed \(HTTP 500\); retry 1\/3 in \d+\.\d s$/);
  });

  test('500 beyond the retries: TransientError naming the attempts and the API message', async () => {
    mock.inject({ path: '/items', kind: 'status', status: 503, times: 10, body: { error: { message: 'maintenance' } } });
    await assert.rejects(client({ bounds: { maxRetries: 2 } }).getJson(`${mock.url}/items`), (error: unknown) => {
      assert.ok(error instanceof TransientError);
      assert.equal(error.message, 'TestAPI failed 3 times on GET /items (last: HTTP 503): maintenance');
      return true;
    });
    assert.equal(mock.requests.length, 3);
  });

  test('429 with Retry-After: 1 waits at least one second before the retry', async () => {
    mock.inject({ path: '/items', kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
    const started = Date.now();
    const response = await client().getJson(`${mock.url}/items`);
    const elapsed = Date.now() - started;
    assert.deepEqual(response.body, { ok: true, path: '/items' });
    assert.equal(mock.requests.length, 2);
    assert.ok(elapsed >= 1000, `waited only ${elapsed} ms`);
    assert.ok(mock.requests[1].at - mock.requests[0].at >= 1000, 'the retry came before Retry-After elapsed');
  });

  test("a 429's Retry-After holds the client's other requests too: none is sent before it elapses", async () => {
    mock.inject({ path: '/first', kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
    const http = client({ pace: { requestsPerMinute: 6000, adaptive: true } });
    const first = http.getJson(`${mock.url}/first`);
    // The 429 has been handled once its retry is announced; only then does the other request start.
    while (!logs.some((line) => line.includes('retry 1/3'))) await new Promise((resolve) => setTimeout(resolve, 5));
    const other = await http.getJson(`${mock.url}/other`);
    await first;
    assert.deepEqual(other.body, { ok: true, path: '/other' });
    const refusedAt = mock.requests[0].at;
    const otherAt = mock.requests.find((request) => request.path === '/other')!.at;
    assert.ok(otherAt - refusedAt >= 1000, `the other request went ${otherAt - refusedAt} ms after the 429 that asked for 1 s`);
  });

  test("the hold after a 429 on a new connection also covers the connection's handshakes, which the next request, on the kept-alive connection, does not pay", async () => {
    mock.inject({ path: '/first', kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
    // The refused request reaches the server 200 ms after it was sent; a request sent 1 s (and the
    // slack) after it would arrive 200 ms early on the open connection.
    const proxy = await handshakeProxy(mock.url, 200);
    try {
      const http = client({ pace: { requestsPerMinute: 6000, adaptive: true } });
      const first = http.getJson(`${proxy.url}/first`);
      while (!logs.some((line) => line.includes('retry 1/3'))) await new Promise((resolve) => setTimeout(resolve, 5));
      await http.getJson(`${proxy.url}/other`);
      await first;
      const at = (path: string) => mock.requests.find((request) => request.path === path)!.at;
      assert.ok(at('/other') - at('/first') >= 1000, `the other request reached the server ${at('/other') - at('/first')} ms after the 429 that asked for 1 s`);
      assert.equal(proxy.connections, 1, 'the other request went on the connection kept alive');
    } finally {
      await proxy.close();
    }
  });

  test('429s of requests already in flight when the first came do not lengthen its hold: they tell the same reset, rounded to the second', async () => {
    // Both refused while the budget was spent; each Retry-After: 1 is counted from its own request.
    mock.inject({ path: '/a', kind: 'status', status: 429, headers: { 'Retry-After': '1' } }, { path: '/b', kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
    mock.latencyMs = 800;
    try {
      const http = client({ pace: { requestsPerMinute: 6000, adaptive: true } });
      // One answer shows the latency; until then the client keeps one request in flight.
      await http.getJson(`${mock.url}/warm`);
      const first = http.getJson(`${mock.url}/a`);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const second = http.getJson(`${mock.url}/b`);
      // Both 429s have been handled once both retries are announced; only then does the third request start.
      while (logs.filter((line) => line.includes('retry 1/3')).length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      const third = http.getJson(`${mock.url}/c`);
      await Promise.all([first, second, third]);
      const at = (path: string) => mock.requests.find((request) => request.path === path)!.at;
      const gap = at('/c') - at('/a');
      // /a's hold ends 1 s after its answer (800 ms after it went); /b's own would end 400 ms later.
      assert.ok(gap >= 1800 && gap < 2150, `the third request went ${gap} ms after the first refused one`);
    } finally {
      mock.latencyMs = 0;
    }
  });

  test('a Retry-After beyond maxWaitMs holds no other request: each fails on its own answer, at once', async () => {
    mock.inject({ path: '/first', kind: 'status', status: 429, headers: { 'Retry-After': '60' } });
    const http = client({ pace: { requestsPerMinute: 6000, adaptive: true }, bounds: { maxWaitMs: 2000 } });
    await assert.rejects(http.getJson(`${mock.url}/first`), TransientError);
    const other = await http.getJson(`${mock.url}/other`);
    assert.deepEqual(other.body, { ok: true, path: '/other' });
    const gap = mock.requests[1].at - mock.requests[0].at;
    assert.ok(gap < 1000, `the other request was held ${gap} ms by a wait the client would never make`);
  });

  test('a Retry-After beyond maxWaitMs fails at once with a TransientError, no retry', async () => {
    mock.inject({ path: '/items', kind: 'status', status: 429, headers: { 'Retry-After': '60' }, body: { error: { message: 'slow down' } } });
    await assert.rejects(client({ bounds: { maxWaitMs: 2000 } }).getJson(`${mock.url}/items`), (error: unknown) => {
      assert.ok(error instanceof TransientError);
      assert.equal(
        error.message,
        "TestAPI asked to wait 60 s after HTTP 429 on GET /items, which with earlier retries exceeds the connector's wait limit of 2 s per request (max_wait_seconds): slow down",
      );
      return true;
    });
    assert.equal(mock.requests.length, 1);
    assert.deepEqual(logs, []);
  });

  test("401: ConfigError with the API's own message, after exactly 1 request", async () => {
    mock.inject({ path: '/items', kind: 'status', status: 401, body: { status: 'error', error: { message: 'Invalid API key' } } });
    await assert.rejects(client().getJson(`${mock.url}/items`), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, 'TestAPI rejected the API key (HTTP 401): Invalid API key');
      return true;
    });
    assert.equal(mock.requests.length, 1);
  });

  test('403: ConfigError naming the request', async () => {
    mock.inject({ path: '/admin', kind: 'status', status: 403, body: { error: { message: 'Forbidden' } } });
    await assert.rejects(client().getJson(`${mock.url}/admin`), {
      name: 'ConfigError',
      message: "TestAPI denied access to GET /admin (HTTP 403): Forbidden. Check the API key's permissions.",
    });
    assert.equal(mock.requests.length, 1);
  });

  test('404 after the API has answered: SystemError with the request and the raw body when errorMessage finds nothing', async () => {
    const http = client();
    await http.getJson(`${mock.url}/items`);
    mock.inject({ path: '/missing', kind: 'status', status: 404, body: { detail: 'Not found' } });
    await assert.rejects(http.getJson(`${mock.url}/missing`, { x: 1 }), (error: unknown) => {
      assert.ok(error instanceof SystemError);
      assert.equal(error.message, 'TestAPI returned HTTP 404 for GET /missing?x=1: {"detail":"Not found"}');
      return true;
    });
    assert.equal(mock.requests.length, 2);
  });

  test('404 before the API ever answered 2xx: a ConfigError pointing at base_url, for every stream', async () => {
    mock.inject({ path: '/missing', kind: 'status', status: 404, body: { detail: 'Not found' } });
    await assert.rejects(client().getJson(`${mock.url}/missing`), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, 'TestAPI answered HTTP 404 (not found) to GET /missing, the first request of this run: {"detail":"Not found"}. Check api.base_url');
      assert.equal(error.everyStream, true);
      return true;
    });
  });

  test('a redirect is not followed: SystemError pointing at base_url', async () => {
    mock.inject({ path: '/moved', kind: 'status', status: 301, headers: { Location: 'https://elsewhere.example/x' }, body: '' });
    await assert.rejects(client().getJson(`${mock.url}/moved`), {
      name: 'SystemError',
      message: 'TestAPI redirected GET /moved (HTTP 301) to https://elsewhere.example/x; check base_url',
    });
  });

  test('credentials go to the credential origin only', async () => {
    const http = client();
    await http.getJson(`${mock.url}/items`);
    await http.getJson(`${other.url}/items`);
    assert.equal(mock.requests.length, 1);
    assert.equal(other.requests.length, 1);
    assert.equal(mock.requests[0].headers['x-api-key'], 'sekret');
    assert.equal(other.requests[0].headers['x-api-key'], undefined);
    assert.equal(other.requests[0].headers['user-agent'], 'ua/1', 'the other origin still gets the ordinary headers');
    assert.equal(mock.requests[0].headers['user-agent'], 'ua/1');
  });

  test("an invalid JSON body is a SystemError mentioning 'invalid JSON'", async () => {
    mock.inject({ path: '/items', kind: 'malformed' });
    let parseMessage = '';
    try {
      JSON.parse('{"status":"success","records": [{"id": 1,');
    } catch (error) {
      parseMessage = (error as Error).message;
    }
    await assert.rejects(client().getJson(`${mock.url}/items`), (error: unknown) => {
      assert.ok(error instanceof SystemError);
      assert.equal(error.message, `TestAPI returned invalid JSON for GET /items (HTTP 200): ${parseMessage}`);
      assert.equal(error.internalMessage, 'body starts with: {"status":"success","records": [{"id": 1,');
      return true;
    });
    assert.equal(mock.requests.length, 1, 'a malformed 200 is not retried');
  });

  test("a timeout on a 'hang' is retried, then succeeds", async () => {
    mock.inject({ path: '/items', kind: 'hang' });
    const response = await client({ bounds: { timeoutMs: 300 } }).getJson(`${mock.url}/items`);
    assert.deepEqual(response.body, { ok: true, path: '/items' });
    assert.equal(mock.requests.length, 2);
    assert.match(logs[0], /^WARN TestAPI: GET \/items failed \(ECONNABORTED\); retry 1\/3 in /);
  });

  test('timeouts beyond the retries: TransientError saying it timed out', async () => {
    mock.inject({ path: '/items', kind: 'hang', times: 5 });
    await assert.rejects(client({ bounds: { timeoutMs: 200, maxRetries: 1 } }).getJson(`${mock.url}/items`), {
      name: 'TransientError',
      message: 'TestAPI could not be reached: GET /items timed out after 200 ms without data (request_timeout_seconds) (2 attempts)',
    });
    assert.equal(mock.requests.length, 2);
  });
});
