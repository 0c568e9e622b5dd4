// The rules behind Airbyte's acceptance tests (CAT 3.9.8), checked on every run against the bundled
// mocks with the files CAT is given (acceptance-test-config.yml at the root, integration_tests/).
// CAT itself runs outside CI (docs/development.md: Acceptance tests); these are the rules it failed on.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseJsonLossless } from '../../src/json/text';
import { acceptanceTestConfig, CAT_APIS, catConfig, catInvalidConfig, readRepoJson, type CatMock } from '../helpers/cat';
import { recordsOf, runConnector, statesOf, type Message } from '../helpers/connector';
import { losslessMessages } from '../helpers/fullstory';
import { repoRoot } from '../helpers/shared';

/** The keys CAT 3.9.8's config models accept (connector_acceptance_test/config.py; all `extra = "forbid"`). */
const CAT_KEYS: Record<string, string[]> = {
  top: ['connector_image', 'acceptance_tests', 'base_path', 'test_strictness_level', 'custom_environment_variables'],
  spec: ['spec_path', 'config_path', 'timeout_seconds', 'deployment_mode', 'backward_compatibility_tests_config', 'auth_default_method'],
  connection: ['config_path', 'status', 'timeout_seconds', 'deployment_mode'],
  discovery: ['config_path', 'timeout_seconds', 'deployment_mode', 'backward_compatibility_tests_config', 'validate_primary_keys_data_type'],
  basic_read: [
    'config_path',
    'deployment_mode',
    'configured_catalog_path',
    'empty_streams',
    'expect_records',
    'validate_schema',
    'validate_stream_statuses',
    'validate_state_messages',
    'validate_primary_keys_data_type',
    'fail_on_extra_columns',
    'validate_data_points',
    'expect_trace_message_on_failure',
    'timeout_seconds',
    'file_types',
    'client_container_config',
  ],
  full_refresh: ['config_path', 'configured_catalog_path', 'timeout_seconds', 'deployment_mode', 'ignored_fields', 'client_container_config'],
  incremental: ['config_path', 'configured_catalog_path', 'future_state', 'timeout_seconds', 'deployment_mode', 'skip_comprehensive_incremental_tests', 'client_container_config'],
  expect_records: ['bypass_reason', 'path', 'exact_order'],
  future_state: ['future_state_path', 'missing_streams', 'bypass_reason', 'cursor_format'],
  backward_compatibility_tests_config: ['previous_connector_version', 'disable_for_version'],
};

const extraKeys = (object: Record<string, unknown>, model: string) => Object.keys(object).filter((key) => !CAT_KEYS[model].includes(key));

/** The test of `section` for this API (by its secrets/<api>_config.json). */
const catTest = (section: string, api: string) => acceptanceTestConfig().acceptance_tests[section].tests.find((t: Message) => t.config_path === `secrets/${api}_config.json`);

const nonNullTypes = (schema: Message): string[] => [schema.type].flat().filter((type: string) => type !== 'null');
const hasJsonType = (value: unknown, type: string): boolean =>
  type === 'string'
    ? typeof value === 'string'
    : type === 'integer'
      ? Number.isInteger(value)
      : type === 'number'
        ? typeof value === 'number'
        : type === 'object'
          ? !!value && typeof value === 'object'
          : true;

describe('CAT config file', () => {
  test('sits at the root, loads under CAT 3.9.8 (no unknown keys), and every path resolves from its folder', () => {
    assert.equal(existsSync(join(repoRoot, 'integration_tests', 'acceptance-test-config.yml')), false, 'one config, at the connector root');
    const cat = acceptanceTestConfig();
    assert.deepEqual(extraKeys(cat, 'top'), []);
    for (const [section, { tests }] of Object.entries(cat.acceptance_tests as Record<string, { tests: Message[] }>)) {
      for (const entry of tests) {
        assert.deepEqual(extraKeys(entry, section), [], section);
        for (const nested of ['expect_records', 'future_state', 'backward_compatibility_tests_config']) {
          if (entry[nested]) assert.deepEqual(extraKeys(entry[nested], nested), [], `${section}.${nested}`);
        }
      }
    }
    const paths = JSON.stringify(cat)
      .match(/"(integration_tests|spec)\/[^"]+"/g)!
      .map((p) => p.slice(1, -1));
    for (const path of paths) assert.ok(existsSync(join(repoRoot, path)), path);
    for (const api of CAT_APIS) {
      for (const section of ['spec', 'connection', 'discovery', 'basic_read', 'full_refresh', 'incremental']) assert.ok(catTest(section, api.name), `${section} tests ${api.name}`);
      for (const section of ['spec', 'discovery'])
        assert.equal(catTest(section, api.name).backward_compatibility_tests_config.disable_for_version, readRepoJson('package.json').version);
    }
  });
});

for (const api of CAT_APIS) {
  describe(`CAT rules for ${api.name}, against its mock`, () => {
    let mock: CatMock;
    let config: { api: Record<string, unknown> };
    let streams: Map<string, Message>;
    before(async () => {
      mock = await api.mock();
      config = catConfig(api, mock);
      const discovered = await runConnector('discover', { config });
      streams = new Map((discovered.messages[0].catalog.streams as Message[]).map((stream) => [stream.name, stream]));
    });
    after(() => mock.close());

    test("the shipped catalogs name each cursor and primary key as discover does (CAT prefers the catalog's cursor_field)", () => {
      for (const path of [
        `catalogs/${api.name}.json`,
        `integration_tests/${api.name}_configured_catalog.json`,
        `integration_tests/${api.name}_configured_catalog_incremental.json`,
      ]) {
        for (const configured of readRepoJson(path).streams as Message[]) {
          const discovered = streams.get(configured.stream.name)!;
          const where = `${path}: ${configured.stream.name}`;
          assert.deepEqual(configured.stream.default_cursor_field, discovered.default_cursor_field, where);
          if (configured.cursor_field && configured.cursor_field.length > 0) assert.deepEqual(configured.cursor_field, discovered.default_cursor_field, where);
          if (configured.primary_key) assert.deepEqual(configured.primary_key, discovered.source_defined_primary_key, where);
        }
      }
    });

    test('basic read: the expected records, each valid against its schema (formats on), no undeclared column', async () => {
      const read = await runConnector('read', { config, catalog: readRepoJson(`integration_tests/${api.name}_configured_catalog.json`) });
      assert.equal(read.code, 0);
      // Compared without JSON.parse's rounding, so 64-bit ids must match digit for digit.
      const text = (line: Message) => JSON.stringify({ stream: line.stream ?? line.record.stream, data: line.data ?? line.record.data });
      const actual = losslessMessages(read.stdout)
        .filter((m) => m.type === 'RECORD' && !api.ownRecord?.(m.record.stream, m.record.data))
        .map(text);
      const expected = readFileSync(join(repoRoot, catTest('basic_read', api.name).expect_records.path), 'utf8')
        .trim()
        .split('\n');
      assert.deepEqual(expected.map((line) => text(parseJsonLossless(line) as Message)).sort(), actual.sort());

      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      const validators = new Map([...streams].map(([name, stream]) => [name, ajv.compile(stream.json_schema)]));
      for (const message of read.messages.filter((m) => m.type === 'RECORD')) {
        const { stream, data } = message.record;
        const validate = validators.get(stream)!;
        assert.ok(validate(data), `${stream}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(data).slice(0, 300)}`);
        const columns = Object.keys(streams.get(stream)!.json_schema.properties as object);
        assert.deepEqual(
          Object.keys(data as object).filter((key) => !columns.includes(key)),
          [],
          stream,
        );
      }
    });

    test('incremental: every state holds the cursor value at the declared cursor path, of the cursor property type', async () => {
      const catalog = readRepoJson(`integration_tests/${api.name}_configured_catalog_incremental.json`);
      const read = await runConnector('read', { config, catalog });
      assert.equal(read.code, 0);
      for (const { stream } of catalog.streams as Message[]) {
        const cursor = streams.get(stream.name)!.default_cursor_field as string[];
        // CAT looks the cursor's first key up in the state and types it by that top-level property.
        const types = nonNullTypes(streams.get(stream.name)!.json_schema.properties[cursor[0]]);
        const states = statesOf(read.messages, stream.name).map((s) => s.stream.stream_state);
        assert.ok(states.length > 0, stream.name);
        for (const state of states.filter((s) => Object.keys(s).length > 0)) {
          let value = state;
          // CAT walks the whole state for keys named like the cursor: bookkeeping beside it (Fullstory's
          // pending export operations) must not use that name.
          for (const key of cursor) {
            assert.ok(Object.keys(value).includes(key), `${stream.name}: state ${JSON.stringify(state)} for cursor ${cursor}`);
            const { [key]: cursorValue, ...rest } = value;
            assert.ok(!JSON.stringify(rest).includes(`"${key}":`), `${stream.name}: another "${key}" in ${JSON.stringify(state)}`);
            value = cursorValue;
          }
          assert.ok(
            types.some((type) => hasJsonType(state[cursor[0]], type)),
            `${stream.name}: ${JSON.stringify(state)} is not of type ${types}`,
          );
        }
      }
    });

    test('a state from the far future: no record and the same state, or a bypass that says why', async () => {
      const future = readRepoJson(`integration_tests/${api.name}_abnormal_state.json`) as Message[];
      const catalog = readRepoJson(`integration_tests/${api.name}_configured_catalog_incremental.json`);
      const read = await runConnector('read', { config, catalog, state: future });
      assert.equal(read.code, 0);
      assert.deepEqual(
        (catalog.streams as Message[]).map((s) => s.stream.name).sort(),
        future.map((s) => s.stream.stream_descriptor.name).sort(),
        'a future state for every incremental stream',
      );
      for (const { stream } of future) {
        assert.deepEqual(
          statesOf(read.messages, stream.stream_descriptor.name).map((s) => s.stream.stream_state),
          [stream.stream_state],
          stream.stream_descriptor.name,
        );
      }
      const { future_state: configured } = catTest('incremental', api.name);
      if (configured.bypass_reason) {
        // Mindstamp: only records without updated_at (which no cursor can place) come back.
        assert.equal(api.name, 'mindstamp');
        assert.ok(recordsOf(read.messages).length > 0);
        assert.deepEqual(
          recordsOf(read.messages).filter((r) => r.updated_at !== null),
          [],
        );
      } else {
        assert.equal(configured.future_state_path, `integration_tests/${api.name}_abnormal_state.json`);
        assert.deepEqual(recordsOf(read.messages), []);
      }
    });

    test('the invalid config fails check with CONNECTION_STATUS FAILED, offline too because the key is refused (401), not because no host answers', async () => {
      // CAT reads it from secrets/ (`npm run cat:mocks` writes it pointed at the mock; copy the shipped one there for a live run).
      const failed = acceptanceTestConfig().acceptance_tests.connection.tests.filter((t: { status: string }) => t.status === 'failed');
      assert.ok(failed.some((t: { config_path: string }) => t.config_path === `secrets/${api.name}_invalid_config.json`));
      const shipped = readRepoJson(`integration_tests/${api.name}_invalid_config.json`);
      assert.equal(shipped.api.base_url, undefined, 'the shipped file is for the real API');
      const check = await runConnector('check', { config: catInvalidConfig(api, mock) });
      assert.equal(check.code, 0);
      const statuses = check.messages.filter((m) => m.type === 'CONNECTION_STATUS').map((m) => m.connectionStatus);
      assert.deepEqual(
        statuses.map((s) => s.status),
        ['FAILED'],
      );
      assert.match(statuses[0].message, /rejected the API key \(HTTP 401\)/);
    });
  });
}
