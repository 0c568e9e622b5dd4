import { type ApiClock, describeRequest, type HttpClient, type Logger, type Params } from '../http';
import { DatetimeCursor } from './cursor';
import { type AirbyteMessage, type JsonBatch, rowEstimate, type StreamState, type SyncMode, SystemError } from '../protocol';
import { ADDITIONAL_PROPERTIES, withCatchAll } from './schema-drift';
import { fetchPages } from './page-reader';
import { recordsAt, singlePage, type Paginator } from './paginate';
import { fromPositionOrStart, logResuming, positionState, resumePoint, type ResumePoint } from './list-position';
import { type Part, PartCopies } from './parts';

export type JsonSchema = Record<string, unknown>;
export type JsonRecord = Record<string, unknown>;

export interface ReadContext {
  syncMode: SyncMode;
  /**
   * Incremental: this stream's state from the previous sync. Full refresh of a resumable stream:
   * where an earlier attempt of this sync stopped. Undefined: from the beginning.
   */
  state: StreamState | undefined;
  startDate: string | undefined;
  /** When the sync started, on the connector's clock (`clock.toApi` gives it on the API's). */
  syncStartedAt: Date;
  clock: ApiClock;
  log: Logger;
}

/** What a stream yields to the read loop, in order. */
export type StreamItem =
  | { type: 'record'; data: JsonRecord }
  /** Records whose data is already JSON (passed through as bytes, without parse → stringify). */
  | { type: 'raw_records'; batch: JsonBatch }
  /** State covering every record yielded before it. */
  | { type: 'checkpoint'; state: StreamState }
  /** Where the stream is ("bundle 3 of 12", "window 2026-11-02"), for the progress LOGs. */
  | { type: 'progress'; position: string }
  /** Any other message (estimates, logs) passed straight to the output. */
  | { type: 'message'; message: AirbyteMessage };

export interface StreamDefinition<Api> {
  name: string;
  schema: JsonSchema;
  primaryKey?: string[][];
  /**
   * Source-defined cursor; its presence makes the stream incremental. The stream's state holds the
   * cursor value under this same top-level key (CAT and the platform look for it there).
   */
  cursorField?: string[];
  /**
   * The declared object field that carries the top-level keys the schema does not list (default
   * ADDITIONAL_PROPERTIES). The core moves them there for records yielded as objects; streams that
   * yield bytes (Fullstory's exports: custom_vars) move them themselves.
   */
  undeclaredInto?: string;
  /**
   * Something this stream can only wait on in turn with the other streams that name it (Fullstory
   * preparing its exports). Streams are otherwise read at the same time, sharing their API's pace.
   */
  waitsOn?: string;
  /**
   * In full refresh, the stream checkpoints where it is (a page token, an offset, the parents done)
   * and a retried attempt of the same sync, given that state, resumes there (discovered
   * is_resumable). Without it, a full refresh always starts from the beginning.
   */
  resumable?: boolean;
  /** Rewrites a state an earlier version wrote into the shape this version writes (applied on input). */
  migrateState?: (state: StreamState) => StreamState;
  read(api: Api, context: ReadContext): AsyncIterable<StreamItem>;
}

/** The declared field that carries a stream's undeclared top-level keys. */
export const catchAllField = (stream: StreamDefinition<unknown>): string => stream.undeclaredInto ?? ADDITIONAL_PROPERTIES;

/** The schema the catalog declares: the stream's own, with its catch-all field for undeclared keys. */
export const catalogSchema = (stream: StreamDefinition<unknown>): JsonSchema => withCatchAll(stream.schema, catchAllField(stream));

/** A state migration: a value an earlier version kept under `from` now lives under `to`. */
export const renamedStateKey =
  (from: string, to: string) =>
  (state: StreamState): StreamState => {
    if (!(from in state) || to in state) return state;
    const { [from]: value, ...rest } = state;
    return { ...rest, [to]: value };
  };

/** What a declarative HTTP stream needs from its API's context. */
export interface HttpApi {
  http: HttpClient;
  baseUrl: string;
  apiTitle: string;
}

export interface HttpStreamOptions<Api extends HttpApi = HttpApi> {
  name: string;
  schema: JsonSchema;
  primaryKey?: string[][];
  path: string;
  params?: Params;
  /** Envelope key holding the records; null when the body is the list itself. */
  records: string | null;
  /** Whether an envelope without that key is an empty page (APIs that leave out empty lists). */
  absentRecordsAreEmpty?: boolean;
  /**
   * Fields the connector adds to each record, computed from it (as the CDK's AddFields); a field the
   * record already has keeps its value.
   */
  addFields?: Record<string, (record: JsonRecord) => unknown>;
  /** A rewrite of each record's values (made anew for each read), counted and reported once at the stream's end. */
  rewrite?: () => RecordRewrite;
  /** Reads the API's total row count from the first page, reported as an ESTIMATE trace. */
  estimate?: (body: unknown) => number | undefined;
  /** A fixed strategy, or one built from the API's context (e.g. a configured page size). */
  paginator: Paginator | ((api: Api) => Paginator);
  /**
   * Parts of the endpoint read one after the other, each with its own query parameters (e.g. one
   * per documented filter value, when no request returns them all), and the fields that name the
   * part in its records (a field the record has keeps its value). A record that comes in two parts
   * (same primary key) is written once.
   */
  partitions?: Part[];
  incremental?: {
    /** A top-level field, or a path into nested objects (the state nests the same way). */
    cursor: string | string[];
    /** A field read as the cursor value when a record lacks the cursor field (an older record shape). */
    cursorFallback?: string;
    /** Query parameter carrying the lower bound to the server, if the API has one. */
    requestParam?: string;
    /** Whether the API returns records sorted by the cursor (then: checkpoint after every page). */
    sorted: boolean;
    /** Whether to drop records not newer than the state on our side too. */
    clientFilter: boolean;
    whenMissing: 'sync_start' | 'ignore';
  };
  migrateState?: (state: StreamState) => StreamState;
}

export interface RecordRewrite {
  apply(record: JsonRecord): JsonRecord;
  /** What was rewritten, for an INFO at the stream's end; undefined when nothing. */
  report(): string | undefined;
}

export const joinUrl = (base: string, path: string): string => `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;

/**
 * Null items are not records (they are counted, to be reported once per stream); anything else
 * that is not an object means the API changed shape.
 */
export function* recordObjects(items: unknown[], where: string, countNull: () => void): Generator<JsonRecord> {
  for (const item of items) {
    if (item === null) {
      countNull();
      continue;
    }
    if (typeof item !== 'object' || Array.isArray(item)) {
      throw new SystemError(`${where} returned a ${Array.isArray(item) ? 'list' : typeof item} where a record object was expected: ${JSON.stringify(item).slice(0, 100)}`);
    }
    yield item as JsonRecord;
  }
}

function withAddedFields(record: JsonRecord, fields: Record<string, (record: JsonRecord) => unknown>): JsonRecord {
  const added: JsonRecord = {};
  for (const [name, compute] of Object.entries(fields)) if (!(name in record)) added[name] = compute(record);
  return { ...record, ...added };
}

/** A stream read from one paginated GET endpoint: the common case, declared in a few lines. */
export function httpStream<Api extends HttpApi = HttpApi>(options: HttpStreamOptions<Api>): StreamDefinition<Api> {
  const { incremental, addFields } = options;
  return {
    name: options.name,
    schema: options.schema,
    primaryKey: options.primaryKey,
    cursorField: incremental ? (typeof incremental.cursor === 'string' ? [incremental.cursor] : incremental.cursor) : undefined,
    // One request has no position to resume at.
    resumable: options.paginator !== singlePage,
    migrateState: options.migrateState,
    async *read(api, context) {
      const cursor =
        incremental && context.syncMode === 'incremental'
          ? new DatetimeCursor({
              stream: options.name,
              field: incremental.cursor,
              state: context.state,
              startDate: context.startDate,
              syncStartedAt: context.syncStartedAt,
              clock: context.clock,
              whenMissing: incremental.whenMissing,
              fallback: incremental.cursorFallback,
            })
          : undefined;
      const params: Params = { ...options.params };
      const serverBound = cursor?.serverBound();
      if (serverBound && incremental?.requestParam) params[incremental.requestParam] = serverBound;
      const url = joinUrl(api.baseUrl, options.path);
      let nulls = 0;
      const paginator = typeof options.paginator === 'function' ? options.paginator(api) : options.paginator;
      let estimate = options.estimate;
      const partitions = options.partitions ?? [{ params: {}, fields: {} }];
      // A full refresh keeps its position in the list; an incremental read its cursor.
      const position = context.syncMode === 'full_refresh' ? paginator.position : undefined;
      // Only needed where parts could overlap: the primary keys already written.
      const newCopies = () => (partitions.length > 1 && options.primaryKey ? new PartCopies(partitions, options.primaryKey) : undefined);
      let copies = newCopies();
      const select = recordsAt(options.records, api.apiTitle, options.absentRecordsAreEmpty);
      const rewrite = options.rewrite?.();
      /** A record as read, before copies are dropped: its added fields, and the fields that name its part. */
      const asRead = (item: JsonRecord, part: number): JsonRecord => {
        const record = addFields ? withAddedFields(item, addFields) : item;
        return partitions.length > 1 ? { ...partitions[part].fields, ...record } : record;
      };
      /** A resumed read that could meet copies: the keys written before `start` (by an earlier attempt) are read again. */
      const rememberBefore = async (start: ResumePoint, names: string[]): Promise<void> => {
        const midPart = names.some((name) => start.position[name] !== undefined);
        for (let part = 0; copies && (part < start.part || (part === start.part && midPart)); part++) {
          const first = { url, params: { ...params, ...partitions[part].params } };
          for await (const page of fetchPages(api.http, first, paginator, select)) {
            for (const item of recordObjects(page.items, describeRequest(page.request), () => undefined)) copies.remember(asRead(item, part), part);
            const next = part === start.part ? paginator.next(page) : undefined;
            if (next && names.every((name) => positionState(next, [name], {})?.[name] === start.position[name])) break;
          }
        }
      };
      const readFrom = async function* (start: ResumePoint): AsyncGenerator<StreamItem> {
        // A read that starts over (a position the API no longer takes) forgets what a resume remembered.
        copies = newCopies();
        if (copies && position && (start.part > 0 || Object.keys(start.position).length > 0)) await rememberBefore(start, position);
        for (let part = start.part; part < partitions.length; part++) {
          const partition = partitions[part];
          const first = { url, params: { ...params, ...partition.params, ...(part === start.part ? start.position : {}) } };
          for await (const page of fetchPages(api.http, first, paginator, select)) {
            // The first page carries the total, when the API gives one.
            const rows = estimate?.(page.body);
            estimate = undefined;
            if (rows !== undefined) yield { type: 'message', message: rowEstimate(options.name, rows) };
            for (const item of recordObjects(page.items, describeRequest(page.request), () => nulls++)) {
              const read = asRead(item, part);
              if (copies && !copies.admit(read, part)) continue;
              const record = rewrite ? rewrite.apply(read) : read;
              if (cursor) {
                if (incremental?.clientFilter && !cursor.isNew(record)) continue;
                cursor.observe(record);
              }
              yield { type: 'record', data: record };
            }
            if (cursor && incremental?.sorted && partitions.length === 1) yield { type: 'checkpoint', state: cursor.state() };
            if (position) {
              const next = paginator.next(page);
              // The first page of a part without parameters has no place of its own: the state before stays.
              const state = next ? positionState(next, position, partition.params) : partitions[part + 1] && { ...partitions[part + 1].params };
              if (state && Object.keys(state).length > 0) yield { type: 'checkpoint', state };
            }
          }
        }
      };
      const resumeFrom = position && context.state && Object.keys(context.state).length > 0 ? resumeAt(context.state, partitions, position, options.name, context.log) : undefined;
      const beginning: ResumePoint = { part: 0, position: {} };
      yield* fromPositionOrStart(options.name, resumeFrom !== undefined, (from) => readFrom(from === 'position' ? (resumeFrom ?? beginning) : beginning), context.log);
      if (nulls > 0) context.log('INFO', `Stream "${options.name}": skipped ${nulls} null item(s) in the responses of GET ${new URL(url).pathname}`);
      const rewritten = rewrite?.report();
      if (rewritten) context.log('INFO', `Stream "${options.name}": ${rewritten}`);
      const partsAdded = copies?.summary();
      if (partsAdded) context.log('INFO', `Stream "${options.name}": ${partsAdded}`);
      if (cursor && cursor.future.count > 0) {
        context.log(
          'WARN',
          `Stream "${options.name}": ${cursor.future.count} record(s) dated after the API's current time (the latest ${cursor.future.latest?.text}) were written but do not move the state, which stays at or before now`,
        );
      }
      if (cursor) yield { type: 'checkpoint', state: cursor.state() };
    },
  };
}

/** Where a full refresh resumes, given an earlier attempt's state; undefined (from the start, said) if the state does not fit. */
function resumeAt(state: StreamState, partitions: { params: Params }[], position: string[], stream: string, log: Logger): ResumePoint | undefined {
  const point = resumePoint(state, partitions, position);
  if (typeof point !== 'string') {
    logResuming(stream, state, log);
    return point;
  }
  log('WARN', `Stream "${stream}": the state given cannot be resumed (${point}); reading from the first page`);
  return undefined;
}
