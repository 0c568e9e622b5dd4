import type { ApiClock } from '../http';
import { ConfigError, type StreamState } from '../protocol';

interface Instant {
  text: string;
  ms: number;
}

/**
 * ISO 8601 / RFC 3339 as the APIs render it: a date, or a date and time (`T` or a space between),
 * seconds and their fraction optional, a zone optional. Nothing else is a date: JavaScript's own
 * parser reads "hello 5" as 2001.
 */
const ISO_8601 = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** The RFC 2822 form Mindstamp documents ("Sat, 1 Jan 2022 05:12:32 UTC +00:00"; audit #13): day, month name, year, time, zone. */
const RFC_2822 = /^(?:[A-Z][a-z]{2},?\s+)?\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?(\s+(?:UTC|GMT))?(\s*[+-]\d{2}:?\d{2})?$/;

/**
 * An instant from a cursor value. A value without a zone is UTC (not the host's zone, which would
 * move it by hours on another machine), and its text gets the zone, so a state is never read
 * differently elsewhere. A leap second (:60) is read as the second before it.
 */
const parseInstant = (value: unknown): Instant | undefined => {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  const rfc2822 = RFC_2822.exec(trimmed);
  if (rfc2822) {
    const zoned = rfc2822[1] !== undefined || rfc2822[2] !== undefined;
    const ms = Date.parse(zoned ? value : `${trimmed} GMT`);
    return Number.isFinite(ms) ? { text: zoned ? value : new Date(ms).toISOString(), ms } : undefined;
  }
  const match = ISO_8601.exec(trimmed);
  if (!match) return undefined;
  const [, date, minutes = '00:00', seconds = '00', fraction = '', zone] = match;
  const text = zone ? value : `${date}T${minutes}:${seconds}${fraction}Z`;
  const ms = Date.parse(`${date}T${minutes}:${seconds === '60' ? '59' : seconds}${fraction}${zone ?? 'Z'}`);
  return Number.isFinite(ms) ? { text, ms } : undefined;
};

/** A time in the RFC 2822 form Mindstamp documents, as ISO 8601 (the same instant, in UTC); undefined for any other text. */
export const rfc2822AsIso = (value: unknown): string | undefined => {
  if (typeof value !== 'string' || !RFC_2822.test(value.trim())) return undefined;
  const ms = parseInstant(value)?.ms;
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

/** The epoch ms of an ISO 8601 date-time (as parseInstant reads it), or undefined. */
export const isoInstantMs = (value: unknown): number | undefined => parseInstant(value)?.ms;

const later = (a: Instant | undefined, b: Instant | undefined): Instant | undefined => (!a ? b : !b ? a : b.ms > a.ms ? b : a);

export interface DatetimeCursorOptions {
  stream: string;
  /** Record field holding an ISO 8601 timestamp: a top-level name, or a path into nested objects. */
  field: string | string[];
  /** Stream state from the previous sync, if any: the value sits at the field's path (nested for a nested path). */
  state: StreamState | undefined;
  startDate: string | undefined;
  syncStartedAt: Date;
  clock: ApiClock;
  /**
   * What a record without the field means. `sync_start`: the API filtered on the server by this
   * cursor, so after the sync every change up to its start has been seen. `ignore`: the record is
   * emitted but does not move the cursor.
   */
  whenMissing: 'sync_start' | 'ignore';
  /** A top-level field read as the cursor value when a record lacks the cursor field. */
  fallback?: string;
}

/** Incremental cursor over an ISO 8601 field: lower bound from state or start_date, tracks the max. */
export class DatetimeCursor {
  readonly lowerBound: Instant | undefined;
  private maxSeen: Instant | undefined;
  private sawMissing = false;
  private readonly path: string[];

  constructor(private readonly options: DatetimeCursorOptions) {
    this.path = typeof options.field === 'string' ? [options.field] : options.field;
    const stateValue = options.state && valueAt(options.state, this.path);
    if (stateValue !== undefined && stateValue !== null) {
      const fromState = parseInstant(stateValue);
      if (!fromState) {
        throw new ConfigError(`State for stream "${options.stream}": "${this.path.join('.')}" must be an ISO 8601 date-time, got ${JSON.stringify(stateValue)}`);
      }
      this.lowerBound = fromState;
    } else {
      this.lowerBound = parseInstant(options.startDate);
    }
  }

  /**
   * Client-side filter: is the record at or after the lower bound? Inclusive: a record stamped with
   * the state's very instant (or within its millisecond) may have arrived after the previous sync
   * read the list, so the boundary instant is read again rather than lost. Records without the field pass.
   */
  isNew(record: Record<string, unknown>): boolean {
    const value = parseInstant(this.valueOf(record));
    return !value || !this.lowerBound || value.ms >= this.lowerBound.ms;
  }

  /**
   * The lower bound for a server-side filter ("updated after", "events after"): a millisecond before
   * the state, so a filter that is strict still returns the boundary instant.
   */
  serverBound(): string | undefined {
    return this.lowerBound ? new Date(this.lowerBound.ms - 1).toISOString() : undefined;
  }

  /**
   * A record dated after the API's now (a bad clock or bad data) is emitted but does not move the
   * state: a state in the future would hide every change until then.
   */
  observe(record: Record<string, unknown>): void {
    const value = parseInstant(this.valueOf(record));
    if (!value) this.sawMissing = true;
    else if (value.ms > this.options.clock.now()) {
      this.future.count++;
      this.future.latest = later(this.future.latest, value);
    } else this.maxSeen = later(this.maxSeen, value);
  }

  /** Records dated after the API's now, and the latest of their dates. */
  readonly future: { count: number; latest?: Instant } = { count: 0 };

  /** Never moves backwards: a state from the future stays as it is. */
  state(): StreamState {
    let next = later(this.lowerBound, this.maxSeen);
    if (this.sawMissing && this.options.whenMissing === 'sync_start') {
      const started = this.options.clock.toApi(this.options.syncStartedAt.getTime());
      next = later(next, { text: new Date(started).toISOString(), ms: started });
    }
    return next ? stateAt(this.path, next.text) : {};
  }

  private valueOf(record: Record<string, unknown>): unknown {
    const value = valueAt(record, this.path);
    return (value === undefined || value === null) && this.options.fallback !== undefined ? record[this.options.fallback] : value;
  }
}

/** The value at a path into nested objects, if any. */
export function valueAt(object: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = object;
  for (const key of path) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** A state holding `value` at the cursor's path: `{a: {b: value}}` for the path [a, b]. */
function stateAt(path: string[], value: string): StreamState {
  let state: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) state = { [path[i]]: state };
  return state as StreamState;
}
