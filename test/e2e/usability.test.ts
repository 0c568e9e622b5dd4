// What a data engineer meets first: help and version, debug logs, progress they can watch, and
// errors that say what to do (an HTML page for an answer, a directory for a file, a stream the API
// does not have, a Fullstory key below Admin level).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { catalogFor, errorsOf, logsOf, MAIN, recordsOf, runConnector, statusesOf } from '../helpers/connector';
import { repoRoot } from '../helpers/shared';
import { FullstoryMock } from '../mocks/fullstory';
import { PersistIqMock } from '../mocks/persistiq';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('command line', () => {
  test('--help prints the usage and exits 0; --version prints the version', () => {
    const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: main\.js spec \| check --config FILE \| discover --config FILE \| read --config FILE --catalog FILE \[--state FILE\] \[--debug\]/);
    assert.match(help.stdout, /--debug {4}DEBUG logs of each request/);
    // Full addresses: the image holds no docs folder.
    assert.match(
      help.stdout,
      /\nDocs: https:\/\/github\.com\/source-saas-trio\/source-saas-trio\/blob\/main\/docs\/README\.md\n {2}per API: https:\/\/github\.com\/.*\/docs\/<api>\.md\n$/,
    );
    assert.doesNotMatch(help.stdout, /Docs: docs\//);
    const shown = spawnSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' });
    assert.equal(shown.status, 0);
    assert.equal(shown.stdout, `source-saas-trio ${version}\n`);
  });

  test('--help after a command prints the same help, exit 0 (not "Unknown option")', () => {
    const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' }).stdout;
    for (const args of [['check', '--help'], ['read', '--config', 'x.json', '-h'], ['help']]) {
      const shown = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
      assert.equal(shown.status, 0, args.join(' '));
      assert.equal(shown.stdout, help, args.join(' '));
    }
  });

  test('a config path that is a directory says so (Docker makes one where a mounted file is missing)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'connector-'));
    try {
      const result = await runConnector('discover', {}, ['--config', dir]);
      assert.equal(result.code, 1);
      assert.deepEqual(
        errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
        [['config_error', `The config file ${dir} is a directory, not a file. Docker creates a directory where a mounted file was missing: check the path on the host.`]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a read a user can watch', () => {
  let mock: PersistIqMock;
  before(async () => {
    mock = await new PersistIqMock({ rateLimit: false }).start();
  });
  after(() => mock.close());

  test('a LOG at start, progress while a stream runs, a LOG at each stream end, and a summary', async () => {
    // Each page takes 400 ms; progress is due every 0.2 s here (30 s by default).
    mock.inject({ path: '/v1/leads', kind: 'delay', ms: 400, times: 100 });
    const result = await runConnector('read', {
      config: mock.connectorConfig(),
      catalog: catalogFor({ leads: 'incremental', tags: 'full_refresh' }),
      env: { PROGRESS_INTERVAL_SECONDS: '0.2' },
    });
    mock.faults.length = 0;
    assert.equal(result.code, 0);
    const logs = logsOf(result.messages, 'INFO');
    assert.equal(logs[0], `source-saas-trio ${version}: reading PersistIQ, 2 stream(s): leads (incremental), tags (full_refresh)`);
    const progress = logs.filter((line) => /^Stream "leads": [\d,]+ records? so far in [\d.]+ s \([\d,]+\/s\), [\d,]+ requests?$/.test(line));
    assert.ok(progress.length >= 2, `progress lines: ${JSON.stringify(logs)}`);
    const leads = mock.data.leads.length;
    const pages = Math.ceil(leads / 100);
    assert.ok(
      logs.includes(
        `Stream "tags" COMPLETE: ${mock.data.tags.length} records, 1 request, 0 retries in ${/in ([\d.]+ s)$/.exec(logs.find((l) => l.startsWith('Stream "tags" COMPLETE')) ?? '')?.[1]}`,
      ),
    );
    assert.match(
      logs.find((l) => l.startsWith('Stream "leads" COMPLETE')) ?? '',
      new RegExp(`^Stream "leads" COMPLETE: ${leads.toLocaleString('en-US')} records, ${pages} requests, 0 retries in [\\d.]+ s$`),
    );
    assert.equal(
      logs.at(-1),
      `Sync summary: 2 streams, ${(leads + mock.data.tags.length).toLocaleString('en-US')} records, 0 incomplete: leads COMPLETE (${leads.toLocaleString('en-US')} records); tags COMPLETE (${mock.data.tags.length} records)`,
    );
  });

  test('Fullstory events: progress names the bundle and how many there are (a lower bound until the 20-bundle list ends)', async () => {
    const fullstory = await new FullstoryMock({ bundles: 25, eventsPerBundle: 5 }).start();
    try {
      // Each download takes 250 ms; progress is due every 0.1 s.
      fullstory.inject({ path: /\/get$/, kind: 'delay', ms: 250, times: 25 });
      const result = await runConnector('read', {
        config: fullstory.connectorConfig({ start_date: undefined }),
        catalog: catalogFor({ events: 'incremental' }),
        env: { PROGRESS_INTERVAL_SECONDS: '0.1' },
      });
      assert.equal(result.code, 0);
      const positions = new Set(logsOf(result.messages, 'INFO').flatMap((line) => /^Stream "events": .* at (bundle \d+ of [^(]+)\(/.exec(line)?.[1].trim() ?? []));
      const expected = Array.from({ length: 25 }, (_, i) => `bundle ${i + 1} of ${i < 20 ? 'at least 20' : '25'}`);
      assert.ok(positions.size >= 10, [...positions].join('\n'));
      for (const position of positions) assert.ok(expected.includes(position), position);
      assert.ok(
        [...positions].some((p) => p.endsWith('of 25')),
        [...positions].join('\n'),
      );
    } finally {
      await fullstory.close();
    }
  });

  test('--debug and LOG_LEVEL=debug log each request: method, path, status, duration; never the key', async () => {
    for (const run of [
      { args: ['--debug'], env: {} as Record<string, string> },
      { args: [], env: { LOG_LEVEL: 'debug' } },
    ]) {
      const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ tags: 'full_refresh' }), env: run.env }, run.args);
      assert.equal(result.code, 0);
      assert.deepEqual(
        logsOf(result.messages, 'DEBUG').map((line) => line.replace(/\d+ ms$/, 'N ms')),
        ['PersistIQ: GET /v1/tags → 200 in N ms'],
      );
    }
    const quiet = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.deepEqual(logsOf(quiet.messages, 'DEBUG'), []);
  });

  test('a stream the API does not have: the others sync, it ends INCOMPLETE with a config_error asking for a schema refresh, exit 1', async () => {
    const catalog = catalogFor({ tags: 'full_refresh', deals: 'full_refresh', users: 'full_refresh' });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog });
    assert.equal(result.code, 1);
    assert.deepEqual(recordsOf(result.messages, 'tags'), mock.data.tags);
    assert.deepEqual(recordsOf(result.messages, 'users'), mock.data.users);
    assert.deepEqual(statusesOf(result.messages, 'deals'), ['STARTED', 'INCOMPLETE']);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.stream_descriptor?.name, e.message]),
      [
        [
          'config_error',
          'deals',
          'Stream "deals" is not a PersistIQ stream of this connector version (known: users, leads, campaigns, lead_statuses, lead_fields, events, dnc_domains, tags); refresh the source schema in Airbyte and reselect the streams',
        ],
      ],
    );
  });

  test('an HTML page for an answer names the host and points at api.base_url', async () => {
    mock.inject({ path: '/v1/tags', kind: 'rewrite', rewrite: () => '<!DOCTYPE html><html><body>Welcome to nginx!</body></html>' });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    const host = new URL(mock.url).host;
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [
        [
          'config_error',
          `Stream "tags": ${host} answered GET /v1/tags with an HTML page, not PersistIQ's JSON (HTTP 200). Check api.base_url; it should be the API's root, like https://api.persistiq.com/v1`,
        ],
      ],
    );
  });
});

describe('check with a Fullstory key below Admin level', () => {
  test('SUCCEEDED, with a WARN that the privacy streams will fail', async () => {
    const mock = await new FullstoryMock().start();
    try {
      const result = await runConnector('check', { config: mock.connectorConfig({ api_key: mock.architectKey }) });
      assert.deepEqual(result.messages.find((m) => m.type === 'CONNECTION_STATUS')?.connectionStatus, { status: 'SUCCEEDED' });
      assert.deepEqual(logsOf(result.messages, 'WARN'), [
        'Fullstory: this key is below Admin level (GET /settings/recording/v1/privacy answered 403): the streams settings_privacy and settings_privacy_history will fail; the others can be read. Use an Admin key to read them.',
      ]);
      const admin = await runConnector('check', { config: mock.connectorConfig() });
      assert.deepEqual(logsOf(admin.messages, 'WARN'), []);
    } finally {
      await mock.close();
    }
  });
});
