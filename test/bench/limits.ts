// Case 7: an API whose limit the connector is not told. The Fullstory mock refuses more than
// `perSecond` requests a second (fixed windows, 429 with Retry-After up to the window's end, as
// Fullstory answers a limit hit); the connector paces adaptively from a ceiling twice that limit,
// with sessions requests in flight. Measured: the share of the limit's request rate reached, the
// share of requests refused, and that every user and session is written exactly once.
import { catalogFor, writeTemp } from '../helpers/connector';
import { sessionCount, FullstoryMock } from '../mocks/fullstory';
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

export async function unknownLimit(users: number, perSecond: number, main: string): Promise<LimitResult> {
  const mock = await new FullstoryMock({ users, bundles: 0, segmentEvents: 0, individuals: 0 }).start();
  mock.rateLimit = {
    limit: perSecond,
    windowMs: 1000,
    reject: (resetAt) => ({ status: 429, headers: { 'Retry-After': String(Math.max(1, Math.ceil((resetAt - Date.now()) / 1000))) }, body: { message: 'Too many requests', code: 'resource_exhausted' } }),
  };
  try {
    const config = writeTemp('config.json', mock.connectorConfig({ requests_per_minute: 2 * perSecond * 60, retry_initial_delay_seconds: 2, max_wait_seconds: 600, request_timeout_seconds: 120 }));
    const catalog = writeTemp('catalog.json', catalogFor({ users: 'full_refresh', sessions: 'full_refresh' }));
    const measured = await measure([main, 'read', '--config', config, '--catalog', catalog]);
    const expected = mock.users.length + mock.users.reduce((sum, user, index) => sum + (user.uid ? sessionCount(index) : 0), 0);
    const requests = mock.requests.length;
    const accepted = requests - mock.rateLimited;
    return { records: measured.records, expected, seconds: measured.wallMs / 1000, shareOfLimit: accepted / (measured.wallMs / 1000) / perSecond, refused: mock.rateLimited / requests, requests };
  } finally {
    await mock.close();
  }
}
