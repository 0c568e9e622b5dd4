// Legacy Data Export (deprecated by Fullstory, still live): GET {export}/list?start=<unix s> answers
// the first 20 bundles that end after `start`, oldest first; GET {export}/get?id=<Id> is the bundle,
// a JSON array of events, gzipped or not. Downloads are limited to 2 per minute.
import { downloadItems } from '../../http';
import { ConfigError, JsonBatch, SystemError } from '../../protocol';
import { ADDITIONAL_PROPERTIES, joinUrl, type ReadContext, renamedStateKey, type StreamDefinition } from '../../streams';
import type { FullstoryApi } from './api';
import { CUSTOM_VARS, EVENT_KEY, eventShaper } from './events';
import bundleSchema from './schemas/export_bundles.json';
import eventsSchema from './schemas/events.json';

const PAGE = 20;

interface Bundle {
  Id: number | string;
  Start: number;
  Stop: number;
  [key: string]: unknown;
}

/** Where reading starts: the state's bundle end (unix seconds), else start_date, else the beginning. */
function startFrom(context: ReadContext, stream: string, stateKey: string): number {
  const saved = context.state?.[stateKey];
  if (saved !== undefined && saved !== null) {
    // Any time the API gave as a Stop is read back, a fraction of a second included.
    if (typeof saved !== 'number' || !Number.isFinite(saved) || saved < 0) {
      throw new ConfigError(`State for stream "${stream}": "${stateKey}" must be a unix time in seconds, got ${JSON.stringify(saved)}`);
    }
    return saved;
  }
  return context.startDate ? Math.floor(Date.parse(context.startDate) / 1000) : 0;
}

/**
 * Pages of bundles ending after `start`, oldest first. `start` is sent in whole seconds (the API
 * takes an int): a bundle the rounding brings back, one that ends at or before `start`, is skipped.
 * `last`: no page follows (this one was short), so the bundles listed so far are all of them.
 */
async function* bundlePages(api: FullstoryApi, start: number): AsyncGenerator<Bundle[] & { last?: boolean }> {
  const url = joinUrl(api.exportBaseUrl, '/list');
  for (let from = start; ;) {
    const seconds = Math.floor(from);
    const { body } = await api.http.getJson(url, { start: seconds });
    const bundles = (body as { exports?: unknown })?.exports;
    if (!Array.isArray(bundles)) throw new SystemError(`Fullstory answered GET /list?start=${seconds} without an "exports" list`);
    for (const bundle of bundles as Bundle[]) {
      if (!bundle || typeof bundle.Stop !== 'number' || bundle.Id === undefined) {
        throw new SystemError(`Fullstory answered GET /list?start=${seconds} with a bundle lacking Id or Stop: ${JSON.stringify(bundle).slice(0, 200)}`);
      }
    }
    const last = bundles.length < PAGE;
    yield Object.assign(
      (bundles as Bundle[]).filter((bundle) => bundle.Stop > start),
      { last },
    );
    if (last) return;
    const lastStop = bundles[bundles.length - 1].Stop;
    if (lastStop <= from) throw new SystemError(`Fullstory's bundle list did not advance past start=${from}; stopping instead of looping`);
    from = lastStop;
  }
}

/** A bundle's Id as JSON text, digit for digit (the lossless parse kept an Id beyond 2^53 as a string). */
const idJson = ({ Id }: Bundle): string => (typeof Id === 'string' && /^-?\d+$/.test(Id) ? Id : JSON.stringify(Id));

/** A bundle as JSON text: Id digit for digit, undeclared keys under the catch-all field (the platform drops them). */
function bundleJson(bundle: Bundle): string {
  const { Id, Start, Stop, ...rest } = bundle;
  const extra = Object.keys(rest).length > 0 ? `,${JSON.stringify(ADDITIONAL_PROPERTIES)}:${JSON.stringify(rest)}` : '';
  return `{"Id":${idJson(bundle)},"Start":${JSON.stringify(Start ?? null)},"Stop":${JSON.stringify(Stop)}${extra}}`;
}

const exportBundles: StreamDefinition<FullstoryApi> = {
  name: 'export_bundles',
  schema: bundleSchema,
  primaryKey: [['Id']],
  cursorField: ['Stop'],
  async *read(api, context) {
    const incremental = context.syncMode === 'incremental';
    let stop = startFrom(incremental ? context : { ...context, state: undefined }, 'export_bundles', 'Stop');
    for await (const bundles of bundlePages(api, stop)) {
      yield { type: 'raw_records', batch: JsonBatch.of(bundles.map(bundleJson)) };
      if (bundles.length > 0) stop = bundles[bundles.length - 1].Stop;
      if (incremental) yield { type: 'checkpoint', state: { Stop: stop } };
    }
    yield { type: 'checkpoint', state: incremental ? { Stop: stop } : {} };
  },
};

/** The connector adds the bundle each event came from; its `Stop` is the stream's cursor. */
const BUNDLE_ID = 'ExportBundleId';
const BUNDLE_STOP = 'ExportBundleStop';
const eventsOfBundle = (bundle: Bundle) => eventShaper(eventsSchema, 'array', { [BUNDLE_ID]: idJson(bundle), [BUNDLE_STOP]: JSON.stringify(bundle.Stop) });

/**
 * Events of every bundle, in bundle order. The state is the `Stop` of the last bundle whose events
 * were all written, so a sync cut short resumes with the next bundle (or repeats the one it was in).
 */
const events: StreamDefinition<FullstoryApi> = {
  name: 'events',
  schema: eventsSchema,
  undeclaredInto: CUSTOM_VARS,
  // A bundle repeated after a crash repeats its events: the key lets a destination drop them.
  primaryKey: EVENT_KEY,
  cursorField: [BUNDLE_STOP],
  // Versions up to 0.1.0 kept the bundle end as `Stop` (and declared EventStart as the cursor).
  migrateState: renamedStateKey('Stop', BUNDLE_STOP),
  async *read(api, context) {
    const incremental = context.syncMode === 'incremental';
    let stop = startFrom(incremental ? context : { ...context, state: undefined }, 'events', BUNDLE_STOP);
    let bundleNumber = 0;
    let listed = 0;
    for await (const bundles of bundlePages(api, stop)) {
      listed += bundles.length;
      // The list comes 20 bundles at a time: until its last page, the total is a lower bound.
      const total = bundles.last ? `of ${listed}` : `of at least ${listed}`;
      for (const bundle of bundles) {
        yield { type: 'progress', position: `bundle ${++bundleNumber} ${total} (id ${bundle.Id}, ending ${new Date(bundle.Stop * 1000).toISOString()})` };
        const request = { url: joinUrl(api.exportBaseUrl, '/get'), params: { id: String(bundle.Id) }, label: `export bundle ${bundle.Id}` };
        for await (const events of downloadItems(api.bundleDownloads, request, eventsOfBundle(bundle))) yield { type: 'raw_records', batch: events };
        stop = bundle.Stop;
        if (incremental) yield { type: 'checkpoint', state: { [BUNDLE_STOP]: stop } };
      }
    }
    yield { type: 'checkpoint', state: incremental ? { [BUNDLE_STOP]: stop } : {} };
  },
};

export const legacyExportStreams = [exportBundles, events];
