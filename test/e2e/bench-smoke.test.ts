// A smoke run of `npm run bench` with tiny sizes, so the benchmark cannot rot: every case runs, every
// count matches (runBench throws otherwise), every goal is computed. Goals are not judged here:
// speed is measured by `npm run bench`, never by timed unit tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { report, runBench } from '../bench/run';
import { repoRoot } from '../helpers/shared';

test('the benchmark runs every case end to end with tiny sizes', async () => {
  const result = await runBench({
    events: 2000,
    smallEvents: 400,
    leads: 500,
    writerLines: 5000,
    runs: 1,
    wallRuns: 1,
    limitUsers: 40,
    limitPerSecond: 50,
    limitInteractions: 200,
    exportWindows: 3,
    prepareMs: 100,
    exportEvents: 300,
    waitBundles: 3,
    waitUsers: 10,
    announcedLeads: 500,
    announcedPerSecond: 25,
    latency: { latenciesMs: [0, 50], mindstampPerSecond: 50, mindstampCounts: { views: 300, interactions: 500 }, mindstampCap: 60, fullstoryPerSecond: 100, identifiedUsers: 30 },
  });
  assert.deepEqual(
    result.rows.map((r) => [r.case.replace(/\d[\d,]* events/, 'N events'), r.what.replace(/\d+ RECORD lines of ~\d+ bytes/, 'lines'), r.records]),
    [
      ['1 legacy bundle, N events', 'connector: events, RECORD lines to a pipe', 2000],
      ['1 legacy bundle, N events', 'A: JSON.parse(gunzipSync(file))', 2000],
      ['1 legacy bundle, N events', "B: JSONStream.parse('*') pipeline", 2000],
      ['1 legacy bundle, N events', 'C: gunzip to stdout, no parsing', 2000],
      ['2 legacy bundle, N events', 'connector: events, RECORD lines to a pipe', 400],
      ['3 segment export NDJSON', 'connector: segment_events (export ready at the first poll)', 2000],
      ['3 segment export NDJSON', 'A: gunzipSync, split, JSON.parse each line', 2000],
      ['3 segment export NDJSON', 'C: gunzip to stdout, no parsing', 2000],
      ['4 PersistIQ leads', 'connector: leads', 500],
      ['4 PersistIQ leads', 'baseline: plain axios loop', 500],
      ['5 output writer', 'lines', 5000],
    ],
  );
  for (const r of result.rows) assert.ok(r.seconds > 0 && r.peakRssMb > 0, `${r.case} ${r.what} measured`);
  // Case 12 adds a share of the limit per run (2 latencies × 2 APIs, and the capped pages) and the 429 share at the middle latency (3).
  assert.equal(result.goals.length, 30);
  const latencyRuns = [...result.latency.mindstamp, result.latency.mindstampCapped, ...result.latency.fullstory];
  assert.deepEqual(
    latencyRuns.map((r) => [r.latencyMs, r.records === r.expected, r.notOnce]),
    [
      [0, true, 0],
      [50, true, 0],
      [50, true, 0],
      [0, true, 0],
      [50, true, 0],
    ],
  );
  assert.equal(result.exportsResult.records, result.exportsResult.expected);
  assert.equal(result.limits.records, result.limits.expected);
  assert.equal(result.mindstampLimits.records, result.mindstampLimits.expected);
  assert.ok(result.goals.every((g) => Number.isFinite(g.value)));
  assert.match(report(result), /^\| case \| run \| records \|/);
});

test('each measured process reports its own peak RSS at exit on fd 3', () => {
  const hook = join(repoRoot, 'build', 'test', 'bench', 'peak-rss-hook.js');
  const run = spawnSync(process.execPath, ['--require', hook, '-e', "process.prependListener('exit', () => Buffer.alloc(60e6, 1))"], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  assert.equal(run.status, 0);
  const peakKb = Number(String(run.output[3]).trim());
  assert.ok(peakKb >= 60e6 / 1024, `reported ${peakKb} kB`);
});
