// Cases 1 to 4: records through the byte path (a legacy bundle, a segment export, PersistIQ's
// pages), each next to its baselines (JSONStream, a C reader) measured in turns in the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN, writeTemp, catalogFor } from '../helpers/connector';
import { repoRoot } from '../helpers/shared';
import { FullstoryMock } from '../mocks/fullstory';
import { PersistIqMock } from '../mocks/persistiq';
import { measure, type Measured } from './measure';

/** Temp folders of this run (export files of hundreds of MB): removed when it exits. */
const benchDirs: string[] = [];
process.once('exit', () => benchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const benchDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  benchDirs.push(dir);
  return dir;
};

/** The run with the median wall time: one noisy run on a shared machine must not decide a ratio. */
const medianRun = (results: Measured[]): Measured => results.slice().sort((a, b) => a.wallMs - b.wallMs)[Math.floor(results.length / 2)];

/**
 * The median run of each command, the commands taking turns (connector, baseline, ceiling, then
 * again): a ratio between them is not decided by a minute the machine was slower for one of them.
 */
export async function measureInTurns(commands: Record<string, string[]>, runs: number): Promise<Record<string, Measured>> {
  const results = Object.fromEntries(Object.keys(commands).map((key) => [key, [] as Measured[]]));
  for (let i = 0; i < runs; i++) for (const [key, args] of Object.entries(commands)) results[key].push(await measure(args));
  return Object.fromEntries(Object.entries(results).map(([key, runsOf]) => [key, medianRun(runsOf)]));
}

export interface Row {
  case: string;
  what: string;
  records: number;
  seconds: number;
  /** To the first record (to the first byte for a baseline that prints no RECORD). */
  startSeconds: number;
  perSecond: number;
  mbPerSecond: number;
  peakRssMb: number;
}

export const BASELINES = join(repoRoot, 'build', 'test', 'bench', 'baselines.js');

export const row = (caseName: string, what: string, m: Measured, records: number, inputBytes: number): Row => ({
  case: caseName,
  what,
  records,
  seconds: m.wallMs / 1000,
  startSeconds: (Number.isNaN(m.firstRecordMs) ? m.firstOutputMs : m.firstRecordMs) / 1000,
  perSecond: records / (m.wallMs / 1000),
  mbPerSecond: inputBytes / 1e6 / (m.wallMs / 1000),
  peakRssMb: m.peakRssMb,
});

export const fullstoryConfig = (mock: FullstoryMock, extra: Record<string, unknown> = {}) => ({
  api: {
    name: 'fullstory',
    api_key: mock.apiKey,
    base_url: mock.baseUrl,
    export_base_url: mock.exportBaseUrl,
    legacy_downloads_per_minute: 600_000,
    requests_per_minute: 600_000,
    operation_poll_seconds: 0.05,
    ...extra,
  },
});

/** Case 1/2: one gzipped legacy bundle of `count` events. */
export async function legacyBundle(count: number, caseName: string, baselines: boolean, runs: number): Promise<Row[]> {
  const mock = await new FullstoryMock({ bundles: 1, eventsPerBundle: count - 144, gzipAllBundles: true, segmentEvents: 0, individuals: 0, users: 0 }).start();
  try {
    const file = mock.bundleFile(mock.bundles[0]);
    const path = join(benchDir(), 'bundle.json.gz');
    writeFileSync(path, file);
    const rawBytes = mock.bundles[0].events.reduce((sum, e) => sum + e.length + 1, 1);
    const config = writeTemp('config.json', fullstoryConfig(mock));
    const catalog = writeTemp('catalog.json', catalogFor({ events: 'full_refresh' }));
    const connector = [MAIN, 'read', '--config', config, '--catalog', catalog];
    const runsOf = await measureInTurns(baselines ? { connector, a: [BASELINES, 'parse-array', path], c: [BASELINES, 'gunzip-cat', path] } : { connector }, runs);
    if (runsOf.connector.records !== count) throw new Error(`connector printed ${runsOf.connector.records} of ${count} events`);
    const rows = [row(caseName, 'connector: events, RECORD lines to a pipe', runsOf.connector, count, rawBytes)];
    if (baselines) {
      rows.push(row(caseName, 'A: JSON.parse(gunzipSync(file))', runsOf.a, count, rawBytes));
      rows.push(row(caseName, "B: JSONStream.parse('*') pipeline", await measure([BASELINES, 'jsonstream', path]), count, rawBytes));
      rows.push(row(caseName, 'C: gunzip to stdout, no parsing', runsOf.c, count, rawBytes));
    }
    return rows;
  } finally {
    await mock.close();
  }
}

/** Case 3: a segment export NDJSON file of `count` events. */
export async function segmentExport(count: number, runs: number): Promise<Row[]> {
  const day = 86_400_000;
  // Fullstory's side of the export (waiting for it, building the file) is not the connector's time:
  // the export is ready at the first poll, and the file is built by an untimed first run.
  const mock = await new FullstoryMock({
    bundles: 0,
    segmentEvents: count,
    segmentSpanMs: day / 2,
    segmentEnd: Date.now() - day / 4,
    lateEvents: false,
    individuals: 0,
    users: 0,
    pendingPolls: 0,
    reuseExportFiles: true,
  }).start();
  try {
    // One window over the whole day, so the run is one export: its download is what is measured.
    const window = { segment_export_window_hours: 48, segment_export_settle_minutes: 0, operation_poll_seconds: 0.01 };
    const config = writeTemp('config.json', fullstoryConfig(mock, { ...window, start_date: new Date(Date.now() - day).toISOString().replace(/\.\d+Z$/, 'Z') }));
    const catalog = writeTemp('catalog.json', catalogFor({ segment_events: 'full_refresh' }));
    const rawBytes = mock.segmentEvents.reduce((sum, e) => sum + e.text.length + 1, 0);
    const args = [MAIN, 'read', '--config', config, '--catalog', catalog];
    await measure(args);
    const path = join(benchDir(), 'export.ndjson.gz');
    writeFileSync(path, mock.exportFile(String(mock.operations[0].id))!);
    const runsOf = await measureInTurns({ connector: args, a: [BASELINES, 'parse-ndjson', path], c: [BASELINES, 'gunzip-cat', path] }, runs);
    if (runsOf.connector.records !== count) throw new Error(`connector printed ${runsOf.connector.records} of ${count} segment events`);
    return [
      row('3 segment export NDJSON', 'connector: segment_events (export ready at the first poll)', runsOf.connector, count, rawBytes),
      row('3 segment export NDJSON', 'A: gunzipSync, split, JSON.parse each line', runsOf.a, count, rawBytes),
      row('3 segment export NDJSON', 'C: gunzip to stdout, no parsing', runsOf.c, count, rawBytes),
    ];
  } finally {
    await mock.close();
  }
}

/** Case 4: PersistIQ leads over pages of 100, limit lifted. */
export async function persistiqLeads(count: number, runs: number): Promise<Row[]> {
  const mock = await new PersistIqMock({ rateLimit: false, counts: { leads: count } }).start();
  try {
    const config = writeTemp('config.json', mock.connectorConfig({ requests_per_minute: 600_000 }));
    const catalog = writeTemp('catalog.json', catalogFor({ leads: 'full_refresh' }));
    // Both wait on the mock for every page: single runs vary by ±15 % here, so medians.
    const { connector, baseline } = await measureInTurns(
      {
        connector: [MAIN, 'read', '--config', config, '--catalog', catalog],
        baseline: [BASELINES, 'axios-loop', `${mock.baseUrl}/leads`, mock.apiKey, String(Math.ceil(count / 100))],
      },
      runs,
    );
    if (connector.records !== count || baseline.records !== count) throw new Error(`leads: connector ${connector.records}, baseline ${baseline.records} of ${count}`);
    return [
      row('4 PersistIQ leads', 'connector: leads', connector, count, connector.bytes),
      row('4 PersistIQ leads', 'baseline: plain axios loop', baseline, count, baseline.bytes),
    ];
  } finally {
    await mock.close();
  }
}
