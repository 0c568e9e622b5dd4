import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catalogFor, errorsOf, runConnector, writeTemp } from '../helpers/connector';

const KEY = 'piq-bad-input-key-4242';
const good = { api: { name: 'persistiq', api_key: KEY, base_url: 'http://127.0.0.1:9/v1' } };
const catalog = catalogFor({ leads: 'incremental', users: 'full_refresh' });

/**
 * Each case must end in exactly one config_error TRACE whose message matches, and exit 1; a check that
 * judged a config exits 0, its verdict in CONNECTION_STATUS (the Python CDK's entrypoint does so).
 */
async function expectConfigError(args: { command?: string; config?: unknown; catalog?: unknown; state?: unknown; extra?: string[]; code?: number }, message: RegExp) {
  const result = await runConnector(args.command ?? 'read', { config: args.config, catalog: args.catalog, state: args.state, secrets: [KEY] }, args.extra);
  assert.equal(result.code, args.code ?? 1, result.stdout);
  const errors = errorsOf(result.messages);
  assert.equal(errors.length, 1, result.stdout);
  assert.equal(errors[0].failure_type, 'config_error');
  assert.match(errors[0].message, message);
  assert.equal(result.messages.filter((m) => m.type === 'RECORD').length, 0);
  return result;
}

describe('bad config, catalog and state: config_error naming the field, exit 1', () => {
  test('config file that is not JSON', async () => {
    const result = await expectConfigError(
      { command: 'check', extra: ['--config', writeTemp('config.json', '{"api": ')], code: 0 },
      /^The config file \/.*config\.json is not valid JSON: /,
    );
    assert.equal(result.messages.at(-1)!.connectionStatus.status, 'FAILED');
  });
  test('config file that does not exist', async () => {
    await expectConfigError({ command: 'discover', extra: ['--config', '/nonexistent/config.json'] }, /^Cannot read the config file \/nonexistent\/config\.json: no such file$/);
  });
  test('missing api.name', async () => {
    await expectConfigError({ config: { api: { api_key: KEY } }, catalog }, /^Config field api\.name is required: one of fullstory, mindstamp, persistiq$/);
  });
  test('unknown api.name', async () => {
    await expectConfigError(
      { config: { api: { name: 'salesforce', api_key: KEY } }, catalog },
      /^Config field api\.name is "salesforce", which is not one of: fullstory, mindstamp, persistiq$/,
    );
  });
  test('missing api_key', async () => {
    await expectConfigError({ config: { api: { name: 'persistiq' } }, catalog }, /^Invalid config: config\.api\.api_key is required$/);
  });
  test('empty api_key', async () => {
    await expectConfigError({ config: { api: { name: 'persistiq', api_key: '' } }, catalog }, /^Invalid config: config\.api\.api_key must NOT have fewer than 1 characters$/);
  });
  test('malformed start_date', async () => {
    await expectConfigError(
      { config: { api: { ...good.api, start_date: '01/02/2024' } }, catalog },
      /^Invalid config: config\.api\.start_date must look like YYYY-MM-DDTHH:mm:ssZ \(or a bare date, YYYY-MM-DD\), got "01\/02\/2024"$/,
    );
  });
  test('start_date in the future', async () => {
    await expectConfigError(
      { config: { api: { ...good.api, start_date: '2999-01-01T00:00:00Z' } }, catalog },
      /^Config field api\.start_date \(2999-01-01T00:00:00Z\) is in the future/,
    );
  });
  test('wrong type for requests_per_minute', async () => {
    await expectConfigError(
      { config: { api: { ...good.api, requests_per_minute: 'fast' } }, catalog },
      /^Invalid config: config\.api\.requests_per_minute must be integer, got "fast"$/,
    );
  });
  test('check with an invalid config reports CONNECTION_STATUS FAILED and exits 0, as for a rejected key', async () => {
    for (const [api, message] of [
      [{ name: 'persistiq' }, /api_key is required/],
      [{ ...good.api, start_date: '2999-01-01T00:00:00Z' }, /^Config field api\.start_date \(2999-01-01T00:00:00Z\) is in the future/],
      [{ ...good.api, start_date: '01/02/2024' }, /^Invalid config: config\.api\.start_date must look like/],
    ] as const) {
      const result = await expectConfigError({ command: 'check', config: { api }, code: 0 }, message);
      assert.equal(result.messages.at(-1)!.connectionStatus.status, 'FAILED');
      assert.match(result.messages.at(-1)!.connectionStatus.message, message);
    }
  });
  test('check without --config is a usage error, no verdict on a config: exit 1', async () => {
    const result = await expectConfigError({ command: 'check' }, /^check needs --config FILE; usage: /);
    assert.equal(result.messages.at(-1)!.connectionStatus.status, 'FAILED');
  });
  test('unknown stream in catalog (alone: the others would still sync)', async () => {
    await expectConfigError(
      { config: good, catalog: catalogFor({ opportunities: 'full_refresh' }) },
      /^Stream "opportunities" is not a PersistIQ stream of this connector version \(known: users, leads, .*\); refresh the source schema in Airbyte and reselect the streams$/,
    );
  });
  test('incremental on a stream without cursor', async () => {
    await expectConfigError(
      { config: good, catalog: catalogFor({ users: 'incremental' }) },
      /^catalog streams\[0\]: stream "users" has no cursor, so sync_mode must be full_refresh, not incremental$/,
    );
  });
  test('invalid sync_mode (as CAT sends it)', async () => {
    const bad = { streams: [{ stream: { name: '__AIRBYTE__stream_that_does_not_exist', json_schema: {} }, sync_mode: 'INVALID', destination_sync_mode: 'INVALID' }] };
    await expectConfigError(
      { config: good, catalog: bad },
      /^catalog streams\[0\]\.sync_mode for stream "__AIRBYTE__stream_that_does_not_exist" must be full_refresh or incremental, got "INVALID"$/,
    );
  });
  test('catalog without streams', async () => {
    await expectConfigError({ config: good, catalog: { stream: [] } }, /^Catalog must be a JSON object with a "streams" list$/);
  });
  test('read without --catalog', async () => {
    await expectConfigError({ config: good }, /^read needs --catalog FILE/);
  });
  test('state of the wrong shape', async () => {
    await expectConfigError({ config: good, catalog, state: '"leads"' }, /^State must be a list of STREAM state messages or an object keyed by stream name, got string$/);
    await expectConfigError({ config: good, catalog, state: [{ type: 'GLOBAL', global: {} }] }, /^state\[0\]\.type must be STREAM \(per-stream state\), got "GLOBAL"$/);
    const notObject = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'leads' }, stream_state: 'x' } }];
    await expectConfigError({ config: good, catalog, state: notObject }, /^state\[0\]\.stream: the state of stream "leads" must be an object, got string$/);
  });
  test('unknown command and unknown flag', async () => {
    await expectConfigError({ command: 'sync', config: good }, /^Unknown command "sync"; usage: /);
    await expectConfigError({ command: 'check', config: good, extra: ['--verbose'] }, /Unknown option '--verbose'/);
  });
  test('a state value that is not a date fails the stream with config_error', async () => {
    const state = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'leads' }, stream_state: { updated_at: 'yesterday' } } }];
    const result = await runConnector('read', { config: good, catalog: catalogFor({ leads: 'incremental' }), state });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['config_error', 'Stream "leads": State for stream "leads": "updated_at" must be an ISO 8601 date-time, got "yesterday"']],
    );
  });

  test('state file that is not JSON, catalog file that does not exist', async () => {
    await expectConfigError({ config: good, catalog, extra: ['--state', writeTemp('state.json', '[{"type":')] }, /^The state file \/.*state\.json is not valid JSON: /);
    await expectConfigError({ config: good, extra: ['--catalog', '/nonexistent/catalog.json'] }, /^Cannot read the catalog file \/nonexistent\/catalog\.json: no such file$/);
  });
  test('Mindstamp and Fullstory fields: wrong type, bad URL, a poll interval of 0', async () => {
    await expectConfigError(
      { config: { api: { name: 'mindstamp', api_key: 12345 } }, catalog: catalogFor({ videos: 'full_refresh' }) },
      /^Invalid config: config\.api\.api_key must be string$/,
    );
    const fullstory = { name: 'fullstory', api_key: KEY };
    await expectConfigError(
      { config: { api: { ...fullstory, export_base_url: 'ftp://export.example.com' } }, catalog: catalogFor({ events: 'full_refresh' }) },
      /config\.api\.export_base_url must match pattern/,
    );
    await expectConfigError(
      { config: { api: { ...fullstory, operation_poll_seconds: 0 } }, catalog: catalogFor({ events: 'full_refresh' }) },
      /^Invalid config: config\.api\.operation_poll_seconds must be > 0, got 0$/,
    );
  });
  test('a Fullstory bundle state that is not unix seconds fails the stream with config_error', async () => {
    const state = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: { ExportBundleStop: '2024-01-01' } } }];
    const result = await runConnector('read', {
      config: { api: { name: 'fullstory', api_key: KEY, export_base_url: 'http://127.0.0.1:9/x' } },
      catalog: catalogFor({ events: 'incremental' }),
      state,
      secrets: [KEY],
    });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['config_error', 'Stream "events": State for stream "events": "ExportBundleStop" must be a unix time in seconds, got "2024-01-01"']],
    );
  });
});
