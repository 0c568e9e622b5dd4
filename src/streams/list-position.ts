// Where a full refresh of a paged list stands, kept in its STATE so that a retried attempt of the
// same sync resumes there instead of at the first page (Airbyte's resumable full refresh: the state
// is the next page's token, e.g. {"page": 3}; airbyte-python-cdk http.py `_read_single_page`). The
// state is the query parameters of the next request that say where it reads (Paginator.position),
// with those of the part of the endpoint it is in (HttpStreamOptions.partitions).
import type { Logger, Params } from '../http';
import { ConnectorError, type StreamState } from '../protocol';
import type { PageRequest } from './paginate';

/** Where a resumed read starts: the part of the endpoint (its index) and the position parameters within it. */
export interface ResumePoint {
  part: number;
  position: Params;
}

/** A position read back from a URL's query is text; a number stays a number in the state (`{"page": 3}`). */
const asStated = (value: string | number | boolean): string | number | boolean => (typeof value === 'string' && String(Number(value)) === value ? Number(value) : value);

/**
 * The STATE after a page: where `next` reads, in the part with `partParams`. Undefined when the next
 * request does not carry its position (a next-page URL without a page number): the list then is
 * checkpointed only at its end.
 */
export function positionState(next: PageRequest, position: string[], partParams: Params): StreamState | undefined {
  const state: StreamState = { ...partParams };
  const query = new URL(next.url).searchParams;
  for (const name of position) {
    const value = next.params[name] ?? query.get(name) ?? undefined;
    if (value === undefined) return undefined;
    state[name] = asStated(value);
  }
  return state;
}

/**
 * Where a state written by positionState resumes, or why it cannot (a key this list does not page
 * by, a part it does not have: a state of another version or another stream).
 */
export function resumePoint(state: StreamState, parts: { params: Params }[], position: string[]): ResumePoint | string {
  const partKeys = new Set(parts.flatMap((part) => Object.keys(part.params)));
  for (const [key, value] of Object.entries(state)) {
    if (!partKeys.has(key) && !position.includes(key)) return `it holds "${key}", which this stream does not page by (${position.join(', ') || 'no paging'})`;
    if (!['string', 'number', 'boolean'].includes(typeof value)) return `its "${key}" is ${JSON.stringify(value)}, not a page position`;
  }
  const part = parts.findIndex((candidate) => Object.entries(candidate.params).every(([key, value]) => String(state[key]) === String(value)));
  if (part < 0) return `it names a part of the endpoint this stream does not read (${JSON.stringify(state)})`;
  const at: Params = {};
  for (const name of position) if (state[name] !== undefined) at[name] = state[name] as string | number | boolean;
  return { part, position: at };
}

/** Says that a stream goes on from the place an earlier attempt's state holds. */
export const logResuming = (stream: string, state: StreamState, log: Logger): void =>
  log('INFO', `Stream "${stream}": resuming where an earlier attempt of this sync stopped (${JSON.stringify(state)})`);

/** Answers to a resumed read's first request that say its position is no longer valid (a page token that expired). */
const STALE_POSITION_STATUSES = new Set([400, 404, 410, 422]);

/**
 * Reads from where an earlier attempt stopped (`read('position')`) or, if the API refuses the
 * resumed read's first request as a bad one before anything was read, from the start, said in a
 * WARN: a lost position costs a re-read, never a failed sync.
 */
export async function* fromPositionOrStart<T>(stream: string, resumed: boolean, read: (from: 'position' | 'start') => AsyncIterable<T>, log: Logger): AsyncGenerator<T> {
  let started = false;
  try {
    for await (const item of read('position')) {
      started = true;
      yield item;
    }
  } catch (error) {
    if (!resumed || started || !(error instanceof ConnectorError) || !STALE_POSITION_STATUSES.has(error.httpStatus ?? 0)) throw error;
    log('WARN', `Stream "${stream}": the API refused the position an earlier attempt stopped at (${error.message}); reading from the start`);
    yield* read('start');
  }
}
