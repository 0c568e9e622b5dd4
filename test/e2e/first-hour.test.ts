// What a new user meets in the first hour when something in the config is wrong (issue 28): a
// base_url that leads nowhere or to a web page, a host that is not there, a check that fails.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { catalogFor, errorsOf, logsOf, runConnector, statusesOf } from '../helpers/connector';
import { PersistIqMock } from '../mocks/persistiq';
import { closedPort } from '../mocks/server';

const PERSISTIQ_STREAMS = ['users', 'leads', 'campaigns', 'events', 'lead_statuses', 'lead_fields', 'dnc_domains', 'tags'];
const everyStream = catalogFor(Object.fromEntries(PERSISTIQ_STREAMS.map((s) => [s, 'full_refresh'])));

/** A web server that answers every path with an HTML page, as nginx or a CDN in front of the wrong host does. */
async function htmlServer(status: number): Promise<{ server: Server; url: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response
      .writeHead(status, { 'Content-Type': 'text/html' })
      .end(`<!DOCTYPE html><html><head><title>${status}</title></head><body><h1>Not Found</h1>${'<p>nginx</p>'.repeat(40)}</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

describe('a base_url that does not lead to the API', () => {
  let mock: PersistIqMock;
  before(async () => {
    mock = await new PersistIqMock({ rateLimit: false }).start();
  });
  after(() => mock.close());

  test('a wrong path (the API answers 404 "No route"): one config_error naming base_url, the other streams not read', async () => {
    const before = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig({ base_url: `${mock.url}/wrong` }), catalog: everyStream });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [
        [
          'config_error',
          'Stream "users": PersistIQ answered HTTP 404 (not found) to GET /wrong/users, the first request of this run: No route for GET /wrong/users (invalid_request). Check api.base_url; it should be the API\'s root, like https://api.persistiq.com/v1',
        ],
      ],
    );
    assert.equal(mock.requests.length - before, 1);
    for (const stream of PERSISTIQ_STREAMS.slice(1)) assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'INCOMPLETE'], stream);
  });

  test('check with a wrong path: FAILED naming base_url', async () => {
    const result = await runConnector('check', { config: mock.connectorConfig({ base_url: `${mock.url}/api/v2` }) });
    assert.equal(result.code, 0);
    assert.deepEqual(result.messages.at(-1)!.connectionStatus, {
      status: 'FAILED',
      message:
        "PersistIQ answered HTTP 404 (not found) to GET /api/v2/users?page=1, the first request of this run: No route for GET /api/v2/users (invalid_request). Check api.base_url; it should be the API's root, like https://api.persistiq.com/v1",
    });
  });

  test("a 404 after the API has answered is the one stream's failure, not base_url's", async () => {
    mock.inject({ path: '/v1/tags', kind: 'status', status: 404, body: { status: 'error', error: { reason: 'not_found', message: 'Not Found' } } });
    const result = await runConnector('read', {
      config: mock.connectorConfig({ max_retries: 0 }),
      catalog: catalogFor({ users: 'full_refresh', tags: 'full_refresh', dnc_domains: 'full_refresh' }),
    });
    mock.faults.length = 0;
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['system_error', 'Stream "tags": PersistIQ returned HTTP 404 for GET /v1/tags: Not Found (not_found)']],
    );
    assert.deepEqual(statusesOf(result.messages, 'dnc_domains').at(-1), 'COMPLETE');
  });

  for (const status of [404, 200, 403]) {
    test(`a web server's HTML page (HTTP ${status}) at base_url: named once, no HTML in the message, the sync stops`, async () => {
      const web = await htmlServer(status);
      try {
        const result = await runConnector('read', { config: mock.connectorConfig({ base_url: web.url }), catalog: everyStream });
        assert.equal(result.code, 1);
        const host = new URL(web.url).host;
        assert.deepEqual(
          errorsOf(result.messages).map((e) => [e.failure_type, e.message, e.internal_message.slice(0, 30)]),
          [
            [
              'config_error',
              `Stream "users": ${host} answered GET /users with an HTML page, not PersistIQ's JSON (HTTP ${status}). Check api.base_url; it should be the API's root, like https://api.persistiq.com/v1`,
              'body starts with: <!DOCTYPE ht',
            ],
          ],
        );
        assert.deepEqual(web.paths, ['/users']);
      } finally {
        web.server.close();
      }
    });
  }

  test("a proxy's HTML error page (HTTP 502) is retried, then a transient error without the page", async () => {
    const web = await htmlServer(502);
    try {
      const config = mock.connectorConfig({ base_url: web.url, max_retries: 1, retry_initial_delay_seconds: 0.01 });
      const result = await runConnector('read', { config, catalog: catalogFor({ tags: 'full_refresh' }) });
      assert.deepEqual(
        errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
        [
          [
            'transient_error',
            `Stream "tags": ${new URL(web.url).host} answered GET /tags with an HTML page, not PersistIQ's JSON (HTTP 502, 2 attempts). If this lasts, check api.base_url; it should be the API's root, like https://api.persistiq.com/v1`,
          ],
        ],
      );
    } finally {
      web.server.close();
    }
  });
});

describe('a host that is not there', () => {
  test('read: a refused connection before any answer is tried 3 times, not for minutes, and names base_url once', async () => {
    const port = await closedPort();
    const config = { api: { name: 'persistiq', api_key: 'piq-key-0123456789', base_url: `http://127.0.0.1:${port}/v1`, retry_initial_delay_seconds: 0.01 } };
    const result = await runConnector('read', { config, catalog: everyStream });
    assert.equal(result.code, 1);
    const errors = errorsOf(result.messages);
    assert.deepEqual(
      errors.map((e) => e.failure_type),
      ['transient_error'],
    );
    assert.match(
      errors[0].message,
      new RegExp(
        `^Stream "users": PersistIQ could not be reached: GET /v1/users ECONNREFUSED .* \\(3 attempts\\); check api\\.base_url's host \\(127\\.0\\.0\\.1:${port}\\) and the network between it and the connector$`,
      ),
    );
    assert.deepEqual(
      logsOf(result.messages, 'WARN')
        .filter((line) => /retry/.test(line))
        .map((line) => line.replace(/in [\d.]+ s/, 'in …')),
      [1, 2].map((n) => `PersistIQ: GET /v1/users failed (ECONNREFUSED); retry ${n}/2 in … (the host has not answered once yet)`),
    );
  });

  test('a host that answered once and then refuses connections gets every retry (a blip mid-sync)', async () => {
    const mock = await new PersistIqMock({ rateLimit: false }).start();
    const port = new URL(mock.url).port;
    // The only page of tags is answered (the envelope of PersistIQ's lists); then the server goes away for good.
    mock.inject({
      path: '/v1/tags',
      kind: 'handle',
      handle: (res) => {
        res.on('finish', () => void mock.close());
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', errors: [], has_more: false, next_page: null, tags: [] }));
      },
    });
    const config = mock.connectorConfig({ max_retries: 4, retry_initial_delay_seconds: 0.01, base_url: `http://127.0.0.1:${port}/v1` });
    const result = await runConnector('read', { config, catalog: catalogFor({ tags: 'full_refresh', leads: 'full_refresh' }) });
    assert.equal(result.code, 1);
    const retries = logsOf(result.messages, 'WARN').filter((line) => /ECONNREFUSED\); retry/.test(line));
    assert.ok(
      retries.some((line) => / retry 4\/4 /.test(line)),
      retries.join('\n'),
    );
  });
});
