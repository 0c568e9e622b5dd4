import type { ErrorObject, ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import type { AnyApiDefinition, ConnectorConfig } from '../connector';
import { ConfigError, type ConfiguredStream, NO_CURSOR_STATE_KEY, type StreamState } from '../protocol';
import type { JsonSchema } from '../streams';
import type { Logger } from '../http';

export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') {
      throw new ConfigError(`The ${what} file ${path} is a directory, not a file. Docker creates a directory where a mounted file was missing: check the path on the host.`);
    }
    throw new ConfigError(`Cannot read the ${what} file ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the error ("…"api_key": "piqU4T…" is not valid JSON): a key it holds
    // cannot be masked, as the file could not be read to find it. Only the reason and place are kept.
    const reason = (error as Error).message.replace(/^(Unexpected token '.*?'),.*$/s, '$1');
    throw new ConfigError(`The ${what} file ${path} is not valid JSON: ${reason}`);
  }
}

/** Values of every field the spec marks `airbyte_secret`, found anywhere in a (possibly invalid) config. */
export function secretValues(config: unknown, apis: AnyApiDefinition[]): string[] {
  const secretKeys = new Set<string>();
  for (const api of apis) {
    for (const [key, schema] of Object.entries((api.specOption.properties ?? {}) as Record<string, JsonSchema>)) {
      if (schema.airbyte_secret) secretKeys.add(key);
    }
  }
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      if (secretKeys.has(key) && typeof item === 'string' && item !== '') found.push(item);
      else walk(item);
    }
  };
  walk(config);
  return found;
}

const fieldName = (error: ErrorObject, root: string): string => {
  const path = error.instancePath.split('/').slice(1).join('.');
  const missing = error.keyword === 'required' ? (error.params as { missingProperty: string }).missingProperty : undefined;
  return [root, path, missing].filter(Boolean).join('.');
};

const describeAjvError = (error: ErrorObject, root: string): string => {
  const field = fieldName(error, root);
  if (error.keyword === 'required') return `${field} is required`;
  const schema = error.parentSchema as JsonSchema | undefined;
  // The rejected value, quoted (never a secret's).
  const got = error.data !== undefined && !schema?.airbyte_secret ? `, got ${JSON.stringify(error.data)}` : '';
  if (error.keyword === 'pattern' && schema?.pattern_descriptor) {
    const bareDate = field.endsWith('start_date') ? ' (or a bare date, YYYY-MM-DD)' : '';
    return `${field} must look like ${schema.pattern_descriptor}${bareDate}${got}`;
  }
  return `${field} ${error.message}${got}`;
};

/**
 * The config validator of one API: ajv's standalone code, generated from spec/spec.json by
 * `npm run spec:write` (a test checks it is current), so no run loads ajv's compiler: compiling
 * the schema at start-up cost more than a tenth of a second.
 */
function configValidator(name: string): ValidateFunction {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const validators = require('./generated/config-validators.js') as Record<string, ValidateFunction | undefined>;
  const validate = validators[name];
  if (!validate) throw new Error(`No generated config validator for ${name}: run npm run spec:write`);
  return validate;
}

/** Validates the config against the spec's option for `api.name` (as generated) and applies its defaults. */
export function validateConfig(raw: unknown, apis: AnyApiDefinition[]): ConnectorConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('Config must be a JSON object');
  const names = apis.map((option) => option.name);
  const api = (raw as Record<string, unknown>).api;
  if (!api || typeof api !== 'object' || Array.isArray(api)) {
    // Airbyte's own connectors take a flat config; this one nests it under "api", which picks the API.
    const flat = 'api_key' in raw || 'name' in raw;
    // Only Airbyte's Fullstory connector has a `uid`; otherwise the name cannot be told from the fields.
    const name = names.length === 1 ? names[0] : 'uid' in raw && names.includes('fullstory') ? 'fullstory' : `<${names.join('|')}>`;
    const example = `{"api": {"name": "${name}", "api_key": "…"${'start_date' in raw ? ', "start_date": "…"' : ''}}}`;
    throw new ConfigError(
      flat
        ? `Config fields go inside "api", which also names the API (one of ${names.join(', ')}): ${example}`
        : `Config field api is required and must be an object, e.g. ${example}`,
    );
  }
  const fields = { ...(api as Record<string, unknown>) };
  const name = typeof fields.name === 'string' ? apiName(fields.name, names) : fields.name;
  if (typeof name !== 'string') throw new ConfigError(`Config field api.name is required: one of ${names.join(', ')}`);
  const definition = apis.find((option) => option.name === name);
  if (!definition) {
    const nearest = nearestName(name, names);
    throw new ConfigError(`Config field api.name is "${name}", which is not one of: ${names.join(', ')}${nearest ? `. Did you mean "${nearest}"?` : ''}`);
  }
  fields.name = name;
  // A bare date is the start of that day, UTC.
  if (typeof fields.start_date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(fields.start_date.trim())) fields.start_date = `${fields.start_date.trim()}T00:00:00Z`;
  // A leap second (RFC 3339 allows :60) has no place on JavaScript's clock: read from the second before
  // it, which only adds a second to what is read.
  if (typeof fields.start_date === 'string') fields.start_date = fields.start_date.replace(/(T\d{2}:\d{2}):60/, '$1:59');
  const config = { ...(raw as Record<string, unknown>), api: fields };

  const validate = configValidator(name);
  if (!validate(config)) {
    // One problem per field: a bad date fails both its pattern and its format.
    const byField = new Map<string, string>();
    for (const error of validate.errors ?? []) {
      const field = fieldName(error, 'config');
      if (!byField.has(field)) byField.set(field, describeAjvError(error, 'config'));
    }
    throw new ConfigError(`Invalid config: ${[...byField.values()].join('; ')}`);
  }

  const withDefaults = { ...fields };
  for (const [key, property] of Object.entries(definition.specOption.properties as Record<string, JsonSchema>)) {
    if (withDefaults[key] === undefined && property.default !== undefined) withDefaults[key] = property.default;
  }
  const startDate = withDefaults.start_date;
  if (typeof startDate === 'string' && Number.isNaN(Date.parse(startDate))) throw new ConfigError(`Config field api.start_date (${startDate}) is not a time that can be read`);
  if (typeof startDate === 'string' && Date.parse(startDate) > Date.now()) {
    throw new ConfigError(`Config field api.start_date (${startDate}) is in the future; nothing could be read`);
  }
  return { ...(config as unknown as ConnectorConfig), api: withDefaults as ConnectorConfig['api'] };
}

/** api.name as the API's own name: any case, spaces around it ignored. */
const apiName = (given: string, names: string[]): string => names.find((candidate) => candidate === given.trim().toLowerCase()) ?? given;

/** The known name a typo most likely meant (at most 2 edits away), if any. */
function nearestName(given: string, names: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = row;
    }
    return previous[b.length];
  };
  const typed = given
    .trim()
    .toLowerCase()
    .replace(/[\s_-]/g, '');
  const [best] = names.map((name) => ({ name, edits: distance(typed, name) })).sort((x, y) => x.edits - y.edits);
  return best && best.edits <= 2 ? best.name : undefined;
}

/**
 * Checks the configured catalog against what the API offers; every problem names its place. A
 * stream the API does not have is kept: the read reports it alone (INCOMPLETE, config_error).
 */
export function validateCatalog(raw: unknown, api: AnyApiDefinition): ConfiguredStream[] {
  const streams = (raw as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(streams)) throw new ConfigError('Catalog must be a JSON object with a "streams" list');
  const known = new Map(api.streams.map((stream) => [stream.name, stream]));
  const seen = new Set<string>();
  return streams.map((entry: unknown, index): ConfiguredStream => {
    const where = `catalog streams[${index}]`;
    const configured = entry as Partial<ConfiguredStream> | null;
    const name = configured?.stream?.name;
    if (typeof name !== 'string') throw new ConfigError(`${where}.stream.name is required`);
    const definition = known.get(name);
    if (seen.has(name)) throw new ConfigError(`${where}: stream "${name}" appears twice`);
    seen.add(name);
    const mode = configured?.sync_mode;
    if (mode !== 'full_refresh' && mode !== 'incremental') {
      throw new ConfigError(`${where}.sync_mode for stream "${name}" must be full_refresh or incremental, got ${JSON.stringify(mode)}`);
    }
    // A stream this version does not have fails alone when it is read (the others still sync).
    if (mode === 'incremental' && definition && !definition.cursorField) {
      throw new ConfigError(`${where}: stream "${name}" has no cursor, so sync_mode must be full_refresh, not incremental`);
    }
    return configured as ConfiguredStream;
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

/**
 * Input state: a list of per-stream STATE messages (what the platform passes), or the legacy
 * `{stream_name: state}` object. Returns each stream's state.
 */
export function parseState(raw: unknown, api: AnyApiDefinition, log: Logger): Map<string, StreamState> {
  const known = new Map(api.streams.map((stream) => [stream.name, stream]));
  const states = new Map<string, StreamState>();
  const add = (name: unknown, state: unknown, where: string): void => {
    if (typeof name !== 'string') throw new ConfigError(`${where}: stream name missing`);
    const stream = known.get(name);
    // The platform may keep the state of a stream a later connector version dropped (the CDK ignores it too).
    if (!stream) return log('WARN', `${where}: the state of "${name}", which is not a ${api.title} stream of this connector version, is ignored`);
    if (state === null || state === undefined) return; // a reset stream
    if (!isObject(state)) throw new ConfigError(`${where}: the state of stream "${name}" must be an object, got ${Array.isArray(state) ? 'a list' : typeof state}`);
    // The end of a full refresh that cannot resume (another connector's, or the CDK's): no position.
    if (state[NO_CURSOR_STATE_KEY] === true) return;
    states.set(name, stream.migrateState ? stream.migrateState(state) : state);
  };
  if (Array.isArray(raw)) {
    raw.forEach((message, index) => {
      const where = `state[${index}]`;
      if (!isObject(message)) throw new ConfigError(`${where} must be a STATE message object`);
      if (message.type === 'STREAM' || (message.type === undefined && isObject(message.stream))) {
        const stream = message.stream;
        if (!isObject(stream) || !isObject(stream.stream_descriptor)) throw new ConfigError(`${where}.stream.stream_descriptor is required for a STREAM state`);
        add(stream.stream_descriptor.name, stream.stream_state, `${where}.stream`);
      } else if (message.type === 'LEGACY' && isObject(message.data)) {
        for (const [name, state] of Object.entries(message.data)) add(name, state, `${where}.data`);
      } else {
        throw new ConfigError(`${where}.type must be STREAM (per-stream state), got ${JSON.stringify(message.type)}`);
      }
    });
    return states;
  }
  if (isObject(raw)) {
    for (const [name, state] of Object.entries(raw)) add(name, state, 'state');
    return states;
  }
  throw new ConfigError(`State must be a list of STREAM state messages or an object keyed by stream name, got ${raw === null ? 'null' : typeof raw}`);
}
