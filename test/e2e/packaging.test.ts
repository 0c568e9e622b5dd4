import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { runConnector, type Message } from '../helpers/connector';
import { CAT_APIS, readRepoJson } from '../helpers/cat';
import { protocolValidator, repoRoot, requireShared, sharedDir } from '../helpers/shared';
import { GENERATED_VALIDATORS, validatorsSource } from '../tools/config-validators';

/** A JSON schema node, read field by field. */
type SchemaNode = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Airbyte's spec rules (CAT TestSpec), checked on every node of the connection specification. */
function specRuleViolations(node: unknown, path = 'connectionSpecification'): string[] {
  if (!node || typeof node !== 'object') return [];
  const schema = node as SchemaNode;
  const problems: string[] = [];
  for (const keyword of ['$ref', 'allOf', 'anyOf', 'not', 'patternProperties', 'if', 'then', 'else']) {
    if (keyword in schema) problems.push(`${path} uses ${keyword}`);
  }
  if (Array.isArray(schema.type) && !(schema.type.length === 2 && schema.type[1] === 'null')) problems.push(`${path} type ${schema.type}`);
  if ('additionalProperties' in schema && schema.additionalProperties !== true) problems.push(`${path} additionalProperties not true`);
  if (schema.properties) {
    const orders = Object.values(schema.properties as Record<string, SchemaNode>).map((p) => p.order);
    if (new Set(orders).size !== orders.length) problems.push(`${path} duplicate order`);
    for (const [key, property] of Object.entries(schema.properties as Record<string, SchemaNode>)) {
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
function dropCustomTypes(node: unknown): unknown {
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
    assert.deepEqual(spec, readRepoJson('spec/spec.json'), 'run `npm run spec:write` after changing an API option');
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
    assert.deepEqual(
      narrowed.messages[0].spec.connectionSpecification.properties.api.oneOf.map((o: Message) => o.properties.name.const),
      ['persistiq'],
    );
    const bad = await runConnector('spec', { env: { AIRBYTE_SOURCE_API: 'hubspot' } });
    assert.equal(bad.code, 1);
    assert.equal(bad.messages[0].trace.error.failure_type, 'config_error');
    assert.match(bad.messages[0].trace.error.message, /^AIRBYTE_SOURCE_API is "hubspot", which is not one of: fullstory, mindstamp, persistiq$/);
  });

  test('metadata.yaml is valid and matches the Dockerfile labels and entrypoint', (t) => {
    const metadata = parseYaml(readFileSync(join(repoRoot, 'metadata.yaml'), 'utf8'));
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    // A label's value as built without build arguments: ${ARG:-default} and ${ARG} take their defaults.
    const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S*)$/gm)].map((m) => [m[1], m[2]]));
    const resolve = (value: string) => value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => args[name] || fallback || '');
    const label = (name: string) => {
      const raw = new RegExp(`^LABEL ${name.replace(/\./g, '\\.')}=(\\S+)$`, 'm').exec(dockerfile)?.[1];
      return raw === undefined ? undefined : resolve(raw);
    };
    assert.equal(label('io.airbyte.name'), metadata.data.dockerRepository);
    assert.equal(label('io.airbyte.version'), metadata.data.dockerImageTag);
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    assert.equal(/^ENV AIRBYTE_ENTRYPOINT="(.*)"$/m.exec(dockerfile)![1], entrypoint.join(' '));
    assert.deepEqual([metadata.data.connectorType, metadata.data.connectorSubtype, metadata.data.tags], ['source', 'api', ['language:typescript']]);
    assert.ok(existsSync(join(repoRoot, metadata.data.icon)), 'the icon named in metadata.yaml exists');
    assert.match(metadata.data.documentationUrl, /\/docs\/README\.md$/);
    for (const file of ['LICENSE', 'CHANGELOG.md', 'docs/README.md', 'docs/fullstory.md', 'docs/mindstamp.md', 'docs/persistiq.md'])
      assert.ok(existsSync(join(repoRoot, file)), file);
    assert.match(readFileSync(join(repoRoot, 'LICENSE'), 'utf8'), /^MIT License/);
    assert.equal(metadata.data.dockerImageTag, readRepoJson('package.json').version);
    if (!requireShared(t)) return;
    // The YAML schemas refer to each other by file name; give each an $id under one base so they resolve.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    const dir = join(sharedDir, 'airbyte', 'metadata-schema');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      ajv.addSchema({ ...(dropCustomTypes(parseYaml(readFileSync(join(dir, file), 'utf8'))) as SchemaNode), $id: `https://metadata.local/${file}` });
    }
    const validate = ajv.getSchema('https://metadata.local/ConnectorMetadataDefinitionV0.yaml')!;
    assert.ok(validate(metadata), JSON.stringify(validate.errors));
  });

  for (const api of CAT_APIS) {
    test(`catalogs/${api.name}.json reads every stream, incremental where supported`, async () => {
      const discovered = (await runConnector('discover', { config: readRepoJson(`integration_tests/${api.name}_sample_config.json`) })).messages[0].catalog.streams as Message[];
      const configured = readRepoJson(`catalogs/${api.name}.json`).streams as Message[];
      assert.deepEqual(
        configured.map((s) => [s.stream.name, s.sync_mode]),
        discovered.map((s) => [s.name, s.supported_sync_modes.includes('incremental') ? 'incremental' : 'full_refresh']),
      );
    });
  }
});
