import type { AnyApiDefinition } from '../connector';
import { ApiClock, type Logger } from '../http';
import {
  asConnectorError,
  type ConfiguredStream,
  type ConnectorError,
  errorTrace,
  FULL_REFRESH_COMPLETE,
  isFullRefreshComplete,
  type OutputWriter,
  type StreamState,
  streamStatus,
} from '../protocol';
import { SyncProgress } from './progress';
import { catalogSchema, catchAllField, SchemaDrift } from '../streams';

export interface ReadOptions {
  definition: AnyApiDefinition;
  api: unknown;
  catalog: ConfiguredStream[];
  states: Map<string, StreamState>;
  startDate: string | undefined;
  out: OutputWriter;
  log: Logger;
  /** Told which stream is being read and what it delivers; reports progress and the summary. */
  progress?: SyncProgress;
  /** The API's clock, as its answers' Date headers tell it. */
  clock?: ApiClock;
}

/**
 * Reads the configured streams at the same time, their messages interleaved, each stream's own in
 * order (its STATEs after its records). Streams that share a rate limit share it through their API's
 * client, which paces and bounds their requests together: read one after the other, they would leave
 * most of the limit unused at real latencies (a page takes 100-300 ms). Only streams that wait on one
 * thing they cannot share (StreamDefinition.waitsOn: Fullstory preparing its exports) are read one
 * after the other, in catalog order. The first stream starts alone; the others once the API has
 * answered once, so a rejected key or an unreachable host fails one stream, not one per stream.
 * Each stream reports STARTED → RUNNING → COMPLETE, or INCOMPLETE plus an ERROR trace; a failed
 * stream does not stop the others, unless every stream would meet its failure (a rejected key, an
 * unreachable host). A stream the API does not have (a catalog older than the connector) fails
 * alone, asking for a schema refresh. Returns the names of the streams that failed.
 */
export async function readStreams(options: ReadOptions): Promise<string[]> {
  const { definition, log } = options;
  const progress = options.progress ?? new SyncProgress(options.out);
  const failed: string[] = [];
  const context = { syncStartedAt: new Date(), clock: options.clock ?? new ApiClock() };
  /** A failure every stream would meet (a rejected key): the streams not started yet are not read. */
  let sharedFailure: ConnectorError | undefined;
  const lanes = new Map<string, LaneEntry[]>();
  for (const configured of options.catalog) {
    const stream = definition.streams.find((candidate) => candidate.name === configured.stream.name);
    // A lane per stream, but one per thing that streams can only wait on in turn.
    const lane = stream?.waitsOn ?? `stream ${configured.stream.name}`;
    lanes.set(lane, [...(lanes.get(lane) ?? []), { configured, stream }]);
  }
  const readLane = async (streams: LaneEntry[]): Promise<void> => {
    for (const { configured, stream } of streams) {
      const name = configured.stream.name;
      if (!stream || sharedFailure) {
        failed.push(name);
        await skip(name, stream === undefined, options, progress);
        continue;
      }
      const error = await progress.within(name, () => readStream(stream, configured, options, context, progress));
      log(error ? 'ERROR' : 'INFO', progress.end(name, error ? 'INCOMPLETE' : 'COMPLETE'));
      if (!error) continue;
      failed.push(name);
      if (error.everyStream && !sharedFailure) {
        sharedFailure = error;
        const rest = options.catalog.map((s) => s.stream.name).filter((other) => other !== name && !progress.started(other));
        if (rest.length > 0) log('ERROR', `Not reading ${rest.join(', ')}: every stream would meet the same failure (${error.message})`);
      }
    }
  };
  const [first, ...others] = [...lanes.values()];
  const firstLane = readLane(first ?? []);
  // The other lanes wait for a sign that the key and the host work, or for the first lane's end.
  const keyWorks = Promise.race([progress.firstAnswer, firstLane]);
  await Promise.all([firstLane, ...others.map(async (lane) => readLane(await keyWorks.then(() => lane)))]);
  log(failed.length > 0 ? 'WARN' : 'INFO', progress.summary());
  return failed;
}

/** A stream not read: unknown to this connector version, or after a failure every stream would meet. */
async function skip(name: string, unknown: boolean, options: ReadOptions, progress: SyncProgress): Promise<void> {
  const { definition, out, log } = options;
  progress.skipped(name);
  await out.emit(streamStatus(name, 'STARTED'));
  await out.emit(streamStatus(name, 'INCOMPLETE'));
  if (!unknown) return;
  const known = definition.streams.map((s) => s.name).join(', ');
  const message = `Stream "${name}" is not a ${definition.title} stream of this connector version (known: ${known}); refresh the source schema in Airbyte and reselect the streams`;
  log('ERROR', message);
  await out.emit(errorTrace({ message, failure_type: 'config_error', stream_descriptor: { name } }));
}

type Stream = AnyApiDefinition['streams'][number];
/** A configured stream and its definition (none: a stream this connector version does not have). */
interface LaneEntry {
  configured: ConfiguredStream;
  stream: Stream | undefined;
}

/** Reads one stream to its end; returns its error, already reported (INCOMPLETE + ERROR trace). */
async function readStream(
  stream: Stream,
  configured: ConfiguredStream,
  options: ReadOptions,
  context: { syncStartedAt: Date; clock: ApiClock },
  progress: SyncProgress,
): Promise<ConnectorError | undefined> {
  const { out, log } = options;
  const name = stream.name;
  const fullRefresh = configured.sync_mode === 'full_refresh';
  // A full refresh is given a state only by a retried attempt of the same sync (the platform clears
  // it when a new sync starts); a stream that cannot resume starts over anyway.
  const inputState = !fullRefresh || stream.resumable ? options.states.get(name) : undefined;
  await out.emit(streamStatus(name, 'STARTED'));
  await out.emit(streamStatus(name, 'RUNNING'));
  if (fullRefresh && isFullRefreshComplete(inputState)) {
    log('INFO', `Stream "${name}": an earlier attempt of this sync read it whole (its state says so); not read again`);
    await out.state(name, FULL_REFRESH_COMPLETE, 0);
    progress.ending();
    await out.emit(streamStatus(name, 'COMPLETE'));
    return undefined;
  }
  let sinceState = 0;
  let lastState: string | undefined;
  let lastStateValue: StreamState = inputState ?? {};
  const drift = new SchemaDrift(catalogSchema(stream), catchAllField(stream));
  let repaired = 0;
  const reportDrift = () => {
    const report = drift.report(name);
    if (report) log(report.level, report.message);
    if (repaired > 0) {
      log(
        'WARN',
        `Stream "${name}": ${repaired} record(s) held raw control characters (a line feed, a NUL...) inside strings, which JSON allows only escaped; they were written escaped (\\n, \\u0000), so every character is kept`,
      );
    }
  };
  try {
    const items = stream.read(options.api, { syncMode: configured.sync_mode, state: inputState, startDate: options.startDate, ...context, log });
    for await (const item of items) {
      switch (item.type) {
        case 'record': {
          const pending = out.record(name, drift.shape(item.data));
          if (pending) await pending;
          sinceState++;
          progress.recorded(name, 1);
          break;
        }
        case 'raw_records': {
          drift.observeBatch(item.batch);
          repaired += item.batch.repaired;
          const pending = out.rawRecords(name, item.batch);
          if (pending) await pending;
          // Every byte of it is in the output's own chunks now.
          item.batch.release();
          sinceState += item.batch.count;
          progress.recorded(name, item.batch.count);
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
        case 'progress':
          progress.at(name, item.position);
          break;
        case 'message':
          await out.emit(item.message);
          break;
      }
    }
    // Every stream ends with a STATE covering all its records, even an empty one; a resumable full
    // refresh with the state that tells a retried attempt there is nothing left to read.
    if (fullRefresh && stream.resumable) await out.state(name, FULL_REFRESH_COMPLETE, sinceState);
    else if (lastState === undefined || sinceState > 0) await out.state(name, lastStateValue, sinceState);
    reportDrift();
    progress.ending();
    await out.emit(streamStatus(name, 'COMPLETE'));
    return undefined;
  } catch (thrown) {
    reportDrift();
    const error = asConnectorError(thrown);
    log('ERROR', `Stream "${name}" failed after ${sinceState} record(s) since its last state: ${error.message}`);
    progress.ending();
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
    return error;
  }
}
