import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnyApiDefinition } from '../connector';
import { parseState, readJsonFile, secretValues, validateCatalog, validateConfig } from './config';
import { type AirbyteStream, asConnectorError, ConfigError, type ConnectorError, connectionStatus, errorTrace, logMessage, type OutputWriter, type StreamState } from '../protocol';
import { ApiClock, type Logger } from '../http';
import { SyncProgress } from './progress';
import { readStreams } from './read';
import { apiDocumentationUrl, buildSpec, DOCUMENTATION_URL, selectApis } from './spec';
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
The config picks the API: {"api": {"name": "persistiq", "api_key": "..."}}.
Docs: ${DOCUMENTATION_URL}
  per API: ${apiDocumentationUrl('<api>')}`;

/** The command line itself is wrong: no config was judged. */
class UsageError extends ConfigError {}

interface Invocation {
  command: string;
  config?: string;
  catalog?: string;
  state?: string;
  debug?: boolean;
}

function parseInvocation(argv: string[]): Invocation {
  const [command, ...rest] = argv;
  if (!command || command.startsWith('-')) throw new UsageError(`No command given; ${USAGE}`);
  try {
    const { values } = parseArgs({
      args: rest,
      options: { config: { type: 'string' }, catalog: { type: 'string' }, state: { type: 'string' }, debug: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    return { command, ...values };
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
}

const required = (value: string | undefined, flag: string, command: string): string => {
  if (!value) throw new UsageError(`${command} needs ${flag} FILE; ${USAGE}`);
  return value;
};

/**
 * Runs one connector command, writing protocol messages to `out`. Returns the exit code. A read
 * reports to `progress` (given by the caller, who may ask it where the sync is when cancelling it).
 */
export async function runCommand(argv: string[], out: OutputWriter, registry: AnyApiDefinition[], env: NodeJS.ProcessEnv, progress = new SyncProgress(out, env)): Promise<number> {
  const log: Logger = (level, message) => void out.emit(logMessage(level, message));
  let invocation: Invocation | undefined;
  // Read once: the version goes into --version, the User-Agent and the first LOG of a read.
  const { name: connectorName, version } = packageInfo();
  // Help wherever it is asked for: `--help`, `help`, or after a command (`check --help`).
  if (argv[0] === 'help' || argv.some((arg) => arg === '--help' || arg === '-h')) {
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
    if (!['check', 'discover', 'read'].includes(command)) throw new UsageError(`Unknown command "${command}"; ${USAGE}`);

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
    await emitError(error, thrown, out);
    if (invocation?.command !== 'check') return 1;
    // The platform takes a check's verdict from its CONNECTION_STATUS, even when the config is bad.
    await out.emit(connectionStatus(false, error.message));
    // The Python CDK's entrypoint: a config that fails validation is a verdict (FAILED, exit 0); only
    // other failures raise (exit 1). A usage error is no verdict on a config.
    return error instanceof ConfigError && !(error instanceof UsageError) ? 0 : 1;
  }
}

/** A check's failure is its verdict: FAILED, exit 0, whatever the API answered (as the CDK's CheckStream). */
async function check(definition: AnyApiDefinition, api: unknown, out: OutputWriter): Promise<number> {
  try {
    await definition.check(api);
    await out.emit(connectionStatus(true));
  } catch (thrown) {
    const error = asConnectorError(thrown);
    await emitError(error, thrown, out);
    await out.emit(connectionStatus(false, error.message));
  }
  return 0;
}

async function emitError(error: ConnectorError, thrown: unknown, out: OutputWriter): Promise<void> {
  await out.emit(
    errorTrace({
      message: error.message,
      internal_message: error.internalMessage,
      stack_trace: error.failureType === 'system_error' ? (thrown as Error)?.stack : undefined,
      failure_type: error.failureType,
    }),
  );
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
