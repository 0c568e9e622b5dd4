// Crash and resume: a full read of each API's catalog, SIGKILLed at random points (by record count),
// restarted from the last STATE each stream printed, until a run completes. Records a run printed
// before its stream's last STATE are committed: none may be lost and none may come again. Records
// printed after it are not; they are read again, so duplicates stay within one checkpoint window.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { assertNoSecrets, catalogFor, MAIN, writeTemp, type Message } from '../helpers/connector';
import { expectedEvent, historyRecord, legacyEvents, losslessMessages } from '../helpers/fullstory';
import { assertProtocolLine } from '../helpers/shared';
import { FullstoryMock } from '../mocks/fullstory';
import { MINDSTAMP_STREAMS, MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';

const KILLS = 20;

interface Run {
  messages: Message[];
  killed: boolean;
}

/** Runs a read; SIGKILLs it once `killAfter` RECORD lines have arrived. Only whole lines count. */
async function runUntil(config: unknown, catalog: unknown, state: unknown, killAfter: number | undefined): Promise<Run> {
  const args = [MAIN, 'read', '--config', writeTemp('config.json', config), '--catalog', writeTemp('catalog.json', catalog)];
  if (state) args.push('--state', writeTemp('state.json', state));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let text = '';
  let records = 0;
  let killed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    if (killAfter !== undefined && !killed) {
      records += chunk.split('{"type":"RECORD"').length - 1;
      if (records >= killAfter) killed = child.kill('SIGKILL');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assertNoSecrets(text + stderr, [(config as { api: { api_key: string } }).api.api_key]);
  const lines = text.split('\n');
  lines.pop(); // a line cut by the kill never reached the platform
  for (const line of lines) assertProtocolLine(line);
  if (!killed) assert.equal(code, 0, text.slice(-500));
  return { messages: losslessMessages(lines.join('\n')), killed };
}

/** A deterministic PRNG, so a failure can be replayed. */
const random = (seed: number) => () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

type Catalog = { streams: { stream: { name: string }; sync_mode: string }[] };

interface Outcome {
  runs: number;
  expected: number;
  delivered: number;
  duplicates: number;
  killedInside: Set<string>;
}

/**
 * Kills, resumes and checks. `identity` names a record uniquely within its stream. Full-refresh
 * streams start over on every attempt (that is what full refresh means): each attempt that reaches
 * the stream's STATE must hold exactly its records.
 */
async function crashAndResume(
  config: unknown,
  catalog: Catalog,
  expected: Map<string, string[]>,
  identity: (stream: string, data: Record<string, unknown>) => string,
  seed: number,
  /** Records every incremental sync emits again by design (never placed by the cursor). */
  repeatable: Set<string> = new Set(),
): Promise<Outcome> {
  const next = random(seed);
  const fullRefresh = new Set(catalog.streams.filter((s) => s.sync_mode === 'full_refresh').map((s) => s.stream.name));
  const total = [...expected.values()].reduce((sum, ids) => sum + ids.length, 0);
  const committed = new Map<string, Set<string>>([...expected.keys()].map((stream) => [stream, new Set()]));
  const states = new Map<string, Message>();
  let delivered = 0;
  let repeats = 0;
  let uncommitted = 0;
  /** Streams a kill interrupted between two of their checkpoints. */
  const killedInside = new Set<string>();
  let kills = 0;
  let runs = 0;
  for (;;) {
    runs++;
    // A random point within the first half of what is left to read (full-refresh streams are read
    // again in full), so the process is still running when the signal comes.
    const left = total - [...committed].filter(([stream]) => !fullRefresh.has(stream)).reduce((sum, [, ids]) => sum + ids.size, 0);
    const killAfter = kills < KILLS ? 1 + Math.floor((next() * Math.max(1, left)) / 2) : undefined;
    const resumedFrom = new Map(states);
    const run = await runUntil(config, catalog, states.size ? [...states.values()] : undefined, killAfter);
    if (run.killed) kills++;
    // Records at the very instant of the state a run resumed from come again by design (the cursor
    // bound is inclusive, so a record stamped then that appeared later is not lost).
    const atBoundary = new Set<string>();
    const isAtBoundary = (stream: string, data: Record<string, unknown>) =>
      Object.entries((resumedFrom.get(stream)?.stream.stream_state ?? {}) as Record<string, unknown>).some(
        ([key, value]) => typeof value === 'string' && typeof data[key] === 'string' && Date.parse(data[key] as string) === Date.parse(value),
      );
    // Per stream: records before its last STATE in this run are committed.
    const pending = new Map<string, string[]>();
    for (const message of run.messages) {
      if (message.type === 'RECORD') {
        const { stream, data } = message.record;
        const id = identity(stream, data);
        const again = committed.get(stream)!.has(id) && isAtBoundary(stream, data);
        if (again) atBoundary.add(`${stream}:${id}`);
        if (repeatable.has(`${stream}:${id}`) || again) repeats++;
        else delivered++;
        pending.set(stream, [...(pending.get(stream) ?? []), id]);
      } else if (message.type === 'STATE') {
        const stream = message.state.stream.stream_descriptor.name;
        const ids = pending.get(stream) ?? [];
        if (fullRefresh.has(stream)) {
          assert.deepEqual([...ids].sort(), [...expected.get(stream)!].sort(), `${stream}: a completed full refresh holds every record once (run ${runs})`);
        } else {
          for (const id of ids) {
            assert.ok(
              !committed.get(stream)!.has(id) || repeatable.has(`${stream}:${id}`) || atBoundary.has(`${stream}:${id}`),
              `${stream} record ${id} committed twice (run ${runs})`,
            );
          }
        }
        for (const id of ids) committed.get(stream)!.add(id);
        pending.set(stream, []);
        states.set(stream, { type: 'STREAM', stream: message.state.stream });
      }
    }
    uncommitted += [...pending.values()].reduce((sum, ids) => sum + ids.length, 0);
    if (run.killed) for (const [stream, ids] of pending) if (ids.length > 0) killedInside.add(stream);
    if (!run.killed) break;
  }
  assert.ok(kills >= KILLS, `only ${kills} kills`);
  for (const [stream, ids] of expected) assert.deepEqual([...committed.get(stream)!].sort(), [...ids].sort(), `${stream}: every record delivered`);
  // A record comes again only if an attempt printed it after its stream's last STATE, or it belongs
  // to a full-refresh stream, which every attempt reads in full.
  const fullRefreshRecords = [...fullRefresh].reduce((sum, stream) => sum + expected.get(stream)!.length, 0);
  const duplicates = delivered - (total - repeatable.size);
  assert.ok(duplicates <= uncommitted + fullRefreshRecords * (runs - 1), `${duplicates} duplicates exceed the uncommitted records (${uncommitted}) and full-refresh re-reads`);
  return { runs, expected: total, delivered: delivered + repeats, duplicates, killedInside };
}

const report = (api: string, outcome: Outcome) =>
  console.log(
    `crash-resume ${api}: ${outcome.runs} runs, ${KILLS} SIGKILLs (inside ${[...outcome.killedInside].join(', ') || 'no stream'}), ${outcome.expected} records expected, ${outcome.delivered} delivered, 0 lost, ${outcome.duplicates} duplicates`,
  );

describe('crash and resume (SIGKILL at 20 random points, restart from the last STATE)', () => {
  test('PersistIQ: every stream, 8,000 leads and 6,000 events', async () => {
    const mock = await new PersistIqMock({ rateLimit: false, counts: { leads: 8000, events: 6000 } }).start();
    try {
      const streams = Object.keys(mock.data) as (keyof typeof mock.data)[];
      const catalog = catalogFor(Object.fromEntries(streams.map((s) => [s, s === 'leads' || s === 'events' ? 'incremental' : 'full_refresh']))) as Catalog;
      const expected = new Map(streams.map((s) => [s as string, mock.data[s].map((r) => String(r.id))]));
      report('persistiq', await crashAndResume(mock.connectorConfig(), catalog, expected, (_s, r) => String(r.id), 7));
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
      report('mindstamp', await crashAndResume(mock.connectorConfig(), catalog, expected, (_s, r) => String(r.id), 11, undated));
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
      const outcome = await crashAndResume(config, catalog, expected, (_s, data) => text(data), 13);
      report('fullstory', outcome);
      assert.ok(outcome.killedInside.has('events'), 'at least one kill fell inside a bundle');
    } finally {
      await mock.close();
    }
  });
});
