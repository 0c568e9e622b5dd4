// Segment export, Fullstory's current bulk path: POST /segments/v1/exports → {operationId}; poll
// GET /operations/v1/{id} until COMPLETED (results.searchExportId) or FAILED (errorDetails); GET
// /search/v1/exports/{id}/results → {location, expires}; download `location`, a pre-signed gzip
// NDJSON file on another host, without the API key.
import { downloadItems } from '../../core/download';
import type { ObjectStreamShaper } from '../../core/object-shaper';
import { ConfigError, SystemError, TransientError } from '../../core/errors';
import { logMessage } from '../../core/protocol';
import { sleep } from '../../core/rate-limit';
import { joinUrl, type ReadContext, type StreamDefinition, type StreamItem } from '../../core/stream';
import type { FullstoryApi } from './api';
import { CUSTOM_VARS, eventShaper } from './events';
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

async function createExport(api: FullstoryApi, type: ExportType, range: TimeRange): Promise<string> {
  const body = { segmentId: api.segmentId, type, format: 'FORMAT_NDJSON', timeRange: range, segmentTimeRange: range };
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
async function* exportRows(api: FullstoryApi, type: ExportType, range: TimeRange, rows: () => ObjectStreamShaper): AsyncGenerator<StreamItem> {
  const what = `${type === 'TYPE_EVENT' ? 'events' : 'individuals'} of segment "${api.segmentId}" from ${range.start} to ${range.end}`;
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

/** The lower bound: state, else start_date, else the default lookback. */
function lowerBound(api: FullstoryApi, context: ReadContext, stateKey: string | undefined): number {
  const saved = stateKey ? context.state?.[stateKey] : undefined;
  if (saved !== undefined && saved !== null) {
    const ms = typeof saved === 'string' ? Date.parse(saved) : NaN;
    if (!Number.isFinite(ms)) throw new ConfigError(`State for stream "segment_events": "${stateKey}" must be an ISO 8601 date-time, got ${JSON.stringify(saved)}`);
    return ms;
  }
  return context.startDate ? Date.parse(context.startDate) : context.syncStartedAt.getTime() - api.defaultLookbackMs;
}

const iso = (ms: number) => new Date(ms).toISOString();
const shapeEvent = eventShaper(eventsSchema, 'ndjson');
const shapeIndividual = eventShaper(individualsSchema, 'ndjson');

/**
 * Events in time windows (segment_export_window_hours) from the state up to now minus a settle delay
 * (late events are still being processed). The state is the end of the last window fully written.
 */
const segmentEvents: StreamDefinition<FullstoryApi> = {
  name: 'segment_events',
  schema: eventsSchema,
  undeclaredInto: CUSTOM_VARS,
  cursorField: ['EventStart'],
  async *read(api, context) {
    const incremental = context.syncMode === 'incremental';
    let start = lowerBound(api, context, incremental ? 'EventStart' : undefined);
    // A state already past the end (or from the future) stays as it was.
    let state = incremental ? { EventStart: typeof context.state?.EventStart === 'string' ? context.state.EventStart : iso(start) } : {};
    const end = context.syncStartedAt.getTime() - api.settleMs;
    while (start < end) {
      const windowEnd = Math.min(end, start + api.windowMs);
      yield* exportRows(api, 'TYPE_EVENT', { start: iso(start), end: iso(windowEnd) }, shapeEvent);
      start = windowEnd;
      if (incremental) yield { type: 'checkpoint', state: (state = { EventStart: iso(start) }) };
    }
    yield { type: 'checkpoint', state };
  },
};

/** Every individual of the segment seen from start_date (or the default lookback) until now. */
const segmentIndividuals: StreamDefinition<FullstoryApi> = {
  name: 'segment_individuals',
  schema: individualsSchema,
  undeclaredInto: CUSTOM_VARS,
  primaryKey: [['IndvId']],
  async *read(api, context) {
    yield* exportRows(api, 'TYPE_INDIVIDUAL', { start: iso(lowerBound(api, context, undefined)), end: iso(context.syncStartedAt.getTime()) }, shapeIndividual);
    yield { type: 'checkpoint', state: {} };
  },
};

export const segmentExportStreams = [segmentEvents, segmentIndividuals];
