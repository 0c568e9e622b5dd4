// `npm run bench [-- --write]`: throughput and memory of the built connector against the mock APIs,
// each next to baselines measured in the same run (ratios hold across machines; absolute numbers are
// noted only). `--write` records the table and the machine in bench/RESULTS.md.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { MAIN, writeTemp } from '../helpers/connector';
import { repoRoot } from '../helpers/shared';
import { preparedExports, type ExportsResult } from './exports';
import { latencyCases, latencyGoals, latencyTable, type LatencyCases } from './latency';
import { persistiqAtLimit, unknownLimit, unknownLimitMindstamp, type AnnouncedLimitResult, type LimitResult } from './limits';
import { measure } from './measure';
import { BASELINES, legacyBundle, measureInTurns, persistiqLeads, row, segmentExport, type Row } from './throughput';
import { waitsUsed, type WaitsResult } from './waits';

export interface Sizes {
  events: number;
  smallEvents: number;
  leads: number;
  writerLines: number;
  /** Runs of each throughput measurement (the median run counts) and of each wall-time one. */
  runs: number;
  wallRuns: number;
  /** Case 7: identified users (one sessions request each) against a limit the connector is not told. */
  limitUsers: number;
  limitPerSecond: number;
  /** Case 8: Mindstamp interactions (and half as many views) in pages of 10, under the same untold limit. */
  limitInteractions: number;
  /** Case 9: daily segment export windows, each taking prepareMs to prepare, with so many events. */
  exportWindows: number;
  /** Case 10: legacy bundles and users read alone and in one sync. */
  waitBundles: number;
  waitUsers: number;
  /** Case 11: PersistIQ leads at its limit, scaled to this many requests a second. */
  announcedLeads: number;
  announcedPerSecond: number;
  prepareMs: number;
  exportEvents: number;
  /** Case 12: real latencies, each answer taking this long, against limits the connector is not told. */
  latency: Parameters<typeof latencyCases>[0];
}

export const FULL: Sizes = {
  events: 300_000,
  smallEvents: 30_000,
  leads: 100_000,
  writerLines: 1_000_000,
  runs: 5,
  wallRuns: 5,
  limitUsers: 2000,
  limitPerSecond: 50,
  limitInteractions: 15_000,
  exportWindows: 30,
  prepareMs: 1000,
  exportEvents: 30_000,
  waitBundles: 20,
  waitUsers: 130,
  announcedLeads: 10_000,
  announcedPerSecond: 25,
  // About 240 pages of 100 (the default page_size) for Mindstamp, capped at 60 in one run; 600 identified users.
  latency: {
    latenciesMs: [0, 150, 300],
    mindstampPerSecond: 20,
    mindstampCounts: { views: 8000, interactions: 15_000 },
    mindstampCap: 60,
    fullstoryPerSecond: 60,
    identifiedUsers: 600,
  },
};

export interface Goal {
  name: string;
  value: number;
  target: string;
  met: boolean;
}

export async function runBench(sizes: Sizes): Promise<{
  rows: Row[];
  goals: Goal[];
  wall: Record<string, number>;
  limits: LimitResult;
  mindstampLimits: LimitResult;
  exportsResult: ExportsResult;
  waits: WaitsResult;
  announced: AnnouncedLimitResult;
  latency: LatencyCases;
}> {
  const rows: Row[] = [];
  rows.push(...(await legacyBundle(sizes.events, `1 legacy bundle, ${sizes.events} events`, true, sizes.runs)));
  rows.push(...(await legacyBundle(sizes.smallEvents, `2 legacy bundle, ${sizes.smallEvents} events`, false, sizes.runs)));
  rows.push(...(await segmentExport(sizes.events, sizes.runs)));
  rows.push(...(await persistiqLeads(sizes.leads, sizes.runs)));
  const writer = await measure([BASELINES, 'writer', String(sizes.writerLines)]);
  rows.push(row('5 output writer', `${sizes.writerLines} RECORD lines of ~${Math.round(writer.bytes / sizes.writerLines)} bytes`, writer, sizes.writerLines, writer.bytes));
  const config = writeTemp('config.json', { api: { name: 'persistiq', api_key: 'bench-key' } });
  const wallRuns = await measureInTurns({ 'node -e 0': ['-e', '0'], spec: [MAIN, 'spec'], discover: [MAIN, 'discover', '--config', config] }, sizes.wallRuns);
  const wall = Object.fromEntries(Object.entries(wallRuns).map(([command, run]) => [command, run.wallMs]));
  const limits = await unknownLimit(sizes.limitUsers, sizes.limitPerSecond, MAIN);
  if (limits.records !== limits.expected) throw new Error(`case 7: connector printed ${limits.records} of ${limits.expected} users and sessions`);
  const mindstampLimits = await unknownLimitMindstamp(sizes.limitInteractions, sizes.limitPerSecond, MAIN);
  if (mindstampLimits.records !== mindstampLimits.expected)
    throw new Error(`case 8: connector printed ${mindstampLimits.records} of ${mindstampLimits.expected} Mindstamp records`);
  const exportsResult = await preparedExports(sizes.exportWindows, sizes.prepareMs, sizes.exportEvents, MAIN);
  if (exportsResult.records !== exportsResult.expected) throw new Error(`case 9: connector printed ${exportsResult.records} of ${exportsResult.expected} segment events`);
  const waits = await waitsUsed(sizes.waitBundles, sizes.waitUsers, MAIN);
  if (waits.records !== waits.expected) throw new Error(`case 10: connector printed ${waits.records} of ${waits.expected} events, users and sessions`);
  const announced = await persistiqAtLimit(sizes.announcedLeads, sizes.announcedPerSecond, MAIN);
  if (announced.records !== announced.expected) throw new Error(`case 11: connector printed ${announced.records} of ${announced.expected} leads`);
  const latency = await latencyCases(sizes.latency);
  const find = (caseName: string, what: string) => rows.find((r) => r.case.startsWith(caseName) && r.what.startsWith(what))!;
  const [c1, a1, b1, ceil1] = ['connector', 'A', 'B', 'C'].map((w) => find('1 ', w));
  const [c3, a3, ceil3] = ['connector', 'A', 'C'].map((w) => find('3 ', w));
  const [c4, base4] = ['connector', 'baseline'].map((w) => find('4 ', w));
  const small = find('2 ', 'connector');
  // The time from the first record (or byte) to the end: the byte path alone, whatever the process loads first.
  const flowing = (r: Row) => r.seconds - r.startSeconds;
  const ratio = (value: number, target: number, name: string, label = `≥ ${target}`): Goal => ({ name, value, target: label, met: value >= target });
  const goals: Goal[] = [
    ratio(c1.perSecond / a1.perSecond, 1, 'case 1: connector ÷ A (records/s)'),
    ratio(c1.perSecond / b1.perSecond, 3, 'case 1: connector ÷ B (records/s)'),
    { name: 'case 1: connector ÷ C, whole run (share of the gunzip ceiling)', value: c1.perSecond / ceil1.perSecond, target: 'reported', met: true },
    ratio(flowing(ceil1) / flowing(c1), 0.9, 'case 1: connector ÷ C once data flows (start-up excluded)'),
    { name: 'case 1: connector peak RSS (MB)', value: c1.peakRssMb, target: '≤ 128', met: c1.peakRssMb <= 128 },
    { name: `case 2: peak RSS ${sizes.events} ÷ ${sizes.smallEvents} events`, value: c1.peakRssMb / small.peakRssMb, target: '≤ 1.3', met: c1.peakRssMb / small.peakRssMb <= 1.3 },
    ratio(c3.perSecond / a3.perSecond, 1, 'case 3: connector ÷ A (records/s)'),
    { name: 'case 3: connector ÷ C, whole run (share of the gunzip ceiling)', value: c3.perSecond / ceil3.perSecond, target: 'reported', met: true },
    { name: 'case 3: connector ÷ C once data flows (start-up excluded)', value: flowing(ceil3) / flowing(c3), target: 'reported', met: true },
    ratio(c4.perSecond / base4.perSecond, 0.8, 'case 4: connector ÷ plain axios loop (records/s)'),
    ratio(find('5 ', '').perSecond, 250_000, 'case 5: writer lines/s'),
    { name: 'case 5: writer peak RSS (MB)', value: find('5 ', '').peakRssMb, target: '≤ 100', met: find('5 ', '').peakRssMb <= 100 },
    { name: 'case 6: spec ÷ node -e 0 (wall)', value: wall.spec / wall['node -e 0'], target: '≤ 3', met: wall.spec / wall['node -e 0'] <= 3 },
    { name: 'case 6: discover ÷ node -e 0 (wall)', value: wall.discover / wall['node -e 0'], target: '≤ 3', met: wall.discover / wall['node -e 0'] <= 3 },
    ratio(limits.shareOfLimit, 0.85, `case 7: ${sizes.limitUsers} users + sessions under an untold ${sizes.limitPerSecond}/s: share of that rate`),
    { name: 'case 7: requests answered 429 (share)', value: limits.refused, target: '≤ 0.02', met: limits.refused <= 0.02 },
    ratio(mindstampLimits.shareOfLimit, 0.85, `case 8: Mindstamp's paged lists under an untold ${sizes.limitPerSecond}/s: share of that rate`),
    { name: 'case 8: requests answered 429 (share)', value: mindstampLimits.refused, target: '≤ 0.02', met: mindstampLimits.refused <= 0.02 },
  ];
  goals.push({
    name: `case 9: ${exportsResult.windows} export windows of ${sizes.prepareMs} ms to prepare: wall ÷ sequential`,
    value: exportsResult.shareOfSequential,
    target: '≤ 0.4',
    met: exportsResult.shareOfSequential <= 0.4,
  });
  goals.push({
    name: 'case 10: events + users + sessions in one sync ÷ the two alone, one after the other (wall)',
    value: waits.shareOfSequential,
    target: '≤ 0.7',
    met: waits.shareOfSequential <= 0.7,
  });
  goals.push(ratio(announced.shareOfLimit, 0.95, `case 11: PersistIQ at its announced limit (${sizes.announcedPerSecond}/s scaled), default settings: share of that rate`), {
    name: 'case 11: requests answered 429',
    value: announced.refused,
    target: '0',
    met: announced.refused === 0,
  });
  goals.push(...latencyGoals(latency, sizes.latency.latenciesMs[Math.floor(sizes.latency.latenciesMs.length / 2)]));
  return { rows, goals, wall, limits, mindstampLimits, exportsResult, waits, announced, latency };
}

const fixed = (n: number, digits = 2) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function report(result: Awaited<ReturnType<typeof runBench>>): string {
  const lines = [
    '| case | run | records | s | s to first record | records/s | MB/s | peak RSS MB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...result.rows.map(
      (r) =>
        `| ${r.case} | ${r.what} | ${r.records.toLocaleString('en-US')} | ${fixed(r.seconds)} | ${fixed(r.startSeconds)} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${fixed(r.mbPerSecond, 1)} | ${fixed(r.peakRssMb, 0)} |`,
    ),
    '',
    `Wall time (median): node -e 0 ${fixed(result.wall['node -e 0'], 0)} ms, spec ${fixed(result.wall.spec, 0)} ms, discover ${fixed(result.wall.discover, 0)} ms.`,
    `Case 7: ${result.limits.records.toLocaleString('en-US')} users and sessions in ${fixed(result.limits.seconds, 1)} s, ${result.limits.requests.toLocaleString('en-US')} requests, ${fixed(result.limits.refused * 100, 2)} % answered 429.`,
    `Case 8: ${result.mindstampLimits.records.toLocaleString('en-US')} Mindstamp records in ${fixed(result.mindstampLimits.seconds, 1)} s, ${result.mindstampLimits.requests.toLocaleString('en-US')} requests, ${fixed(result.mindstampLimits.refused * 100, 2)} % answered 429.`,
    `Case 9: ${result.exportsResult.records.toLocaleString('en-US')} segment events from ${result.exportsResult.windows} exports in ${fixed(result.exportsResult.seconds, 1)} s.`,
    `Case 10: events alone ${fixed(result.waits.eventsAloneSeconds, 1)} s, users + sessions alone ${fixed(result.waits.listsAloneSeconds, 1)} s, all three in one sync ${fixed(result.waits.togetherSeconds, 1)} s (${result.waits.records.toLocaleString('en-US')} records).`,
    `Case 11: ${result.announced.records.toLocaleString('en-US')} PersistIQ leads in ${result.announced.requests} requests, ${result.announced.refused} answered 429.`,
    '',
    ...latencyTable(result.latency),
    '',
    '| goal | value | target | met |',
    '| --- | ---: | --- | --- |',
    ...result.goals.map((g) => `| ${g.name} | ${fixed(g.value)} | ${g.target} | ${g.met ? 'yes' : '**no**'} |`),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const result = await runBench(FULL);
  const table = report(result);
  console.log(table);
  if (process.argv.includes('--write')) {
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}`;
    writeFileSync(
      join(repoRoot, 'bench', 'RESULTS.md'),
      `# Benchmark results\n\n\`npm run bench -- --write\` on ${new Date().toISOString().slice(0, 10)}; machine: ${machine}.\n\n${table}\n`,
    );
  }
}

if (require.main === module) void main();
