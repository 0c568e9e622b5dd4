// Cases 7 and 8: APIs whose limit the connector is not told (case 11, below: one that announces it). The mock refuses more than `perSecond`
// requests a second (fixed windows, 429 with Retry-After up to the window's end, as Fullstory
// answers a limit hit); the connector runs with default settings, pacing adaptively from its default
// ceiling (6,000 a minute, twice the limit the benchmark sets). Measured:
// the share of the limit's request rate reached, the share of requests refused, and that every
// record is written exactly once.
import { catalogFor, writeTemp } from '../helpers/connector';
import { sessionCount, FullstoryMock } from '../mocks/fullstory';
import { MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';
import type { MockServer, RateLimit } from '../mocks/server';
import { measure } from './measure';

export interface LimitResult {
  records: number;
  expected: number;
  seconds: number;
  /** Requests the mock accepted per second, as a share of its limit. */
  shareOfLimit: number;
  /** Requests answered 429, as a share of all requests. */
  refused: number;
  requests: number;
}

/** Fullstory's and Mindstamp's answer to a limit hit: 429 with Retry-After up to the window's end. */
export const refuseAbove = (perSecond: number, body: unknown, kind: RateLimit['kind'] = 'fixed'): RateLimit => ({
  limit: perSecond,
  windowMs: 1000,
  kind,
  reject: (resetAt) => ({ status: 429, headers: { 'Retry-After': String(Math.max(1, Math.ceil((resetAt - Date.now()) / 1000))) }, body }),
});

/** Runs a read against a mock that refuses more than `perSecond`, and measures what it reached. */
async function underUntoldLimit(
  mock: MockServer,
  perSecond: number,
  config: unknown,
  streams: Record<string, 'full_refresh'>,
  expected: number,
  main: string,
): Promise<LimitResult> {
  mock.rateLimit = mock.rateLimit ?? refuseAbove(perSecond, { error: 'Too many requests' });
  const measured = await measure([main, 'read', '--config', writeTemp('config.json', config), '--catalog', writeTemp('catalog.json', catalogFor(streams))]);
  const requests = mock.requests.length;
  const accepted = requests - mock.rateLimited;
  return {
    records: measured.records,
    expected,
    seconds: measured.wallMs / 1000,
    shareOfLimit: accepted / (measured.wallMs / 1000) / perSecond,
    refused: mock.rateLimited / requests,
    requests,
  };
}

/**
 * Default settings: the mocks' fast test tuning removed. In cases 7 and 8 the default ceiling (6,000
 * a minute) is twice the untold limit of 50 a second, so the connector must find the limit itself.
 */
export const DEFAULTS = { requests_per_minute: undefined, retry_initial_delay_seconds: undefined, max_wait_seconds: undefined, request_timeout_seconds: undefined };

/** Case 7: Fullstory users + sessions (one request per identified user, several in flight). */
export async function unknownLimit(users: number, perSecond: number, main: string): Promise<LimitResult> {
  const mock = await new FullstoryMock({ users, bundles: 0, segmentEvents: 0, individuals: 0 }).start();
  mock.rateLimit = refuseAbove(perSecond, { message: 'Too many requests', code: 'resource_exhausted' });
  try {
    const expected = mock.users.length + mock.users.reduce((sum, user, index) => sum + (user.uid ? sessionCount(index) : 0), 0);
    return await underUntoldLimit(mock, perSecond, mock.connectorConfig(DEFAULTS), { users: 'full_refresh', sessions: 'full_refresh' }, expected, main);
  } finally {
    await mock.close();
  }
}

/** Case 8: Mindstamp's paged lists, pages of 10 so that the pace, not the records, is measured. */
export async function unknownLimitMindstamp(interactions: number, perSecond: number, main: string): Promise<LimitResult> {
  const mock = await new MindstampMock({ counts: { views: Math.round(interactions / 2), interactions } }).start();
  try {
    const streams = ['videos', 'viewers', 'views', 'interactions'] as const;
    const expected = streams.reduce((sum, stream) => sum + mock.records(stream).length, 0);
    const config = mock.connectorConfig({ ...DEFAULTS, page_size: 10 });
    return await underUntoldLimit(mock, perSecond, config, Object.fromEntries(streams.map((s) => [s, 'full_refresh'])), expected, main);
  } finally {
    await mock.close();
  }
}

export interface AnnouncedLimitResult {
  records: number;
  expected: number;
  requests: number;
  refused: number;
  /** Requests per second from the second request to the last, as a share of the limit. */
  shareOfLimit: number;
}

/**
 * Case 11: PersistIQ at its limit, scaled: `perSecond` requests a second in 2 s windows, announced
 * per minute in X-RateLimit-Limit as PersistIQ does; default settings (requests_per_minute empty, so
 * the pace follows the announcement from the second request on).
 */
export async function persistiqAtLimit(leads: number, perSecond: number, main: string): Promise<AnnouncedLimitResult> {
  const mock = await new PersistIqMock({ rateLimit: { limit: 2 * perSecond, windowMs: 2000 }, counts: { leads } }).start();
  try {
    const measured = await measure([
      main,
      'read',
      '--config',
      writeTemp('config.json', mock.connectorConfig(DEFAULTS)),
      '--catalog',
      writeTemp('catalog.json', catalogFor({ leads: 'full_refresh' })),
    ]);
    const times = mock.requests.slice(1).map((request) => request.at);
    const perSecondReached = (times.length - 1) / ((times.at(-1)! - times[0]) / 1000);
    return { records: measured.records, expected: leads, requests: mock.requests.length, refused: mock.rateLimited, shareOfLimit: perSecondReached / perSecond };
  } finally {
    await mock.close();
  }
}
