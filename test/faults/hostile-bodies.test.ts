// Bodies no well-behaved API sends, but a proxy, a bug or an attacker can: raw control characters,
// broken escapes and bytes that are not UTF-8 inside export events; a page that never ends; a gzip
// bomb; an export element that never closes; an 8 MB string beside a 64-bit integer. Every stdout
// line stays valid JSON in valid UTF-8 (runConnector decodes it strictly), memory stays bounded, and
// no STATE covers a record that was not delivered.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { catalogFor, errorsOf, logsOf, recordsOf, runConnector, statesOf, statusesOf } from '../helpers/connector';
import { expectedEvent, losslessMessages, recordsIn } from '../helpers/fullstory';
import { FullstoryMock } from '../mocks/fullstory';

/** A 200 whose body is exactly these bytes (no gzip, no re-encoding). */
const rawBytes = (body: Buffer) => (res: ServerResponse) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
  res.end(body);
};

/** A 200 that streams `head`, then `unit` again and again until the client hangs up. */
const endless = (head: string, unit: string) => (res: ServerResponse) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write(head);
  const block = Buffer.from(unit.repeat(Math.ceil(65536 / unit.length)));
  const pump = () => {
    while (!res.destroyed && res.write(block));
    if (!res.destroyed) res.once('drain', pump);
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
};

describe('export events with bytes JSON does not allow', () => {
  let mock: FullstoryMock;
  // A fresh mock each time: it builds each gzip bundle file once.
  beforeEach(async () => {
    mock = await new FullstoryMock({ bundles: 3, eventsPerBundle: 40 }).start();
  });
  afterEach(() => mock.close());
  const events = catalogFor({ events: 'incremental' });

  test('raw control characters inside strings are escaped: every character kept, one WARN with the count', async () => {
    const original = mock.bundles.map((b) => [...b.events]);
    const note = 'line one\nline two\u0000\tend\u001f';
    // As a server that forgot to escape would write it: the raw bytes inside the string.
    mock.bundles[1].events[0] = `{"note":"${note}",${original[1][0].slice(1)}`;
    mock.bundles[1].events[5] = `{"note":"${note}",${original[1][5].slice(1)}`;
    try {
      const result = await runConnector('read', { config: mock.connectorConfig({ start_date: undefined }), catalog: events });
      assert.equal(result.code, 0);
      const records = recordsIn(losslessMessages(result.stdout), 'events');
      const repairedOne = expectedEvent(`{"note":${JSON.stringify(note)},${original[1][0].slice(1)}`, 'events', {
        ExportBundleId: mock.bundles[1].Id,
        ExportBundleStop: mock.bundles[1].Stop,
      });
      const firstOfBundle1 = original[0].length;
      assert.equal(records.length, original.flat().length);
      assert.deepEqual(records[firstOfBundle1], repairedOne);
      assert.equal((records[firstOfBundle1 + 5].custom_vars as Record<string, unknown>).note, note);
      assert.deepEqual(
        logsOf(result.messages, 'WARN').filter((m) => /control characters/.test(m)),
        [
          'Stream "events": 2 record(s) held raw control characters (a line feed, a NUL...) inside strings, which JSON allows only escaped; they were written escaped (\\n, \\u0000), so every character is kept',
        ],
      );
    } finally {
      mock.bundles.forEach((b, i) => (b.events = original[i]));
    }
  });

  test('an invalid escape fails the stream (system_error) before any STATE covers its bundle', async () => {
    const original = [...mock.bundles[1].events];
    mock.bundles[1].events[3] = `{"note":"C:\\xdata",${original[3].slice(1)}`;
    try {
      const result = await runConnector('read', { config: mock.connectorConfig({ start_date: undefined }), catalog: events });
      assert.equal(result.code, 1);
      assert.deepEqual(
        errorsOf(result.messages).map((e) => e.failure_type),
        ['system_error'],
      );
      assert.match(errorsOf(result.messages)[0].message, /an invalid escape in a string/);
      assert.deepEqual(
        statesOf(result.messages, 'events').map((s) => s.stream.stream_state),
        [{ ExportBundleStop: mock.bundles[0].Stop }],
      );
      assert.deepEqual(statusesOf(result.messages, 'events').at(-1), 'INCOMPLETE');
    } finally {
      mock.bundles[1].events = original;
    }
  });

  test('bytes that are not UTF-8 fail the stream (system_error) before any STATE covers their bundle; no retry', async () => {
    const bundle = mock.bundles[1];
    const bad = Buffer.concat([Buffer.from(`[${bundle.events.slice(0, 3).join(',')},{"note":"caf`), Buffer.from([0xe9, 0x20]), Buffer.from(`",${bundle.events[3].slice(1)}]`)]);
    mock.inject({ path: '/api/v1/export/get', query: { id: bundle.Id }, kind: 'handle', handle: rawBytes(bad), times: 10 });
    const before = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig({ start_date: undefined }), catalog: events });
    mock.faults.length = 0;
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => e.failure_type),
      ['system_error'],
    );
    assert.match(errorsOf(result.messages)[0].message, /an item is not valid UTF-8 \(byte \d+ of it\), which no JSON line can carry unchanged/);
    assert.deepEqual(
      statesOf(result.messages, 'events').map((s) => s.stream.stream_state),
      [{ ExportBundleStop: mock.bundles[0].Stop }],
    );
    assert.equal(mock.requests.slice(before).filter((r) => r.query.get('id') === bundle.Id).length, 1);
  });

  test('a page that is not UTF-8 is a system_error, not retried', async () => {
    const page = Buffer.concat([Buffer.from('{"segments":[{"id":"s1","name":"Caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
    mock.inject({ path: '/segments/v1', kind: 'handle', handle: rawBytes(page), times: 10 });
    const before = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ segments: 'full_refresh' }) });
    mock.faults.length = 0;
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['system_error', `Stream "segments": Fullstory's answer to GET /segments/v1?limit=100 (HTTP 200) cannot be used: it is not valid UTF-8 (first bad byte at offset 35)`]],
    );
    assert.equal(mock.requests.length - before, 1);
  });
});

describe('bodies that would exhaust memory', () => {
  let mock: FullstoryMock;
  before(async () => {
    mock = await new FullstoryMock({ bundles: 2, eventsPerBundle: 20 }).start();
  });
  after(() => mock.close());

  test('a page that never ends stops at max_response_megabytes: system_error, one request', async () => {
    mock.inject({ path: '/segments/v1', kind: 'handle', handle: endless('{"segments":[', '{"id":"s","name":"n"},'), times: 10 });
    const before = mock.requests.length;
    const result = await runConnector('read', {
      config: mock.connectorConfig({ max_response_megabytes: 2 }),
      catalog: catalogFor({ segments: 'full_refresh' }),
      timeoutMs: 30_000,
    });
    mock.faults.length = 0;
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['system_error', `Stream "segments": Fullstory's answer to GET /segments/v1?limit=100 cannot be used: it is larger than 2 MB (max_response_megabytes)`]],
    );
    assert.equal(mock.requests.length - before, 1);
  });

  test('a gzip bomb stops at max_response_megabytes decompressed: system_error, one request', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 32));
    mock.inject({ path: '/segments/v1', kind: 'handle', handle: rawBytes(bomb), times: 10 });
    const before = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig({ max_response_megabytes: 8 }), catalog: catalogFor({ segments: 'full_refresh' }) });
    mock.faults.length = 0;
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [
        [
          'system_error',
          `Stream "segments": Fullstory's answer to GET /segments/v1?limit=100 (HTTP 200) cannot be used: it decompresses to more than 8 MB (max_response_megabytes)`,
        ],
      ],
    );
    assert.equal(mock.requests.length - before, 1);
  });

  test('an export element that never closes stops at max_record_megabytes: system_error, one download', async () => {
    const bundle = mock.bundles[0];
    mock.inject({ path: '/api/v1/export/get', query: { id: bundle.Id }, kind: 'handle', handle: endless('[{"EventType":"click","note":"', 'x'), times: 10 });
    const before = mock.requests.length;
    const result = await runConnector('read', {
      config: mock.connectorConfig({ max_record_megabytes: 4, start_date: undefined }),
      catalog: catalogFor({ events: 'incremental' }),
      timeoutMs: 30_000,
    });
    mock.faults.length = 0;
    assert.equal(result.code, 1);
    const errors = errorsOf(result.messages);
    assert.deepEqual(
      errors.map((e) => e.failure_type),
      ['system_error'],
    );
    assert.match(
      errors[0].message,
      /^Stream "events": Fullstory: reading export bundle \d+ failed: an item is larger than 4 MB, or never ends \(max_record_megabytes\); it starts with "\{"EventType":"click","note":"xxx/,
    );
    assert.equal(mock.requests.slice(before).filter((r) => r.query.get('id') === bundle.Id).length, 1);
    assert.deepEqual(statesOf(result.messages, 'events'), []);
  });

  test('an 8 MB string beside a 64-bit integer parses (it exhausted the stack): every digit and character kept', async () => {
    const bio = 'ab'.repeat(4 * 1024 * 1024);
    mock.inject({
      path: '/v2/users',
      kind: 'rewrite',
      rewrite: (body) => {
        const page = body as { results: Record<string, unknown>[] };
        return JSON.stringify({ ...page, results: [{ ...page.results[0], properties: { bio } }, ...page.results.slice(1)] }).replace(
          '"results":[{',
          '"results":[{"account_number":9223372036854775807,',
        );
      },
    });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ users: 'full_refresh' }) });
    assert.equal(result.code, 0, result.stderr);
    const first = recordsOf(result.messages, 'users')[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(first.properties.bio, bio);
    assert.equal(first._ab_additional_properties.account_number, '9223372036854775807');
    assert.equal(recordsOf(result.messages, 'users').length, mock.users.length);
  });
});
