import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, test } from 'node:test';
import { downloadItems } from '../../src/http/download';
import { ObjectStreamShaper } from '../../src/json/object-shaper';
import { testHttpClient } from '../helpers/http-client';
import { MockServer } from '../mocks/server';

const events = Array.from({ length: 500 }, (_, i) => ({ IndvId: `${5189870820212736000n + BigInt(i)}`, EventType: 'click', i }));
// Written by hand so the ids are JSON integers above 2^53.
const arrayText = `[${events.map((e) => `{"IndvId":${e.IndvId},"EventType":"click","i":${e.i}}`).join(',\n')}]`;
const KEYS = new Set(['IndvId', 'EventType', 'i']);
const expected = events.map((e) => `{"IndvId":${e.IndvId},"EventType":"click","i":${e.i}}`);

describe('downloadItems', () => {
  let server: MockServer;
  let logs: string[];
  before(async () => {
    server = await new MockServer((request) => {
      switch (request.path) {
        case '/plain':
          return { status: 200, body: arrayText };
        case '/gzip-file':
          return { status: 200, headers: { 'Content-Type': 'application/gzip' }, body: gzipSync(arrayText) };
        case '/gzip-twice':
          return { status: 200, headers: { 'Content-Type': 'application/gzip' }, body: gzipSync(arrayText), gzip: true };
        case '/ndjson':
          return { status: 200, headers: { 'Content-Type': 'application/x-ndjson' }, body: gzipSync(expected.join('\n') + '\n') };
        case '/not-json':
          return { status: 200, body: '<html>oops</html>' };
        default:
          return { status: 404, body: { message: 'no such export', code: 'not_found' } };
      }
    }).start();
  });
  beforeEach(() => {
    server.faults.length = 0;
    logs = [];
  });
  after(() => server.close());

  const client = () =>
    testHttpClient(server.url, { bounds: { maxRetries: 3, backoffBaseMs: 5, timeoutMs: 300 }, reporting: { log: (level, message) => logs.push(`${level} ${message}`) } });
  const read = async (path: string, ndjson = false) => {
    const items: string[] = [];
    for await (const batch of downloadItems(client(), { url: `${server.url}${path}`, label: path }, () => new ObjectStreamShaper(ndjson ? 'ndjson' : 'array', KEYS, 'custom_vars')))
      items.push(...batch.texts());
    return items;
  };

  test('plain, gzip (by magic bytes), gzip twice, and NDJSON bodies give the same items, ids digit for digit', async () => {
    assert.deepEqual(await read('/plain'), expected);
    assert.deepEqual(await read('/gzip-file'), expected);
    assert.deepEqual(await read('/gzip-twice'), expected);
    assert.deepEqual(await read('/ndjson', true), expected);
  });

  for (const kind of ['reset_mid_body', 'truncate', 'hang_mid_body'] as const) {
    for (const path of ['/plain', '/gzip-file']) {
      test(`${kind} on ${path}: downloaded again, nothing lost, nothing twice`, async () => {
        server.inject({ path, kind, fraction: 0.4 }, { path, kind, fraction: 0.7 });
        const before = server.requests.length;
        assert.deepEqual(await read(path), expected);
        assert.equal(server.requests.length - before, 3);
        assert.equal(logs.length, 2);
        assert.match(
          logs[0],
          new RegExp(`^WARN Mock: the download of ${path} broke off after \\d+ items \\(.+\\); downloading again in 0\\.0 s, skipping the \\d+ already delivered$`),
        );
      });
    }
  }

  test('a body that keeps breaking: TransientError after max_retries, counting what was delivered', async () => {
    server.inject({ path: '/gzip-file', kind: 'reset_mid_body', times: 10 });
    const items: string[] = [];
    await assert.rejects(
      async () => {
        for await (const batch of downloadItems(client(), { url: `${server.url}/gzip-file`, label: 'bundle 42' }, () => new ObjectStreamShaper('array', KEYS, 'custom_vars')))
          items.push(...batch.texts());
      },
      { name: 'TransientError', message: new RegExp(`^Mock: the download of bundle 42 broke off 4 times \\(last: .+\\); ${items.length || '\\d+'} items were delivered$`) },
    );
    assert.deepEqual(items, expected.slice(0, items.length));
  });

  test('a body that is not JSON is a SystemError, not retried', async () => {
    const before = server.requests.length;
    await assert.rejects(read('/not-json'), { name: 'SystemError', message: /^Mock: reading \/not-json failed: Malformed JSON: expected a JSON array at "<html>oops<\/html>"$/ });
    assert.equal(server.requests.length - before, 1);
  });

  test('an HTTP error before the body is the client error', async () => {
    await assert.rejects(read('/missing'), { name: 'ConfigError', message: /^Mock answered HTTP 404 \(not found\) to GET \/missing, the first request of this run/ });
  });
});
