// Segment export, Fullstory's current bulk path: POST /segments/v1/exports → {operationId}; poll
// GET /operations/v1/{id} until COMPLETED (results.searchExportId) or FAILED (errorDetails); GET
// /search/v1/exports/{id}/results → {location, expires}; download `location`, a pre-signed gzip
// NDJSON file on another host, without the API key.
import { downloadItems, sleep, type SplitterFactory } from '../../http';
import { ConfigError, ConnectorError, logMessage, SystemError, TransientError } from '../../protocol';
import { isoInstantMs, joinUrl, type ReadContext, type StreamDefinition, type StreamItem } from '../../streams';
import type { FullstoryApi } from './api';
import { CUSTOM_VARS, EVENT_KEY, eventShaper } from './events';
import individualsSchema from './schemas/segment_individuals.json';
import eventsSchema from './schemas/segment_events.json';

type ExportType = 'TYPE_EVENT' | 'TYPE_INDIVIDUAL';

interface Operation {
  state?: string;
  estimatePctComplete?: number;
  errorDetails?: string;
  results?: { searchExportId?: string };
}

interface TimeRange {
  start: string;
  end: string;
}

/** Every segment has a time range of its own; only `everyone` (a bulk export) has it replaced by the export's. */
const EVERYONE = 'everyone';

async function createExport(api: FullstoryApi, type: ExportType, range: TimeRange): Promise<string> {
  const body = { segmentId: api.segmentId, type, format: 'FORMAT_NDJSON', timeRange: range, ...(api.segmentId === EVERYONE ? { segmentTimeRange: range } : {}) };
  const { body: answer } = await api.http.postJson(joinUrl(api.baseUrl, '/segments/v1/exports'), body);
  const operationId = (answer as { operationId?: unknown })?.operationId;
  if (typeof operationId !== 'string' || operationId === '')
    throw new SystemError(`Fullstory answered POST /segments/v1/exports without an operationId: ${JSON.stringify(answer).slice(0, 200)}`);
  return operationId;
}

/** Polls the operation; progress goes out as LOG lines, so the wait is never silent. */
async function* awaitExport(api: FullstoryApi, operationId: string, what: string): AsyncGenerator<StreamItem, string> {
  const deadline = Date.now() + api.operationTimeoutMs;
  for (;;) {
    const { body } = await api.http.getJson<Operation>(joinUrl(api.baseUrl, `/operations/v1/${encodeURIComponent(operationId)}`));
    if (body?.state === 'COMPLETED') {
      const id = body.results?.searchExportId;
      if (typeof id !== 'string' || id === '') throw new SystemError(`Fullstory operation ${operationId} COMPLETED without results.searchExportId`);
      return id;
    }
    if (body?.state === 'FAILED') throw new SystemError(`Fullstory could not export ${what}: operation ${operationId} FAILED: ${body.errorDetails || 'no details given'}`);
    if (Date.now() + api.pollIntervalMs > deadline) {
      throw new TransientError(
        `Fullstory's export of ${what} (operation ${operationId}) was still ${body?.state ?? 'unfinished'} after ${api.operationTimeoutMs / 60_000} minutes (operation_timeout_minutes)`,
      );
    }
    const pct = typeof body?.estimatePctComplete === 'number' ? `${body.estimatePctComplete}% done` : 'progress unknown';
    yield { type: 'message', message: logMessage('INFO', `Fullstory export of ${what}: operation ${operationId} ${body?.state ?? '?'}, ${pct}`) };
    await sleep(api.pollIntervalMs);
  }
}

const describeExport = (api: FullstoryApi, type: ExportType, range: TimeRange) =>
  `${type === 'TYPE_EVENT' ? 'events' : 'individuals'} of segment "${api.segmentId}" ${range.start === '' ? `up to ${range.end}` : `from ${range.start} to ${range.end}`}`;

/** One export from request to rows: each row shaped as bytes. */
async function* exportRows(api: FullstoryApi, type: ExportType, range: TimeRange, rows: SplitterFactory): AsyncGenerator<StreamItem> {
  const operationId = await createExport(api, type, range);
  yield* operationRows(api, operationId, describeExport(api, type, range), rows);
}

/** The rows of an export already requested: waits for its operation, then downloads its file. */
async function* operationRows(api: FullstoryApi, operationId: string, what: string, rows: SplitterFactory): AsyncGenerator<StreamItem> {
  const searchExportId = yield* awaitExport(api, operationId, what);
  // The link "will typically be a 5 minute expiration window" (developer.fullstory.com/get-export-results):
  // a repeated download asks for a fresh one.
  const locate = () => exportLocation(api, searchExportId);
  const request = { url: await locate(), label: `export ${searchExportId}`, refresh: locate };
  for await (const batch of downloadItems(api.presignedDownloads, request, rows)) yield { type: 'raw_records', batch };
}

/** GET /search/v1/exports/{id}/results: the pre-signed link to the export's file. */
async function exportLocation(api: FullstoryApi, searchExportId: string): Promise<string> {
  const { body } = await api.http.getJson(joinUrl(api.baseUrl, `/search/v1/exports/${encodeURIComponent(searchExportId)}/results`));
  const location = (body as { location?: unknown })?.location;
  if (typeof location !== 'string' || !/^https?:\/\//.test(location)) throw new SystemError(`Fullstory gave no download location for export ${searchExportId}`);
  return location;
}

/** The instant an incremental stream's state holds under `key`, if any. */
function stateInstant(context: ReadContext, stream: string, key: string): number | undefined {
  const saved = context.syncMode === 'incremental' ? context.state?.[key] : undefined;
  if (saved === undefined || saved === null) return undefined;
  const ms = isoInstantMs(saved);
  if (ms === undefined) throw new ConfigError(`State for stream "${stream}": "${key}" must be an ISO 8601 date-time, got ${JSON.stringify(saved)}`);
  return ms;
}

const iso = (ms: number) => new Date(ms).toISOString();
const shapeEvent = eventShaper(eventsSchema, 'ndjson');
const shapeIndividual = eventShaper(individualsSchema, 'ndjson');

/**
 * Segment exports are prepared by Fullstory, segment_exports_in_flight at a time (StreamDefinition.waitsOn):
 * the two export streams take turns, so one sync never has more exports being prepared than that.
 */
const EXPORT_PREPARATION = 'segment export preparation';

/**
 * Events in time windows (segment_export_window_hours) from the state (less the overlap) up to now
 * minus the settle delay: Fullstory still links, completes and adds events for hours ("waiting 24
 * hours" for final values, help.fullstory.com/hc/en-us/articles/360020829273). The state is the end
 * of the last window fully written.
 */
const segmentEvents: StreamDefinition<FullstoryApi> = {
  name: 'segment_events',
  schema: eventsSchema,
  undeclaredInto: CUSTOM_VARS,
  primaryKey: EVENT_KEY,
  cursorField: ['EventStart'],
  // Fullstory takes seconds to hours to prepare each export; the other streams are read meanwhile.
  waitsOn: EXPORT_PREPARATION,
  async *read(api, context) {
    const incremental = context.syncMode === 'incremental';
    const saved = stateInstant(context, 'segment_events', 'EventStart');
    const now = await syncStartOnApiClock(api, context);
    const firstStart = context.startDate ? Date.parse(context.startDate) : now - api.defaultLookbackMs;
    let start = saved !== undefined ? saved - api.overlapMs : firstStart;
    // A state already past the end (or from the future) stays as it was.
    let state = incremental ? { EventStart: typeof context.state?.EventStart === 'string' ? context.state.EventStart : iso(start) } : {};
    const end = now - api.settleMs;
    const windows: TimeRange[] = [];
    for (let from = start; from < end; from = Math.min(end, from + api.windowMs)) windows.push({ start: iso(from), end: iso(Math.min(end, from + api.windowMs)) });
    // Fullstory prepares several windows' exports at once; they are read in window order. Their
    // operation ids ride in the state, so a sync stopped while Fullstory works resumes those exports.
    const savedOps = new Map(savedExports(context).map((op) => [rangeKey(op), op.operationId]));
    const prepared: { range: TimeRange; operationId: string }[] = [];
    let next = 0;
    const prepareAhead = async () => {
      while (next < windows.length && prepared.length < api.exportsInFlight) {
        const range = windows[next++];
        const reused = savedOps.get(rangeKey(range));
        prepared.push({ range, operationId: reused ?? (await createExport(api, 'TYPE_EVENT', range)) });
      }
    };
    const withExports = (cursor: Record<string, unknown>) =>
      incremental && prepared.length > 0 ? { ...cursor, exports: prepared.map((p) => ({ ...p.range, operationId: p.operationId })) } : cursor;
    await prepareAhead();
    if (incremental && prepared.length > 0) yield { type: 'checkpoint', state: withExports(state) };
    while (prepared.length > 0) {
      const { range, operationId } = prepared[0];
      yield { type: 'progress', position: `window ${windows.indexOf(range) + 1} of ${windows.length} (${range.start} to ${range.end})` };
      yield* resumedOrNew(api, operationId, range, savedOps.has(rangeKey(range)));
      prepared.shift();
      await prepareAhead();
      start = Date.parse(range.end);
      // Windows inside the overlap end before the saved state: it never moves backwards.
      if (incremental && (saved === undefined || start > saved)) state = { EventStart: range.end };
      if (incremental) yield { type: 'checkpoint', state: withExports(state) };
    }
    yield { type: 'checkpoint', state };
  },
};

/** A window as a key: its exports saved in the state are found by their range. */
const rangeKey = (range: TimeRange): string => `${range.start} ${range.end}`;

/** Exports a previous sync requested and had not read yet: {start, end, operationId} each. */
function savedExports(context: ReadContext): { start: string; end: string; operationId: string }[] {
  const exports = context.syncMode === 'incremental' ? context.state?.exports : undefined;
  if (!Array.isArray(exports)) return [];
  return exports.filter(
    (op): op is { start: string; end: string; operationId: string } => !!op && typeof op.start === 'string' && typeof op.end === 'string' && typeof op.operationId === 'string',
  );
}

/** A window's rows from its prepared export; an export a previous sync left that Fullstory no longer has is requested again. */
async function* resumedOrNew(api: FullstoryApi, operationId: string, range: TimeRange, resumed: boolean): AsyncGenerator<StreamItem> {
  const what = describeExport(api, 'TYPE_EVENT', range);
  if (!resumed) return yield* operationRows(api, operationId, what, shapeEvent);
  let gone: boolean;
  try {
    const { body } = await api.http.getJson<Operation>(joinUrl(api.baseUrl, `/operations/v1/${encodeURIComponent(operationId)}`));
    gone = body?.state === 'FAILED';
  } catch (error) {
    if (!(error instanceof ConnectorError) || error.httpStatus !== 404) throw error;
    gone = true;
  }
  if (gone) {
    yield { type: 'message', message: logMessage('INFO', `Fullstory no longer has export operation ${operationId} of ${what} (from the previous sync); requesting it again`) };
    return yield* exportRows(api, 'TYPE_EVENT', range, shapeEvent);
  }
  yield { type: 'message', message: logMessage('INFO', `Resuming export operation ${operationId} of ${what}, requested by the previous sync`) };
  yield* operationRows(api, operationId, what, shapeEvent);
}

/**
 * Individuals of the segment. An export holds "only users that performed events within the provided
 * time range" (developer.fullstory.com/create-segment-export), so a full refresh covers all data,
 * and an incremental sync the individuals active since the state (all data the first time): with
 * append_dedup on IndvId, an individual inactive since is kept. The state is the end of the range.
 */
const segmentIndividuals: StreamDefinition<FullstoryApi> = {
  name: 'segment_individuals',
  schema: individualsSchema,
  undeclaredInto: CUSTOM_VARS,
  primaryKey: [['IndvId']],
  cursorField: ['LastEventStart'],
  waitsOn: EXPORT_PREPARATION,
  async *read(api, context) {
    const incremental = context.syncMode === 'incremental';
    // Individuals are people, not history: start_date does not apply (like the users stream).
    const start = stateInstant(context, 'segment_individuals', 'LastEventStart');
    const end = await syncStartOnApiClock(api, context);
    if (start !== undefined && start >= end) {
      yield { type: 'checkpoint', state: context.state ?? {} };
      return;
    }
    // Empty start and end: "include all data" (developer.fullstory.com/create-segment-export, Time Ranges).
    yield* exportRows(api, 'TYPE_INDIVIDUAL', { start: start === undefined ? '' : iso(start), end: iso(end) }, shapeIndividual);
    yield { type: 'checkpoint', state: incremental ? { LastEventStart: iso(end) } : {} };
  },
};

/**
 * The sync's start on Fullstory's clock: an export range ending in the API's future would miss the
 * events that arrive later with earlier times. When no answer has told the time yet, a cheap list does.
 */
async function syncStartOnApiClock(api: FullstoryApi, context: ReadContext): Promise<number> {
  if (!context.clock.known) await api.http.getJson(joinUrl(api.baseUrl, '/segments/v1'), { limit: 1 });
  return context.clock.toApi(context.syncStartedAt.getTime());
}

export const segmentExportStreams = [segmentEvents, segmentIndividuals];
