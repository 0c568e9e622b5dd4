// Hostile conditions, second round (issue 27): what a key's name, a clock, an encoding or a server's
// odd answer must not cost. Each case failed on 12b905a; each asserts the exact records, states and
// messages the connector printed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { assertStatesCountTheirRecords, catalogFor, errorsOf, logsOf, MAIN, type Message, recordsOf, runConnector, statesOf, streamStates, writeTemp } from '../helpers/connector';
import { assertProtocolLine } from '../helpers/shared';
import { FullstoryMock } from '../mocks/fullstory';
import { MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';

/** zstd: Node 22.15+ (the suites run on 24); @types/node 20 does not declare it. */
const zstdCompressSync = (zlib as unknown as { zstdCompressSync: (data: string) => Buffer }).zstdCompressSync;

/** The RECORD line of a stream whose data holds `marker`, as printed (parsing it back could hide a loss). */
const recordLine = (stdout: string, marker: string) => stdout.split('\n').find((line) => line.startsWith('{"type":"RECORD"') && line.includes(marker));

/** No run of `size` or more characters of `secret` anywhere in `text`. */
function assertNoPiece(text: string, secret: string, size = 8): void {
  for (let at = 0; at + size <= secret.length; at++) {
    const piece = secret.slice(at, at + size);
    assert.ok(!text.includes(piece), `"${piece}" (part of the key) was printed: …${text.slice(Math.max(0, text.indexOf(piece) - 60), text.indexOf(piece) + 40)}…`);
  }
}

describe('PersistIQ: odd keys, ids, numbers and bodies', () => {
  let mock: PersistIqMock;
  before(async () => {
    mock = await new PersistIqMock({ rateLimit: false, apiKey: 'piqKmBuWj7Qx2Lz9Rt4Vn8Hc' }).start();
  });
  after(() => mock.close());
  const config = () => mock.connectorConfig();
  const tagsPage = (tags: string) => `{"status":"success","errors":[],"has_more":false,"next_page":null,"tags":[${tags}]}`;

  test('a member named __proto__ is kept (in the catch-all field), not dropped by the prototype setter', async () => {
    mock.inject({ path: '/v1/tags', kind: 'rewrite', rewrite: () => tagsPage('{"id":"t1","name":"x","__proto__":{"a":1}},{"id":"t2","name":"y","__proto__":null}') });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.match(recordLine(result.stdout, '"t1"')!, /"data":\{"id":"t1","name":"x","_ab_additional_properties":\{"__proto__":\{"a":1\}\}\}/);
    assert.match(recordLine(result.stdout, '"t2"')!, /"data":\{"id":"t2","name":"y","_ab_additional_properties":\{"__proto__":null\}\}/);
  });

  test('an integer beyond 2^53 arrives digit for digit, still a number', async () => {
    mock.inject({ path: '/v1/tags', kind: 'rewrite', rewrite: () => tagsPage('{"id":"t1","name":"x","count":12345678901234567890123,"small":-9007199254740993}') });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.match(recordLine(result.stdout, '"t1"')!, /"_ab_additional_properties":\{"count":12345678901234567890123,"small":-9007199254740993\}/);
  });

  test('a body that starts with a UTF-8 byte order mark is read (RFC 8259 §8.1: parsers may ignore it)', async () => {
    mock.inject({ path: '/v1/tags', kind: 'rewrite', rewrite: () => `\uFEFF${tagsPage('{"id":"t1","name":"x"}')}` });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 0, result.stdout.slice(-500));
    assert.deepEqual(recordsOf(result.messages, 'tags'), [{ id: 't1', name: 'x' }]);
  });

  test('response headers of 40 KiB (Node refuses more than 16 by default) are read', async () => {
    mock.inject({ path: '/v1/tags', kind: 'status', status: 200, body: tagsPage('{"id":"t1","name":"x"}'), headers: { 'X-Padding': 'a'.repeat(40 * 1024) } });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 0, result.stdout.slice(-500));
    assert.deepEqual(recordsOf(result.messages, 'tags'), [{ id: 't1', name: 'x' }]);
  });

  test('bodies in br, deflate (zlib and raw) and zstd are decoded; a complete gzip body with stray bytes after it is read once, not retried', async () => {
    const text = tagsPage('{"id":"t1","name":"x"}');
    const bodies: [string, Buffer][] = [
      ['br', brotliCompressSync(text)],
      ['deflate', deflateSync(text)],
      ['deflate', deflateRawSync(text)],
      ['zstd', zstdCompressSync(text)],
      ['gzip', Buffer.concat([gzipSync(text), Buffer.from('xyz\n')])],
    ];
    for (const [coding, body] of bodies) {
      mock.inject({ path: '/v1/tags', kind: 'handle', handle: (res) => res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': coding }).end(body) });
      const start = mock.requests.length;
      const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
      assert.equal(result.code, 0, `${coding}: ${result.stdout.slice(-500)}`);
      assert.deepEqual(recordsOf(result.messages, 'tags'), [{ id: 't1', name: 'x' }], coding);
      assert.equal(mock.requests.length - start, 1, `${coding}: one request`);
    }
  });

  test('a body in a coding Node cannot decode is refused naming it, once', async () => {
    mock.inject({ path: '/v1/tags', kind: 'handle', handle: (res) => res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'compress' }).end('x') });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.match(errorsOf(result.messages)[0].message, /it is encoded as "compress", which the connector cannot decode \(it asks for gzip\)/);
  });

  test('events without an id, read in several groups, are all written: a record without a key is a copy only of the same content in an earlier group', async () => {
    const events = (group: string) => `{"id":null,"kind":"${group}-a"},{"kind":"${group}-b"},{"id":"e1","kind":"same"}`;
    // Without group, the server answers every group's events (one reading of the undocumented case): all copies.
    const page = (group: string | null) =>
      `{"status":"success","errors":[],"has_more":false,"next_page":null,"events":[${(group ? [group] : ['campaign', 'settings', 'lead_detail']).map(events).join(',')},{"kind":"twice"},{"kind":"twice"}]}`;
    mock.inject({ path: '/v1/events', kind: 'rewrite', times: 4, rewrite: (_body, request) => page(request.query.get('group')) });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ events: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(
      recordsOf(result.messages, 'events').map((e) => e.kind),
      ['campaign-a', 'campaign-b', 'same', 'twice', 'twice', 'settings-a', 'settings-b', 'lead_detail-a', 'lead_detail-b'],
    );
  });

  test('has_more: true without a next_page reads on by the documented page parameter', async () => {
    mock.inject({ path: '/v1/leads', kind: 'rewrite', rewrite: (body) => ({ ...(body as object), next_page: null }) });
    const start = mock.requests.length;
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.equal(recordsOf(result.messages, 'leads').length, mock.data.leads.length);
    assert.deepEqual(
      mock.requests.slice(start).map((r) => r.query.get('page')),
      [null, '2', '3'],
    );
  });

  test('a cursor in the state that is not a date is a config_error naming the stream, before any request of it', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ leads: 'incremental' }), state: streamStates({ leads: { updated_at: 'hello 5' } }) });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e: Message) => [e.failure_type, e.message]),
      [['config_error', 'Stream "leads": State for stream "leads": "updated_at" must be an ISO 8601 date-time, got "hello 5"']],
    );
    assert.equal(mock.requests.length - start, 0);
  });

  test('a leap-second start_date (23:59:60) is read from the second before it', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig({ start_date: '2016-12-31T23:59:60Z' }), catalog: catalogFor({ leads: 'incremental' }) });
    assert.equal(result.code, 0);
    assert.equal(mock.requests[start].query.get('updated_after'), '2016-12-31T23:59:58.999Z');
    assert.equal(recordsOf(result.messages, 'leads').length, mock.data.leads.length);
  });

  test('the state of a stream this version does not have is ignored with a WARN; the sync runs', async () => {
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }), state: streamStates({ deals: { page: 3 } }) });
    assert.equal(result.code, 0);
    assert.equal(recordsOf(result.messages, 'tags').length, mock.data.tags.length);
    assert.ok(logsOf(result.messages, 'WARN').includes('state[0].stream: the state of "deals", which is not a PersistIQ stream of this connector version, is ignored'));
  });

  test('a server that echoes the start of the key: no 8 characters of it are printed', async () => {
    const echo = { status: 'error', error: { reason: 'invalid_request_error', message: `Invalid API key "${mock.apiKey.slice(0, 9)}…"` } };
    mock.inject({ path: '/v1/tags', kind: 'status', status: 400, body: echo });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.match(errorsOf(result.messages)[0].message, /Invalid API key "\*{10}…"/);
    assertNoPiece(result.stdout + result.stderr, mock.apiKey);
  });

  test('a config file with a JSON syntax error next to the key: the error names the file, no 8 characters of the key', async () => {
    const text = `{"api": {"name": "persistiq", "api_key": ${mock.apiKey}, "base_url": "${mock.url}/v1"}}`;
    const result = await runConnector('check', { config: text });
    // check gives its verdict on a config that cannot be read, as on any other: FAILED, exit 0.
    assert.equal(result.code, 0);
    const [error] = errorsOf(result.messages);
    assert.equal(error.failure_type, 'config_error');
    assert.match(error.message, /^The config file .+config\.json is not valid JSON: Unexpected token 'p'$/);
    assertNoPiece(result.stdout + result.stderr, mock.apiKey);
  });
});

describe("clocks: a wait given as an instant is on the server's clock", () => {
  for (const [skew, header] of [
    [-3_600_000, 'Retry-After'],
    [3_600_000, 'X-RateLimit-Reset'],
  ] as const) {
    test(`a server an hour ${skew < 0 ? 'behind' : 'ahead'} asks, by ${header}, to wait 2 s on its clock (its Date header tells it): one retry after about 2 s`, async () => {
      const mock = await new PersistIqMock({ rateLimit: false }).start();
      try {
        mock.clockSkewMs = skew;
        const resetAt = Date.now() + skew + 2000;
        const headers: Record<string, string> =
          header === 'Retry-After' ? { 'Retry-After': new Date(resetAt).toUTCString() } : { 'X-RateLimit-Reset': String(Math.ceil(resetAt / 1000)) };
        mock.inject({ path: '/v1/tags', kind: 'status', status: 429, headers, body: { status: 'error', error: { reason: 'too_many_requests', message: 'slow down' } } });
        const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ tags: 'full_refresh' }) });
        assert.equal(result.code, 0, result.stdout.slice(-600));
        const retries = logsOf(result.messages, 'WARN').filter((line) => / retry \d\/\d+ in /.test(line));
        assert.equal(retries.length, 1, retries.join('\n'));
        const seconds = Number(/ in ([\d.]+) s$/.exec(retries[0])![1]);
        assert.ok(seconds >= 0.5 && seconds <= 3.5, `waited ${seconds} s`);
        assert.equal(mock.requests.filter((r) => r.path === '/v1/tags').length, 2);
      } finally {
        await mock.close();
      }
    });
  }
});

describe('clocks: zone-less timestamps are UTC, on any host', () => {
  for (const tz of ['Asia/Tokyo', 'America/Los_Angeles']) {
    test(`TZ=${tz}: zone-less updated_at values are compared as UTC; the state is written with its zone`, async () => {
      const mock = await new MindstampMock().start();
      try {
        const videos = [
          { id: 1, title: 'after', updated_at: '2024-03-01 05:00:00' },
          { id: 2, title: 'before', updated_at: '2024-02-29 20:00:00' },
        ];
        mock.inject({ path: '/api/v1/videos', kind: 'rewrite', rewrite: () => videos });
        const result = await runConnector('read', {
          config: mock.connectorConfig(),
          catalog: catalogFor({ videos: 'incremental' }),
          state: streamStates({ videos: { updated_at: '2024-03-01T00:00:00Z' } }),
          env: { TZ: tz },
        });
        assert.equal(result.code, 0);
        assert.deepEqual(
          recordsOf(result.messages, 'videos').map((v) => v.id),
          [1],
        );
        assert.deepEqual(
          statesOf(result.messages, 'videos').map((s) => s.stream.stream_state),
          [{ updated_at: '2024-03-01T05:00:00Z' }],
        );
      } finally {
        await mock.close();
      }
    });
  }
});

describe('Fullstory: an error in a 200, a leap second', () => {
  let mock: FullstoryMock;
  before(async () => {
    mock = await new FullstoryMock({ bundles: 3 }).start();
  });
  after(() => mock.close());

  test('a list answered HTTP 200 with only {code, message} fails the stream, not a complete one of 0 records', async () => {
    mock.inject({ path: '/segments/v1', kind: 'rewrite', rewrite: () => ({ code: 'unavailable', message: 'The service is temporarily unavailable' }) });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ segments: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e: Message) => [e.failure_type, e.message]),
      [
        [
          'system_error',
          'Stream "segments": Fullstory answered GET /segments/v1?limit=100 with an error instead of "segments": The service is temporarily unavailable (code "unavailable")',
        ],
      ],
    );
  });

  test('a leap-second start_date lists bundles from the second before it, and saves a number', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig({ start_date: '2016-12-31T23:59:60Z' }), catalog: catalogFor({ export_bundles: 'incremental' }) });
    assert.equal(result.code, 0, result.stdout.slice(-800));
    assert.equal(
      mock.requests
        .slice(start)
        .find((r) => r.path.endsWith('/list'))!
        .query.get('start'),
      '1483228799',
    );
    assert.equal(typeof statesOf(result.messages, 'export_bundles').at(-1)!.stream.stream_state.Stop, 'number');
  });
});

describe('signals: every line written is whole, whatever signal ends the sync', () => {
  /** A read whose stdout (a real pipe, read all along) gets `signal` once `afterBytes` have come. */
  async function readUntilSignal(config: unknown, catalog: unknown, signal: NodeJS.Signals, afterBytes: number) {
    const child = spawn(process.execPath, [MAIN, 'read', '--config', writeTemp('config.json', config), '--catalog', writeTemp('catalog.json', catalog)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      bytes += chunk.length;
      if (!signalled && bytes >= afterBytes) signalled = child.kill(signal);
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, ended] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    return { code, ended, signalled, stdout: Buffer.concat(chunks).toString('utf8') };
  }

  for (const [signal, exitCode] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const) {
    test(`${signal} mid-sync (3 times): exit ${exitCode}, whole lines only, a WARN saying so, no STATE ahead of its records`, async () => {
      const mock = await new FullstoryMock({ bundles: 8, eventsPerBundle: 1500 }).start();
      try {
        for (let run = 0; run < 3; run++) {
          const result = await readUntilSignal(mock.connectorConfig({ start_date: undefined }), catalogFor({ events: 'incremental' }), signal, 300_000 + run * 250_000);
          assert.ok(result.signalled, 'the signal came mid-sync');
          assert.equal(result.code, exitCode, `run ${run}: exit ${result.code} (${result.ended})`);
          assert.ok(result.stdout.endsWith('\n'), `run ${run}: the output ends mid-line: …${result.stdout.slice(-80)}`);
          const messages = result.stdout.trimEnd().split('\n').map(assertProtocolLine) as Message[];
          assertStatesCountTheirRecords(messages);
          const cancelled = new RegExp(
            `^Sync cancelled \\(${signal}\\); stopped: "events" after [\\d,]+ records at bundle \\d of 8 \\(id \\d+, ending [\\dT:.Z-]+\\): the lines read so far are written, then nothing more$`,
          );
          assert.ok(
            logsOf(messages, 'WARN').some((line) => cancelled.test(line)),
            `run ${run}: no WARN ${JSON.stringify(logsOf(messages, 'WARN'))}`,
          );
        }
      } finally {
        await mock.close();
      }
    });
  }
});

describe('rate limits: a burst of 429s does not cap the pace for the rest of the sync', () => {
  test('Mindstamp at 50 requests a second; 5 s in which every request is refused; 30 s later the pace is back at 85 % of 50/s', async () => {
    const mock = await new MindstampMock({ counts: { views: 30_000, interactions: 0 }, rateLimit: { limit: 50, windowMs: 1000 } }).start();
    try {
      const limit = mock.rateLimit!;
      const config = mock.connectorConfig({ page_size: 10 });
      const run = runConnector('read', { config, catalog: catalogFor({ views: 'full_refresh' }), timeoutMs: 120_000 });
      // Settled after 10 s; then the burst, as a server refuses everything during an outage.
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      mock.rateLimit = { ...limit, limit: 0 };
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      mock.rateLimit = limit;
      const burstEnded = Date.now();
      const result = await run;
      assert.equal(result.code, 0, result.stdout.slice(-600));
      assert.equal(recordsOf(result.messages, 'views').length, mock.records('views').length);
      // Accepted requests in the 10 s from 20 s to 30 s after the burst.
      const accepted = mock.requests.filter((r) => r.at >= burstEnded + 20_000 && r.at < burstEnded + 30_000).length;
      console.log(`rate-limit burst: ${accepted / 10} requests a second 20-30 s after a 5 s burst of 429s (the server accepts 50)`);
      assert.ok(accepted >= 0.85 * 50 * 10, `${accepted / 10} requests a second 20-30 s after the burst`);
    } finally {
      await mock.close();
    }
  });
});
