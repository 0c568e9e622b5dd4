import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnyApiDefinition } from '../connector';
import { parseState, readJsonFile, secretValues, validateCatalog, validateConfig } from './config';
import { type AirbyteStream, asConnectorError, ConfigError, connectionStatus, errorTrace, logMessage, type OutputWriter, type StreamState } from '../protocol';
import { ApiClock, type Logger } from '../http';
import { SyncProgress } from './progress';
import { readStreams } from './read';
import { buildSpec, selectApis } from './spec';
import { catalogSchema } from '../streams';

const packageInfo = (): { name: string; version: string } => JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { name: string; version: string };

/** A connection test answers within seconds: few retries, and no long Retry-After waited out. */
const CHECK_MAX_RETRIES = 2;
const CHECK_MAX_WAIT_SECONDS = 5;
const CHECK_DEADLINE_SECONDS = 10;

const USAGE = 'usage: main.js spec | check --config FILE | discover --config FILE | read --config FILE --catalog FILE [--state FILE] [--debug] | --help | --version';

const HELP = `${USAGE}

An Airbyte source for Fullstory, Mindstamp and PersistIQ: one JSON message per line on stdout.
  spec       the config form (JSON schema), for the platform
  check      tests the config's key against the API (CONNECTION_STATUS)
  discover   the streams of the config's API (CATALOG)
  read       syncs the catalog's streams (RECORD, STATE, TRACE, LOG)
Options:
  --debug    DEBUG logs of each request: method, path, status, duration (also LOG_LEVEL=debug)
  --help     this text;  --version  the connector's version
The config picks the API: {"api": {"name": "persistiq", "api_key": "..."}}. Docs: docs/<api>.md.`;

interface Invocation {
  command: string;
  config?: string;
  catalog?: string;
  state?: string;
  debug?: boolean;
}

function parseInvocation(argv: string[]): Invocation {
  const [command, ...rest] = argv;
  if (!command || command.startsWith('-')) throw new ConfigError(`No command given; ${USAGE}`);
  try {
    const { values } = parseArgs({
      args: rest,
      options: { config: { type: 'string' }, catalog: { type: 'string' }, state: { type: 'string' }, debug: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    return { command, ...values };
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; ${USAGE}`);
  }
}

const required = (value: string | undefined, flag: string, command: string): string => {
  if (!value) throw new ConfigError(`${command} needs ${flag} FILE; ${USAGE}`);
  return value;
};

/** Runs one connector command, writing protocol messages to `out`. Returns the exit code. */
export async function runCommand(argv: string[], out: OutputWriter, registry: AnyApiDefinition[], env: NodeJS.ProcessEnv): Promise<number> {
  const log: Logger = (level, message) => void out.emit(logMessage(level, message));
  let invocation: Invocation | undefined;
  // Read once: the version goes into --version, the User-Agent and the first LOG of a read.
  const { name: connectorName, version } = packageInfo();
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    process.stdout.write(`${connectorName} ${version}\n`);
    return 0;
  }
  try {
    invocation = parseInvocation(argv);
    const debug = invocation.debug === true || /^debug$/i.test(env.LOG_LEVEL ?? '');
    const apis = selectApis(registry, env.AIRBYTE_SOURCE_API);
    const userAgent = `${connectorName}/${version}`;
    const { command } = invocation;
    if (command === 'spec') {
      await out.emit({ type: 'SPEC', spec: buildSpec(apis, userAgent) });
      return 0;
    }
    if (!['check', 'discover', 'read'].includes(command)) throw new ConfigError(`Unknown command "${command}"; ${USAGE}`);

    const rawConfig = readJsonFile(required(invocation.config, '--config', command), 'config');
    out.addSecrets(secretValues(rawConfig, apis));
    const config = validateConfig(rawConfig, apis);
    const definition = apis.find((api) => api.name === config.api.name) as AnyApiDefinition;

    if (command === 'discover') {
      await out.emit({ type: 'CATALOG', catalog: { streams: definition.streams.map(toAirbyteStream) } });
      return 0;
    }
    if (command === 'check') {
      // A connection test should answer within seconds, not after a full retry schedule.
      const quick = {
        ...config.api,
        max_retries: Math.min(Number(config.api.max_retries ?? 0), CHECK_MAX_RETRIES),
        max_wait_seconds: Math.min(Number(config.api.max_wait_seconds ?? 0), CHECK_MAX_WAIT_SECONDS),
        request_deadline_seconds: Math.min(Number(config.api.request_deadline_seconds), CHECK_DEADLINE_SECONDS),
      };
      return await check(definition, definition.connect(quick, { userAgent: config.user_agent ?? userAgent, log, mask: (text) => out.mask(text), debug }), out);
    }
    const progress = new SyncProgress(out, env);
    const clock = new ApiClock();
    const api = definition.connect(config.api, { userAgent: config.user_agent ?? userAgent, log, mask: (text) => out.mask(text), reporter: progress, clock, debug });

    const catalog = validateCatalog(readJsonFile(required(invocation.catalog, '--catalog', command), 'catalog'), definition);
    log('INFO', `${connectorName} ${version}: reading ${definition.title}, ${catalog.length} stream(s): ${catalog.map((s) => `${s.stream.name} (${s.sync_mode})`).join(', ')}`);
    const states: Map<string, StreamState> = invocation.state ? parseState(readJsonFile(invocation.state, 'state'), definition, log) : new Map();
    const failed = await readStreams({ definition, api, catalog, states, startDate: config.api.start_date, out, log, progress, clock });
    if (failed.length > 0) {
      log('ERROR', `Sync finished with ${failed.length} failed stream(s): ${failed.join(', ')}`);
      return 1;
    }
    return 0;
  } catch (thrown) {
    const error = asConnectorError(thrown);
    await out.emit(
      errorTrace({
        message: error.message,
        internal_message: error.internalMessage,
        stack_trace: error.failureType === 'system_error' ? (thrown as Error)?.stack : undefined,
        failure_type: error.failureType,
      }),
    );
    // The platform takes a check's verdict from its CONNECTION_STATUS, even when the config is bad.
    if (invocation?.command === 'check') await out.emit(connectionStatus(false, error.message));
    return 1;
  }
}

async function check(definition: AnyApiDefinition, api: unknown, out: OutputWriter): Promise<number> {
  try {
    await definition.check(api);
    await out.emit(connectionStatus(true));
  } catch (thrown) {
    await out.emit(connectionStatus(false, asConnectorError(thrown).message));
  }
  return 0;
}

export function toAirbyteStream(stream: AnyApiDefinition['streams'][number]): AirbyteStream {
  const incremental = stream.cursorField !== undefined;
  return {
    name: stream.name,
    json_schema: catalogSchema(stream),
    supported_sync_modes: incremental ? ['full_refresh', 'incremental'] : ['full_refresh'],
    ...(incremental ? { source_defined_cursor: true, default_cursor_field: stream.cursorField } : {}),
    // A resumable full refresh declares no cursor (the CDK's way; CAT checks declared cursor fields).
    ...(incremental || stream.resumable ? { is_resumable: true } : {}),
    ...(stream.primaryKey ? { source_defined_primary_key: stream.primaryKey } : {}),
  };
}
