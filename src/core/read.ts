import type { AnyApiDefinition } from './api';
import { ApiClock } from './clock';
import { asConnectorError } from './errors';
import type { Logger, RateLimitReporter } from './http';
import type { OutputWriter } from './output';
import { errorTrace, streamStatus, type ConfiguredStream, type StreamState } from './protocol';
import { SchemaDrift } from './schema-drift';
import { catalogSchema, catchAllField } from './stream';

export interface ReadOptions {
  definition: AnyApiDefinition;
  api: unknown;
  catalog: ConfiguredStream[];
  states: Map<string, StreamState>;
  startDate: string | undefined;
  out: OutputWriter;
  log: Logger;
  /** Told which stream is being read, so waits deep inside a request are reported on it. */
  running?: RunningStream;
  /** The API's clock, as its answers' Date headers tell it. */
  clock?: ApiClock;
}

/**
 * The stream being read, for what requests report from deep inside (a wait on the rate limit):
 * RUNNING with reason RATE_LIMITED while it waits, then RUNNING again, as the Airbyte UI shows them.
 */
export class RunningStream implements RateLimitReporter {
  name: string | undefined;
  private limited = false;

  constructor(private readonly out: OutputWriter) {}

  waiting(quotaResetMs: number): void {
    if (this.name === undefined) return;
    this.limited = true;
    this.report(streamStatus(this.name, 'RUNNING', [{ type: 'RATE_LIMITED', rate_limited: { quota_reset: Math.round(quotaResetMs) } }]));
  }

  resumed(): void {
    if (this.name === undefined || !this.limited) return;
    this.limited = false;
    this.report(streamStatus(this.name, 'RUNNING'));
  }

  /** Written in order with the records (the writer appends synchronously); its drain is not awaited here. */
  private report(message: ReturnType<typeof streamStatus>): void {
    void Promise.resolve(this.out.emit(message)).catch(() => undefined);
  }
}

/**
 * Reads the configured streams in catalog order. Each stream reports STARTED → RUNNING → COMPLETE,
 * or INCOMPLETE plus an ERROR trace; a failed stream does not stop the others.
 * Returns the names of the streams that failed.
 */
export async function readStreams(options: ReadOptions): Promise<string[]> {
  const { definition, api, out, log } = options;
  const failed: string[] = [];
  const syncStartedAt = new Date();
  const clock = options.clock ?? new ApiClock();
  /** A failure every stream would meet (a rejected key): the streams after it are not read. */
  let sharedFailure = false;
  for (const configured of options.catalog) {
    const name = configured.stream.name;
    const stream = definition.streams.find((candidate) => candidate.name === name);
    if (!stream) throw new Error(`stream ${name} vanished after catalog validation`);
    if (sharedFailure) {
      failed.push(name);
      await out.emit(streamStatus(name, 'STARTED'));
      await out.emit(streamStatus(name, 'INCOMPLETE'));
      continue;
    }
    const inputState = configured.sync_mode === 'incremental' ? options.states.get(name) : undefined;
    if (options.running) options.running.name = name;
    await out.emit(streamStatus(name, 'STARTED'));
    await out.emit(streamStatus(name, 'RUNNING'));
    let sinceState = 0;
    let lastState: string | undefined;
    let lastStateValue: StreamState = inputState ?? {};
    const drift = new SchemaDrift(catalogSchema(stream), catchAllField(stream));
    let repaired = 0;
    const reportDrift = () => {
      const report = drift.report(name);
      if (report) log(report.level, report.message);
      if (repaired > 0) {
        log('WARN', `Stream "${name}": ${repaired} record(s) held raw control characters (a line feed, a NUL...) inside strings, which JSON allows only escaped; they were written escaped (\\n, \\u0000), so every character is kept`);
      }
    };
    try {
      const items = stream.read(api, { syncMode: configured.sync_mode, state: inputState, startDate: options.startDate, syncStartedAt, clock, log });
      for await (const item of items) {
        switch (item.type) {
          case 'record': {
            const pending = out.record(name, drift.shape(item.data));
            if (pending) await pending;
            sinceState++;
            break;
          }
          case 'raw_records': {
            drift.observeBatch(item.batch);
            repaired += item.batch.repaired;
            const pending = out.rawRecords(name, item.batch);
            if (pending) await pending;
            sinceState += item.batch.count;
            break;
          }
          case 'checkpoint': {
            const serialized = JSON.stringify(item.state);
            // The protocol forbids repeating a state with nothing new behind it.
            if (sinceState === 0 && serialized === lastState) break;
            await out.state(name, item.state, sinceState);
            sinceState = 0;
            lastState = serialized;
            lastStateValue = item.state;
            break;
          }
          case 'message':
            await out.emit(item.message);
            break;
        }
      }
      // Every stream ends with a STATE covering all its records, even an empty one.
      if (lastState === undefined || sinceState > 0) await out.state(name, lastStateValue, sinceState);
      reportDrift();
      await out.emit(streamStatus(name, 'COMPLETE'));
    } catch (thrown) {
      reportDrift();
      const error = asConnectorError(thrown);
      failed.push(name);
      log('ERROR', `Stream "${name}" failed after ${sinceState} record(s) since its last state: ${error.message}`);
      if (error.everyStream) {
        sharedFailure = true;
        const rest = options.catalog.slice(options.catalog.indexOf(configured) + 1).map((s) => s.stream.name);
        if (rest.length > 0) log('ERROR', `Not reading ${rest.join(', ')}: every stream would meet the same failure (${error.message})`);
      }
      await out.emit(streamStatus(name, 'INCOMPLETE'));
      await out.emit(
        errorTrace({
          message: `Stream "${name}": ${error.message}`,
          internal_message: error.internalMessage,
          stack_trace: error.failureType === 'system_error' ? (thrown as Error)?.stack : undefined,
          failure_type: error.failureType,
          stream_descriptor: { name },
        }),
      );
    }
  }
  if (options.running) options.running.name = undefined;
  return failed;
}
