import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fullstory } from '../../src/apis/fullstory';
import { persistiq } from '../../src/apis/persistiq';
import { mindstamp } from '../../src/apis/mindstamp';
import { parseState, secretValues, validateCatalog, validateConfig } from '../../src/cli/config';
import { ConfigError } from '../../src/protocol/errors';

/** Asserts a ConfigError with exactly this message. */
const rejects = (fn: () => unknown, message: string) =>
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });

describe('validateConfig', () => {
  const valid = (api: Record<string, unknown> = {}) => ({ api: { name: 'persistiq', api_key: 'k', ...api } });

  test('applies the defaults from the spec and keeps given values', () => {
    assert.deepEqual(validateConfig({ ...valid({ max_retries: 2 }), user_agent: 'me' }, [persistiq]), {
      api: {
        name: 'persistiq',
        api_key: 'k',
        max_retries: 2,
        base_url: 'https://api.persistiq.com/v1',
        // No default: empty follows the limit PersistIQ announces for the key.
        max_requests_in_flight: 32,
        retry_initial_delay_seconds: 1,
        max_wait_seconds: 600,
        request_timeout_seconds: 60,
        request_deadline_seconds: 300,
        max_response_megabytes: 256,
      },
      user_agent: 'me',
    });
  });

  test('a missing api_key names the field', () => {
    rejects(() => validateConfig({ api: { name: 'persistiq' } }, [persistiq]), 'Invalid config: config.api.api_key is required');
  });

  test('an unknown or missing api.name lists the choices', () => {
    rejects(() => validateConfig({ api: { name: 'hubspot', api_key: 'k' } }, [persistiq]), 'Config field api.name is "hubspot", which is not one of: persistiq');
    rejects(() => validateConfig({ api: { api_key: 'k' } }, [persistiq]), 'Config field api.name is required: one of persistiq');
  });

  test('a config or api that is not an object', () => {
    rejects(() => validateConfig(null, [persistiq]), 'Config must be a JSON object');
    rejects(() => validateConfig([], [persistiq]), 'Config must be a JSON object');
    rejects(() => validateConfig({}, [persistiq]), 'Config field api is required and must be an object, e.g. {"api": {"name": "persistiq", "api_key": "…"}}');
    rejects(() => validateConfig({ api: 'persistiq' }, [persistiq]), 'Config field api is required and must be an object, e.g. {"api": {"name": "persistiq", "api_key": "…"}}');
  });

  test('a flat config, as Airbyte connectors take, is answered with the nested shape', () => {
    rejects(
      () => validateConfig({ api_key: 'k', start_date: '2024-01-01T00:00:00Z' }, [persistiq]),
      'Config fields go inside "api", which also names the API (one of persistiq): {"api": {"name": "persistiq", "api_key": "…", "start_date": "…"}}',
    );
    // An image of all three: Airbyte's PersistIQ config is not told to name Fullstory; Fullstory's (it has uid) is.
    rejects(
      () => validateConfig({ api_key: 'k' }, [fullstory, mindstamp, persistiq]),
      'Config fields go inside "api", which also names the API (one of fullstory, mindstamp, persistiq): {"api": {"name": "<fullstory|mindstamp|persistiq>", "api_key": "…"}}',
    );
    rejects(
      () => validateConfig({ api_key: 'k', uid: 'u1' }, [fullstory, mindstamp, persistiq]),
      'Config fields go inside "api", which also names the API (one of fullstory, mindstamp, persistiq): {"api": {"name": "fullstory", "api_key": "…"}}',
    );
  });

  test('api.name in any case is the API; a near miss is offered the nearest name', () => {
    assert.equal(validateConfig({ api: { name: ' PersistIQ ', api_key: 'k' } }, [persistiq]).api.name, 'persistiq');
    rejects(
      () => validateConfig({ api: { name: 'persistqi', api_key: 'k' } }, [persistiq]),
      'Config field api.name is "persistqi", which is not one of: persistiq. Did you mean "persistiq"?',
    );
  });

  test('a future start_date is rejected', () => {
    rejects(
      () => validateConfig(valid({ start_date: '2999-01-01T00:00:00Z' }), [persistiq]),
      'Config field api.start_date (2999-01-01T00:00:00Z) is in the future; nothing could be read',
    );
    assert.equal(validateConfig(valid({ start_date: '2020-01-01T00:00:00Z' }), [persistiq]).api.start_date, '2020-01-01T00:00:00Z');
  });

  test('a malformed start_date gets one message, with the expected shape and the value given; a bare date is that day at 00:00 UTC', () => {
    rejects(
      () => validateConfig(valid({ start_date: '2024/01/01' }), [persistiq]),
      'Invalid config: config.api.start_date must look like YYYY-MM-DDTHH:mm:ssZ (or a bare date, YYYY-MM-DD), got "2024/01/01"',
    );
    assert.equal(validateConfig(valid({ start_date: '2024-01-01' }), [persistiq]).api.start_date, '2024-01-01T00:00:00Z');
  });

  test('every invalid field is named, one message each', () => {
    rejects(
      () => validateConfig(valid({ api_key: '', max_retries: 50, base_url: 'ftp://x', requests_per_minute: 'fast' }), [persistiq]),
      'Invalid config: config.api.api_key must NOT have fewer than 1 characters; config.api.base_url must match pattern "^https?://", got "ftp://x"; config.api.requests_per_minute must be integer, got "fast"; config.api.max_retries must be <= 20, got 50',
    );
  });
});

describe('validateCatalog', () => {
  const entry = (name: string, syncMode: unknown = 'full_refresh') => ({ stream: { name, json_schema: {} }, sync_mode: syncMode, destination_sync_mode: 'append' });

  test('returns the configured streams when valid', () => {
    const catalog = { streams: [entry('users'), entry('leads', 'incremental')] };
    assert.deepEqual(validateCatalog(catalog, persistiq), catalog.streams);
  });

  test('a stream the API does not have is kept for the read to report alone (the others still sync)', () => {
    assert.deepEqual(
      validateCatalog({ streams: [entry('users'), entry('contacts')] }, persistiq).map((s) => s.stream.name),
      ['users', 'contacts'],
    );
  });

  test('incremental on a stream without cursor', () => {
    rejects(
      () => validateCatalog({ streams: [entry('tags', 'incremental')] }, persistiq),
      'catalog streams[0]: stream "tags" has no cursor, so sync_mode must be full_refresh, not incremental',
    );
  });

  test('a duplicate stream', () => {
    rejects(() => validateCatalog({ streams: [entry('users'), entry('leads'), entry('users')] }, persistiq), 'catalog streams[2]: stream "users" appears twice');
  });

  test('a bad or missing sync_mode', () => {
    rejects(
      () => validateCatalog({ streams: [entry('users', 'append')] }, persistiq),
      'catalog streams[0].sync_mode for stream "users" must be full_refresh or incremental, got "append"',
    );
    rejects(
      () => validateCatalog({ streams: [entry('leads'), { stream: { name: 'users' } }] }, persistiq),
      'catalog streams[1].sync_mode for stream "users" must be full_refresh or incremental, got undefined',
    );
  });

  test('a missing stream name or streams list', () => {
    rejects(() => validateCatalog({ streams: [{ sync_mode: 'full_refresh' }] }, persistiq), 'catalog streams[0].stream.name is required');
    rejects(() => validateCatalog({ streams: [null] }, persistiq), 'catalog streams[0].stream.name is required');
    rejects(() => validateCatalog({}, persistiq), 'Catalog must be a JSON object with a "streams" list');
    rejects(() => validateCatalog(null, persistiq), 'Catalog must be a JSON object with a "streams" list');
  });
});

describe('parseState', () => {
  const silent = () => undefined;
  const streamState = (name: unknown, state: unknown, type: unknown = 'STREAM') => ({ type, stream: { stream_descriptor: { name }, stream_state: state } });

  test('accepts the list of per-stream STATE messages', () => {
    const states = parseState([streamState('leads', { updated_at: '2024-01-01T00:00:00Z' }), streamState('events', { event_at: 'x' })], persistiq, silent);
    assert.deepEqual(
      [...states],
      [
        ['leads', { updated_at: '2024-01-01T00:00:00Z' }],
        ['events', { event_at: 'x' }],
      ],
    );
  });

  test('accepts the legacy object keyed by stream name, and LEGACY messages', () => {
    assert.deepEqual([...parseState({ leads: { updated_at: 'a' }, events: null }, persistiq, silent)], [['leads', { updated_at: 'a' }]]);
    assert.deepEqual([...parseState([{ type: 'LEGACY', data: { events: { created_at: 'b' } } }], persistiq, silent)], [['events', { event_at: 'b' }]]);
  });

  test('states written by 0.1.0 are migrated to the declared cursor key; current ones pass unchanged', () => {
    const states = parseState(
      [
        streamState('events', { Stop: 1700003600 }),
        streamState('settings_geo_history', { 'metadata.lastUpdated': '2024-01-07T00:00:00.000Z' }),
        streamState('settings_domain_history', { lastUpdated: '2024-02-01T00:00:00Z' }),
        streamState('export_bundles', { Stop: 1700003600 }),
      ],
      fullstory,
      silent,
    );
    assert.deepEqual(
      [...states],
      [
        ['events', { ExportBundleStop: 1700003600 }],
        ['settings_geo_history', { lastUpdated: '2024-01-07T00:00:00.000Z' }],
        ['settings_domain_history', { lastUpdated: '2024-02-01T00:00:00Z' }],
        ['export_bundles', { Stop: 1700003600 }],
      ],
    );
  });

  test('a null stream_state (a reset stream) and an empty list give no state', () => {
    assert.equal(parseState([streamState('leads', null)], persistiq, silent).size, 0);
    assert.equal(parseState([], persistiq, silent).size, 0);
    assert.equal(parseState({}, persistiq, silent).size, 0);
  });

  test('the state of a stream this version does not have (a later version dropped it) is ignored with a WARN', () => {
    const logs: string[] = [];
    const log = (level: string, message: string) => logs.push(`${level} ${message}`);
    assert.deepEqual([...parseState([streamState('leads', { updated_at: 'a' }), streamState('deals', { id: 1 })], persistiq, log)], [['leads', { updated_at: 'a' }]]);
    assert.equal(parseState({ deals: {} }, persistiq, log).size, 0);
    assert.deepEqual(logs, [
      'WARN state[1].stream: the state of "deals", which is not a PersistIQ stream of this connector version, is ignored',
      'WARN state: the state of "deals", which is not a PersistIQ stream of this connector version, is ignored',
    ]);
  });

  test('rejects a stream_state that is not an object', () => {
    rejects(() => parseState([streamState('leads', '2024-01-01')], persistiq, silent), 'state[0].stream: the state of stream "leads" must be an object, got string');
    rejects(() => parseState({ leads: [1] }, persistiq, silent), 'state: the state of stream "leads" must be an object, got a list');
  });

  test('rejects a wrong message type, a missing descriptor and non-object messages', () => {
    rejects(() => parseState([streamState('leads', {}, 'GLOBAL')], persistiq, silent), 'state[0].type must be STREAM (per-stream state), got "GLOBAL"');
    rejects(() => parseState([{ type: 'STREAM', stream: {} }], persistiq, silent), 'state[0].stream.stream_descriptor is required for a STREAM state');
    rejects(() => parseState([streamState(7, {})], persistiq, silent), 'state[0].stream: stream name missing');
    rejects(() => parseState(['leads'], persistiq, silent), 'state[0] must be a STATE message object');
  });

  test('rejects null and other types', () => {
    rejects(() => parseState(null, persistiq, silent), 'State must be a list of STREAM state messages or an object keyed by stream name, got null');
    rejects(() => parseState('{}', persistiq, silent), 'State must be a list of STREAM state messages or an object keyed by stream name, got string');
  });
});

describe('secretValues', () => {
  test('finds every airbyte_secret value, even in an invalid config', () => {
    assert.deepEqual(secretValues({ api: { name: 'persistiq', api_key: 'k1', base_url: 'x' } }, [persistiq]), ['k1']);
    assert.deepEqual(secretValues({ api: [{ api_key: 'k2' }, { nested: { api_key: 'k3' } }], api_key: '' }, [persistiq]), ['k2', 'k3']);
    assert.deepEqual(secretValues('not a config', [persistiq]), []);
  });
});
