// Case 10: waits used, not slept. Fullstory's legacy bundle downloads are limited to 2 a minute
// (scaled here to 2 a second), its v2 APIs (users, then one sessions request per user) to their own
// pace. The same streams are read three times: `events` alone, `users` + `sessions` alone, and all
// three in one sync, where the v2 streams work while `events` waits between downloads. Measured: the
// sync of all three against the two alone one after the other, every record exactly once.
import { catalogFor, writeTemp } from '../helpers/connector';
import { sessionCount, FullstoryMock } from '../mocks/fullstory';
import { measure } from './measure';

export interface WaitsResult {
  records: number;
  expected: number;
  eventsAloneSeconds: number;
  listsAloneSeconds: number;
  togetherSeconds: number;
  /** The sync of all three streams as a share of the two syncs one after the other. */
  shareOfSequential: number;
}

type Streams = Record<string, 'full_refresh'>;

async function syncOf(streams: Streams, bundles: number, users: number, main: string): Promise<{ seconds: number; records: number; expected: number }> {
  // Fullstory's legacy export: 2 downloads per minute, here per second (legacy_downloads_per_minute 120).
  const mock = await new FullstoryMock({ bundles, eventsPerBundle: 500, users, segmentEvents: 0, individuals: 0, downloadLimit: { limit: 2, windowMs: 1000 } }).start();
  try {
    const config = mock.connectorConfig({ start_date: undefined, legacy_downloads_per_minute: 120, requests_per_minute: 600 });
    const measured = await measure([main, 'read', '--config', writeTemp('config.json', config), '--catalog', writeTemp('catalog.json', catalogFor(streams))]);
    const expected =
      ('events' in streams ? mock.bundles.reduce((sum, bundle) => sum + bundle.events.length, 0) : 0) +
      ('users' in streams ? mock.users.length : 0) +
      ('sessions' in streams ? mock.users.reduce((sum, user, index) => sum + (user.uid ? sessionCount(index) : 0), 0) : 0);
    return { seconds: measured.wallMs / 1000, records: measured.records, expected };
  } finally {
    await mock.close();
  }
}

export async function waitsUsed(bundles: number, users: number, main: string): Promise<WaitsResult> {
  const events = await syncOf({ events: 'full_refresh' }, bundles, users, main);
  const lists = await syncOf({ users: 'full_refresh', sessions: 'full_refresh' }, bundles, users, main);
  const together = await syncOf({ events: 'full_refresh', users: 'full_refresh', sessions: 'full_refresh' }, bundles, users, main);
  return {
    records: together.records,
    expected: together.expected,
    eventsAloneSeconds: events.seconds,
    listsAloneSeconds: lists.seconds,
    togetherSeconds: together.seconds,
    shareOfSequential: together.seconds / (events.seconds + lists.seconds),
  };
}
