import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { recordsOf, runConnector, statesOf, type Message } from '../helpers/connector';
import { protocolValidator, repoRoot, requireShared, sharedDir } from '../helpers/shared';
import { parseJsonLossless } from '../../src/core/json-text';
import { GENERATED_VALIDATORS, validatorsSource } from '../tools/config-validators';
import { losslessMessages } from '../helpers/fullstory';
import { FullstoryMock } from '../mocks/fullstory';
import { MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';

/** The APIs with CAT files, each with a mock serving the dataset of its expected records. */
const CAT_APIS: { name: string; mock: () => Promise<CatMock>; overrides?: (mock: CatMock) => Record<string, unknown>; timeDependent?: string[] }[] = [
  {
    name: 'fullstory',
    mock: () => new FullstoryMock().start(),
    overrides: (mock) => ({ export_base_url: (mock as FullstoryMock).exportBaseUrl, legacy_downloads_per_minute: 6000, operation_poll_seconds: 0.01 }),
    // Their records depend on when the sync runs (events relative to now; operations the sync creates).
    timeDependent: ['segment_events', 'operations'],
  },
  { name: 'mindstamp', mock: () => new MindstampMock().start() },
  { name: 'persistiq', mock: () => new PersistIqMock({ rateLimit: false }).start() },
];

interface CatMock {
  apiKey: string;
  baseUrl: string;
  close(): Promise<void>;
}

const readJson = (path: string) => JSON.parse(readFileSync(join(repoRoot, path), 'utf8'));

/** Airbyte's spec rules (CAT TestSpec), checked on every node of the connection specification. */
function specRuleViolations(node: unknown, path = 'connectionSpecification'): string[] {
  if (!node || typeof node !== 'object') return [];
  const schema = node as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const problems: string[] = [];
  for (const keyword of ['$ref', 'allOf', 'anyOf', 'not', 'patternProperties', 'if', 'then', 'else']) {
    if (keyword in schema) problems.push(`${path} uses ${keyword}`);
  }
  if (Array.isArray(schema.type) && !(schema.type.length === 2 && schema.type[1] === 'null')) problems.push(`${path} type ${schema.type}`);
  if ('additionalProperties' in schema && schema.additionalProperties !== true) problems.push(`${path} additionalProperties not true`);
  if (schema.properties) {
    const orders = Object.values(schema.properties as Record<string, any>).map((p) => p.order); // eslint-disable-line @typescript-eslint/no-explicit-any
    if (new Set(orders).size !== orders.length) problems.push(`${path} duplicate order`);
    for (const [key, property] of Object.entries(schema.properties as Record<string, any>)) { // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const attribute of ['title', 'description', 'order', 'examples']) {
        if (property[attribute] === undefined && !property.oneOf) problems.push(`${path}.${key} lacks ${attribute}`);
      }
      problems.push(...specRuleViolations(property, `${path}.${key}`));
    }
  }
  if (schema.oneOf) {
    const options = schema.oneOf as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const common = Object.keys(options[0].properties).filter((key) => options.every((o) => o.properties[key]));
    const consts = common.filter((key) => options.every((o) => o.properties[key].const !== undefined));
    if (consts.join() !== 'name') problems.push(`${path} oneOf const properties: ${consts}`);
    if (new Set(options.map((o) => o.properties.name.const)).size !== options.length) problems.push(`${path} duplicate const`);
    options.forEach((option, i) => {
      if (!option.required?.includes('name')) problems.push(`${path}.oneOf[${i}] does not require name`);
      problems.push(...specRuleViolations(option, `${path}.oneOf[${i}]`));
    });
  }
  return problems;
}

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/** ConnectorMetrics.yaml uses type names that are not JSON types (read-only generated fields); drop them. */
function dropCustomTypes(node: unknown): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (Array.isArray(node)) return node.map(dropCustomTypes);
  if (!node || typeof node !== 'object') return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' && typeof value === 'string' && !JSON_TYPES.has(value)) continue;
    copy[key] = dropCustomTypes(value);
  }
  return copy;
}

describe('spec, metadata and image files', () => {
  test('spec prints spec/spec.json, which follows Airbyte spec rules', async (t) => {
    const result = await runConnector('spec');
    assert.equal(result.code, 0);
    const spec = result.messages[0].spec;
    assert.deepEqual(spec, readJson('spec/spec.json'), 'run `npm run spec:write` after changing an API option');
    assert.equal(readFileSync(join(repoRoot, GENERATED_VALIDATORS), 'utf8'), validatorsSource(spec), 'run `npm run spec:write`: the config validators are generated from the spec');
    assert.deepEqual(specRuleViolations(spec.connectionSpecification), []);
    // The connector runs validator code generated from this schema; the schema itself is checked here.
    const metaCheck = new Ajv({ strict: false });
    assert.equal(metaCheck.validateSchema(spec.connectionSpecification), true, JSON.stringify(metaCheck.errors));
    assert.equal(metaCheck.validateSchema({ type: 'object', properties: { a: { type: 'nonsense' } } }), false, 'the meta-schema check can fail');
    const options = spec.connectionSpecification.properties.api.oneOf as Message[];
    for (const option of options) {
      assert.equal(option.properties.api_key.airbyte_secret, true);
      assert.deepEqual(option.required, ['name', 'api_key']);
      assert.ok(option.properties.start_date.pattern && option.properties.start_date.format === 'date-time');
      assert.match(option.properties.base_url.default, /^https:\/\//);
    }
    assert.deepEqual(
      options.map((o) => [o.properties.name.const, o.properties.base_url.default]),
      [
        ['fullstory', 'https://api.fullstory.com'],
        ['mindstamp', 'https://api.mindstamp.com/api/v1'],
        ['persistiq', 'https://api.persistiq.com/v1'],
      ],
    );
    assert.equal(options[0].properties.export_base_url.default, 'https://export.fullstory.com/api/v1/export');
    if (requireShared(t)) {
      const validate = protocolValidator('ConnectorSpecification')!;
      assert.ok(validate(spec), JSON.stringify(validate.errors));
    }
  });

  test('AIRBYTE_SOURCE_API narrows the spec to one API, and rejects an unknown name', async () => {
    const narrowed = await runConnector('spec', { env: { AIRBYTE_SOURCE_API: 'persistiq' } });
    assert.deepEqual(narrowed.messages[0].spec.connectionSpecification.properties.api.oneOf.map((o: Message) => o.properties.name.const), ['persistiq']);
    const bad = await runConnector('spec', { env: { AIRBYTE_SOURCE_API: 'hubspot' } });
    assert.equal(bad.code, 1);
    assert.equal(bad.messages[0].trace.error.failure_type, 'config_error');
    assert.match(bad.messages[0].trace.error.message, /^AIRBYTE_SOURCE_API is "hubspot", which is not one of: fullstory, mindstamp, persistiq$/);
  });

  test('metadata.yaml is valid and matches the Dockerfile labels and entrypoint', (t) => {
    const metadata = parseYaml(readFileSync(join(repoRoot, 'metadata.yaml'), 'utf8'));
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const label = (name: string) => new RegExp(`^LABEL ${name.replace(/\./g, '\\.')}=(\\S+)$`, 'm').exec(dockerfile)?.[1];
    assert.equal(label('io.airbyte.name'), metadata.data.dockerRepository);
    assert.equal(label('io.airbyte.version'), metadata.data.dockerImageTag);
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    assert.equal(/^ENV AIRBYTE_ENTRYPOINT="(.*)"$/m.exec(dockerfile)![1], entrypoint.join(' '));
    assert.deepEqual([metadata.data.connectorType, metadata.data.connectorSubtype, metadata.data.tags], ['source', 'api', ['language:typescript']]);
    assert.equal(metadata.data.dockerImageTag, readJson('package.json').version);
    if (!requireShared(t)) return;
    // The YAML schemas refer to each other by file name; give each an $id under one base so they resolve.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    const dir = join(sharedDir, 'airbyte', 'metadata-schema');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      ajv.addSchema({ ...dropCustomTypes(parseYaml(readFileSync(join(dir, file), 'utf8'))), $id: `https://metadata.local/${file}` });
    }
    const validate = ajv.getSchema('https://metadata.local/ConnectorMetadataDefinitionV0.yaml')!;
    assert.ok(validate(metadata), JSON.stringify(validate.errors));
  });

  for (const api of CAT_APIS) {
    test(`catalogs/${api.name}.json reads every stream, incremental where supported`, async () => {
      const discovered = (await runConnector('discover', { config: readJson(`integration_tests/${api.name}_sample_config.json`) })).messages[0].catalog.streams as Message[];
      const configured = readJson(`catalogs/${api.name}.json`).streams as Message[];
      assert.deepEqual(
        configured.map((s) => [s.stream.name, s.sync_mode]),
        discovered.map((s) => [s.name, s.supported_sync_modes.includes('incremental') ? 'incremental' : 'full_refresh']),
      );
    });
  }

  test('CAT config: every API has its tests, and every referenced file exists', () => {
    const cat = parseYaml(readFileSync(join(repoRoot, 'integration_tests', 'acceptance-test-config.yml'), 'utf8'));
    const paths = JSON.stringify(cat).match(/"(integration_tests|spec)\/[^"]+"/g)!.map((p) => p.slice(1, -1));
    for (const path of paths) assert.ok(readFileSync(join(repoRoot, path)), path);
    for (const api of CAT_APIS) {
      for (const section of ['connection', 'discovery', 'basic_read', 'full_refresh', 'incremental']) {
        assert.ok(cat.acceptance_tests[section].tests.some((t: Message) => t.config_path === `secrets/${api.name}_config.json`), `${section} tests ${api.name}`);
      }
    }
  });

  for (const api of CAT_APIS) {
    test(`CAT files for ${api.name}: against the mock, reads match expected records and the abnormal state`, async () => {
      const mock = await api.mock();
      try {
        const sample = readJson(`integration_tests/${api.name}_sample_config.json`);
        const config = { api: { ...sample.api, api_key: mock.apiKey, base_url: mock.baseUrl, requests_per_minute: 6000, ...api.overrides?.(mock) } };
        const read = await runConnector('read', { config, catalog: readJson(`integration_tests/${api.name}_configured_catalog.json`) });
        assert.equal(read.code, 0);
        // Compared without JSON.parse's rounding, so 64-bit ids must match digit for digit.
        const text = (line: Message) => JSON.stringify({ stream: line.stream ?? line.record.stream, data: line.data ?? line.record.data });
        const actual = losslessMessages(read.stdout).filter((m) => m.type === 'RECORD' && !api.timeDependent?.includes(m.record.stream)).map(text);
        const expected = readFileSync(join(repoRoot, 'integration_tests', `${api.name}_expected_records.jsonl`), 'utf8').trim().split('\n');
        assert.deepEqual(expected.map((line) => text(parseJsonLossless(line) as Message)).sort(), actual.sort());

        const incremental = readJson(`integration_tests/${api.name}_configured_catalog_incremental.json`);
        const future = await runConnector('read', { config, catalog: incremental, state: readJson(`integration_tests/${api.name}_abnormal_state.json`) });
        assert.equal(future.code, 0);
        assert.deepEqual(recordsOf(future.messages).filter((r) => r.updated_at !== null), [], 'only records without updated_at (never placed by the cursor) come back');
        for (const { stream } of incremental.streams) assert.ok(statesOf(future.messages, stream.name).length >= 1, stream.name);

        const invalid = await runConnector('check', { config: { api: { ...readJson(`integration_tests/${api.name}_invalid_config.json`).api, base_url: mock.baseUrl, ...api.overrides?.(mock) } } });
        assert.equal(invalid.messages.filter((m) => m.type === 'CONNECTION_STATUS')[0].connectionStatus.status, 'FAILED');
      } finally {
        await mock.close();
      }
    });
  }
});
