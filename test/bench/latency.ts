// Case 12: the field's physics. Real APIs answer in 100-300 ms; every answer of these mocks takes
// `latencyMs` (each request on its own, however many are in flight), and they refuse more than
// `perSecond` requests in any second, as Fullstory words its limiter (developer.fullstory.com/overview/limits:
// "the number of requests received by the API within any given second"; its burst allowance, which
// only lets more through, is left out), with a 429 and Retry-After in whole seconds until the budget
// has room. The connector is not told the limit and runs on its default settings. Measured: the share of the limit's
// rate the mock accepted from the sync's first request to its last, the share refused, and that
// every record came exactly once (by primary key).
import { catalogFor, runConnector } from '../helpers/connector';
import { sessionCount, FullstoryMock } from '../mocks/fullstory';
import { MindstampMock, MINDSTAMP_STREAMS } from '../mocks/mindstamp';
import type { MockServer } from '../mocks/server';
import { DEFAULTS, refuseAbove } from './limits';

export interface LatencyResult {
  latencyMs: number;
  records: number;
  /** Records the API holds, and how many of them came other than exactly once. */
  expected: number;
  notOnce: number;
  requests: number;
  /** Requests accepted per second from the first request to the last, as a share of the limit. */
  shareOfLimit: number;
  /** Requests answered 429, as a share of all requests. */
  refused: number;
  seconds: number;
  mostInFlight: number;
}

/** Runs a read with the mock slowed and limited; checks every record by key. */
async function atLatency(
  mock: MockServer,
  latencyMs: number,
  perSecond: number,
  config: unknown,
  streams: string[],
  expectedKeys: Map<string, string[]>,
  keyOf: (stream: string, record: Record<string, unknown>) => string,
): Promise<LatencyResult> {
  mock.latencyMs = latencyMs;
  // Fullstory's answer to a limit hit (Mindstamp documents none: the same limiter is assumed).
  mock.rateLimit = refuseAbove(perSecond, { message: 'Too many requests', code: 'resource_exhausted' }, 'sliding');
  const started = Date.now();
  const result = await runConnector('read', { config, catalog: catalogFor(Object.fromEntries(streams.map((s) => [s, 'full_refresh']))), timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`case 12: the read failed (exit ${result.code}): ${result.stderr.slice(-500)}`);
  const seen = new Map<string, number>();
  let records = 0;
  for (const message of result.messages) {
    if (message.type !== 'RECORD') continue;
    records++;
    const key = `${message.record.stream} ${keyOf(message.record.stream, message.record.data)}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  let expected = 0;
  let notOnce = 0;
  for (const [stream, keys] of expectedKeys) {
    for (const key of keys) {
      expected++;
      if (seen.get(`${stream} ${key}`) !== 1) notOnce++;
    }
  }
  notOnce += Math.max(0, records - expected);
  const times = mock.requests.map((request) => request.at);
  const spanSeconds = (times.at(-1)! - times[0]) / 1000;
  const accepted = mock.requests.length - mock.rateLimited;
  return {
    latencyMs,
    records,
    expected,
    notOnce,
    requests: mock.requests.length,
    shareOfLimit: (accepted - 1) / spanSeconds / perSecond,
    refused: mock.rateLimited / mock.requests.length,
    seconds: (Date.now() - started) / 1000,
    mostInFlight: mock.mostInFlight,
  };
}

/** Mindstamp's four lists with page_size 100 (the default); `limitCap`: the server gives fewer per page than asked. */
export async function mindstampAtLatency(latencyMs: number, perSecond: number, counts: { views: number; interactions: number }, limitCap?: number): Promise<LatencyResult> {
  const mock = await new MindstampMock({ counts, limitCap }).start();
  try {
    const expected = new Map(MINDSTAMP_STREAMS.map((stream) => [stream as string, mock.records(stream).map((r) => String(r.id))]));
    return await atLatency(mock, latencyMs, perSecond, mock.connectorConfig(DEFAULTS), [...MINDSTAMP_STREAMS], expected, (_stream, record) => String(record.id));
  } finally {
    await mock.close();
  }
}

/** Fullstory users + sessions (one sessions request per identified user). */
export async function fullstoryAtLatency(latencyMs: number, perSecond: number, identifiedUsers: number): Promise<LatencyResult> {
  // Two users in three are identified (fullstory-data.ts).
  const mock = await new FullstoryMock({ users: Math.ceil((identifiedUsers * 3) / 2), bundles: 0, segmentEvents: 0, individuals: 0 }).start();
  try {
    // The mock answers a user's sessions with its id, or (odd users) a bare integer userId (fullstory.ts).
    const userId = (index: number) => (index % 2 === 0 ? String(mock.users[index].id) : String(1000 + index));
    const sessions = mock.users.flatMap((user, index) => (user.uid ? Array.from({ length: sessionCount(index) }, (_, s) => `${userId(index)}/${900 + s}`) : []));
    const expected = new Map([
      ['users', mock.users.map((user) => String(user.id))],
      ['sessions', sessions],
    ]);
    const keyOf = (stream: string, record: Record<string, unknown>) => (stream === 'users' ? String(record.id) : `${String(record.userId)}/${String(record.sessionId)}`);
    return await atLatency(mock, latencyMs, perSecond, mock.connectorConfig(DEFAULTS), ['users', 'sessions'], expected, keyOf);
  } finally {
    await mock.close();
  }
}

export interface LatencyCases {
  mindstamp: LatencyResult[];
  mindstampCapped: LatencyResult;
  fullstory: LatencyResult[];
}

/** Case 12 at each latency, Mindstamp also with a server that caps its pages below page_size. */
export async function latencyCases(sizes: {
  latenciesMs: number[];
  mindstampPerSecond: number;
  mindstampCounts: { views: number; interactions: number };
  mindstampCap: number;
  fullstoryPerSecond: number;
  identifiedUsers: number;
}): Promise<LatencyCases> {
  const mindstamp: LatencyResult[] = [];
  const fullstory: LatencyResult[] = [];
  for (const latencyMs of sizes.latenciesMs) {
    mindstamp.push(await mindstampAtLatency(latencyMs, sizes.mindstampPerSecond, sizes.mindstampCounts));
    fullstory.push(await fullstoryAtLatency(latencyMs, sizes.fullstoryPerSecond, sizes.identifiedUsers));
  }
  const middle = sizes.latenciesMs[Math.floor(sizes.latenciesMs.length / 2)];
  const mindstampCapped = await mindstampAtLatency(middle, sizes.mindstampPerSecond, sizes.mindstampCounts, sizes.mindstampCap);
  for (const result of [...mindstamp, ...fullstory, mindstampCapped]) {
    if (result.notOnce > 0) throw new Error(`case 12: at ${result.latencyMs} ms, ${result.notOnce} of ${result.expected} records did not come exactly once`);
  }
  return { mindstamp, mindstampCapped, fullstory };
}

/** Goals of case 12: the share of the limit at every latency, and few 429s at the middle one (150 ms). */
export function latencyGoals(cases: LatencyCases, middleMs: number): { name: string; value: number; target: string; met: boolean }[] {
  const goals = [];
  const runs: [string, LatencyResult][] = [
    ...cases.mindstamp.map((r): [string, LatencyResult] => ["Mindstamp's four lists", r]),
    ["Mindstamp's four lists, pages capped below page_size", cases.mindstampCapped],
    ...cases.fullstory.map((r): [string, LatencyResult] => ['Fullstory users + sessions', r]),
  ];
  for (const [what, r] of runs) {
    goals.push({ name: `case 12: ${what} at ${r.latencyMs} ms an answer: share of the untold limit's rate`, value: r.shareOfLimit, target: '≥ 0.85', met: r.shareOfLimit >= 0.85 });
    if (r.latencyMs === middleMs)
      goals.push({ name: `case 12: ${what} at ${r.latencyMs} ms: requests answered 429 (share)`, value: r.refused, target: '≤ 0.02', met: r.refused <= 0.02 });
  }
  return goals;
}

/** The table of case 12: one row per run. */
export function latencyTable(cases: LatencyCases): string[] {
  const row = (what: string, r: LatencyResult) =>
    `| ${what} | ${r.latencyMs} | ${r.records.toLocaleString('en-US')} | ${r.requests} | ${r.mostInFlight} | ${r.seconds.toFixed(1)} | ${r.shareOfLimit.toFixed(2)} | ${(r.refused * 100).toFixed(2)} % |`;
  return [
    '| case 12 | ms an answer | records (each once) | requests | most in flight | s | share of the limit | answered 429 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...cases.mindstamp.map((r) => row('Mindstamp, 4 lists', r)),
    row('Mindstamp, pages capped', cases.mindstampCapped),
    ...cases.fullstory.map((r) => row('Fullstory users + sessions', r)),
  ];
}
