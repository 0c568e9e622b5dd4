// Crash and resume (./crash.ts): a full read of each API's catalog, incremental where it can be,
// SIGKILLed at 20 random points and restarted from the last STATEs each time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catalogFor } from '../helpers/connector';
import { expectedEvent, historyRecord, legacyEvents } from '../helpers/fullstory';
import { type Catalog, crashAndResume, report } from './crash';
import { FullstoryMock } from '../mocks/fullstory';
import { MINDSTAMP_STREAMS, MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';

const KILLS = 20;

describe('crash and resume (SIGKILL at 20 random points, restart from the last STATE)', () => {
  test('PersistIQ: every stream, 8,000 leads and 6,000 events', async () => {
    const mock = await new PersistIqMock({ rateLimit: false, counts: { leads: 8000, events: 6000 } }).start();
    try {
      const streams = Object.keys(mock.data) as (keyof typeof mock.data)[];
      const catalog = catalogFor(Object.fromEntries(streams.map((s) => [s, s === 'leads' || s === 'events' ? 'incremental' : 'full_refresh']))) as Catalog;
      const expected = new Map(streams.map((s) => [s as string, mock.data[s].map((r) => String(r.id))]));
      report('persistiq', KILLS, await crashAndResume(mock.connectorConfig(), catalog, expected, (_s, r) => String(r.id), { kills: KILLS, seed: 7 }));
    } finally {
      await mock.close();
    }
  });

  test('Mindstamp: four incremental streams', async () => {
    const mock = await new MindstampMock({ counts: { interactions: 6000, views: 3000 } }).start();
    try {
      const catalog = catalogFor(Object.fromEntries(MINDSTAMP_STREAMS.map((s) => [s, 'incremental']))) as Catalog;
      const expected = new Map(MINDSTAMP_STREAMS.map((s) => [s as string, mock.records(s).map((r) => String(r.id))]));
      // Records without updated_at come with every incremental sync (by design); they are checked for presence only.
      const undated = new Set(
        MINDSTAMP_STREAMS.flatMap((s) =>
          mock
            .records(s)
            .filter((r) => r.updated_at === null)
            .map((r) => `${s}:${r.id}`),
        ),
      );
      report('mindstamp', KILLS, await crashAndResume(mock.connectorConfig(), catalog, expected, (_s, r) => String(r.id), { kills: KILLS, seed: 11, repeatable: undated }));
    } finally {
      await mock.close();
    }
  });

  test('Fullstory: bundles and their events (killed mid-bundle), segment events, segments, settings history', async () => {
    // Bundles of ~200 KB, larger than the writer's 64 KB batches, so kills land inside them.
    // Every event available at once: this test is about crashes, not late data (fullstory-exports tests that).
    const mock = await new FullstoryMock({ bundles: 30, eventsPerBundle: 600, lateEvents: false }).start();
    try {
      const modes = { export_bundles: 'incremental', events: 'incremental', segment_events: 'incremental', segments: 'full_refresh', settings_geo_history: 'incremental' } as const;
      const catalog = catalogFor(modes) as Catalog;
      const text = (data: Record<string, unknown>) => JSON.stringify(data);
      const expected = new Map<string, string[]>([
        ['export_bundles', mock.bundles.map((b) => text({ Id: b.Id, Start: b.Start, Stop: b.Stop }))],
        ['events', legacyEvents(mock).map(text)],
        ['segment_events', mock.segmentEvents.map((e) => text(expectedEvent(e.text, 'segment_events')))],
        ['segments', mock.segments.map((s) => text(s))],
        ['settings_geo_history', mock.settings.geo.versions.map((v) => text(historyRecord(v)))],
      ]);
      for (const [stream, ids] of expected) assert.equal(new Set(ids).size, ids.length, `${stream} records are distinct`);
      // No start_date: every bundle and version; segment exports over the last 30 days, in 10-day windows, up to now.
      const config = mock.connectorConfig({ start_date: undefined, segment_export_settle_minutes: 0, segment_export_window_hours: 240 });
      const outcome = await crashAndResume(config, catalog, expected, (_s, data) => text(data), { kills: KILLS, seed: 13 });
      report('fullstory', KILLS, outcome);
      assert.ok(outcome.killedInside.has('events'), 'at least one kill fell inside a bundle');
    } finally {
      await mock.close();
    }
  });
});
