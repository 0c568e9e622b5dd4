// Segment export, Fullstory's current bulk path: POST /segments/v1/exports → {operationId}; poll
// GET /operations/v1/{id} until COMPLETED (results.searchExportId) or FAILED (errorDetails); GET
// /search/v1/exports/{id}/results → {location, expires}; download `location`, a pre-signed gzip
// NDJSON file on another host, without the API key.
import { downloadItems, type SplitterFactory } from '../../core/download';
import { ConfigError, SystemError, TransientError } from '../../core/errors';
import { logMessage } from '../../core/protocol';
import { sleep } from '../../core/rate-limit';
import { joinUrl, type ReadContext, type StreamDefinition, type StreamItem } from '../../core/stream';
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
  if (typeof operationId !== 'string' || operationId === '') throw new SystemError(`Fullstory answered POST /segments/v1/exports without an operationId: ${JSON.stringify(answer).slice(0, 200)}`);
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

/** One export from request to rows: each row shaped as bytes. */
async function* exportRows(api: FullstoryApi, type: ExportType, range: TimeRange, rows: SplitterFactory): AsyncGenerator<StreamItem> {
  const span = range.start === '' ? `up to ${range.end}` : `from ${range.start} to ${range.end}`;
  const what = `${type === 'TYPE_EVENT' ? 'events' : 'individuals'} of segment "${api.segmentId}" ${span}`;
  const operationId = await createExport(api, type, range);
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
  const ms = typeof saved === 'string' ? Date.parse(saved) : NaN;
  if (!Number.isFinite(ms)) throw new ConfigError(`State for stream "${stream}": "${key}" must be an ISO 8601 date-time, got ${JSON.stringify(saved)}`);
  return ms;
}

const iso = (ms: number) => new Date(ms).toISOString();
const shapeEvent = eventShaper(eventsSchema, 'ndjson');
const shapeIndividual = eventShaper(individualsSchema, 'ndjson');

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
  async *read(api, context) {
    const incremental = context.syncMode === 'incremental';
    const saved = stateInstant(context, 'segment_events', 'EventStart');
    const now = await syncStartOnApiClock(api, context);
    const firstStart = context.startDate ? Date.parse(context.startDate) : now - api.defaultLookbackMs;
    let start = saved !== undefined ? saved - api.overlapMs : firstStart;
    // A state already past the end (or from the future) stays as it was.
    let state = incremental ? { EventStart: typeof context.state?.EventStart === 'string' ? context.state.EventStart : iso(start) } : {};
    const end = now - api.settleMs;
    while (start < end) {
      const windowEnd = Math.min(end, start + api.windowMs);
      yield { type: 'progress', position: `window ${iso(start)} to ${iso(windowEnd)}` };
      yield* exportRows(api, 'TYPE_EVENT', { start: iso(start), end: iso(windowEnd) }, shapeEvent);
      start = windowEnd;
      // Windows inside the overlap end before the saved state: it never moves backwards.
      if (incremental && (saved === undefined || start > saved)) yield { type: 'checkpoint', state: (state = { EventStart: iso(start) }) };
    }
    yield { type: 'checkpoint', state };
  },
};

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
