// The Fullstory mock's dataset. Events are kept as JSON text, as Fullstory serves them, so ids above
// 2^53 exist digit for digit; tests compare what the connector printed with these texts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/shared';
import type { MockResponse } from './server';

export interface Bundle {
  Id: string; // digits; written as a JSON integer
  Start: number;
  Stop: number;
  /** The events, each one JSON object text. */
  events: string[];
}

export interface FullstoryDataOptions {
  bundles?: number;
  /** Events per bundle besides the sample ones. */
  eventsPerBundle?: number;
  /** Unix seconds of the first bundle's start. */
  firstBundleStart?: number;
  /** Segment export events: how many, and over which time span ending at `segmentEnd`. */
  segmentEvents?: number;
  segmentSpanMs?: number;
  segmentEnd?: number;
  /** Whether some segment events become available hours late (default true). */
  lateEvents?: boolean;
  individuals?: number;
  users?: number;
}

/** The 144 real-shaped events of hauser's test data (MIT), one text each. */
export function sampleEvents(): string[] {
  const text = readFileSync(join(repoRoot, 'test', 'fixtures', 'fullstory-hauser-raw.json'), 'utf8');
  // Split on the top-level "},{" boundaries the file uses, then check each piece is one object.
  const pieces = text
    .trim()
    .slice(1, -1)
    .trim()
    .split(/(?<=\}),\s*(?=\{"IndvId")/);
  for (const piece of pieces) JSON.parse(piece);
  return pieces;
}

const BIG = 9_007_199_254_740_993n; // 2^53 + 1: the first integer JSON.parse cannot keep

/** A generated event with 64-bit ids above 2^53, custom variables and, now and then, optional keys left out. */
export function generatedEvent(i: number, eventStart: string): string {
  const indv = BIG + BigInt(i % 37) * 1_000_003n;
  const session = BIG * 2n + BigInt(i);
  const fields = [
    `"IndvId":${indv}`,
    `"UserId":${indv}`,
    `"SessionId":${session}`,
    `"PageId":${BIG * 3n + BigInt(i)}`,
    `"EventStart":${JSON.stringify(eventStart)}`,
    `"EventType":${JSON.stringify(['click', 'navigate', 'change', 'custom'][i % 4])}`,
    ...(i % 4 === 3 ? [`"EventCustomName":"Order Completed"`, `"evt_total_real":${(i * 1.25).toFixed(2)}`, `"evt_order_id_str":"ord-${i}"`] : []),
    ...(i % 3 === 0 ? [`"user_plan_str":"pro"`] : []),
    ...(i % 5 === 0 ? [`"page_experiment_str":"b","EventTargetText":"Buy \\"now\\" \\u2713"`] : []),
    `"PageUrl":"https://shop.example.com/p/${i}"`,
    `"PageDuration":${1000 + i}`,
    ...(i % 7 === 0 ? [`"PageClusterId":${i}`] : []),
  ];
  return `{${fields.join(',')}}`;
}

export function generateBundles(options: FullstoryDataOptions = {}): Bundle[] {
  const count = options.bundles ?? 25;
  const perBundle = options.eventsPerBundle ?? 30;
  const first = options.firstBundleStart ?? 1_700_000_000;
  const samples = sampleEvents();
  const perSample = Math.ceil(samples.length / count);
  return Array.from({ length: count }, (_, b) => {
    const start = first + b * 3600;
    const generated = Array.from({ length: perBundle }, (_, i) => generatedEvent(b * perBundle + i, new Date((start + i) * 1000).toISOString()));
    return { Id: String(BIG * 4n + BigInt(b)), Start: start, Stop: start + 3600, events: [...samples.slice(b * perSample, (b + 1) * perSample), ...generated] };
  });
}

/**
 * Segment export events: EventStart spread evenly over the span; NDJSON rows are these texts. "Most
 * events will be available in Data Export about 30 minutes from the time that the event occurred",
 * some later (help.fullstory.com/hc/en-us/articles/360020829273): one in 7 after 5 hours, one in 23
 * after 20 hours. An export holds the events already available when it is made.
 */
export function generateSegmentEvents(options: FullstoryDataOptions = {}): { text: string; at: number; availableAt: number }[] {
  const count = options.segmentEvents ?? 300;
  const end = options.segmentEnd ?? Date.now();
  const span = options.segmentSpanMs ?? 3 * 86_400_000;
  return Array.from({ length: count }, (_, i) => {
    const at = end - span + Math.floor((i * span) / count);
    const lag = options.lateEvents === false ? 0 : i % 23 === 11 ? 20 * 3_600_000 : i % 7 === 3 ? 5 * 3_600_000 : 30 * 60_000;
    return { text: generatedEvent(10_000 + i, new Date(at).toISOString()), at, availableAt: at + lag };
  });
}

/** Individuals, the last active one day apart from `end` back (so a 30-day range misses some). */
export function generateIndividuals(count: number, end = Date.now()): { text: string; lastActive: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const lastActive = end - i * 86_400_000 - 60_000;
    const fields = {
      Created: '2024-01-02T03:04:05.000Z',
      Uid: i % 2 ? `uid-${i}` : '',
      DisplayName: `Person ${i}`,
      NumSessions: i + 1,
      TotalSec: i * 10.5,
      LastEventStart: new Date(lastActive).toISOString(),
      user_plan_str: 'pro',
    };
    return { text: JSON.stringify(fields).replace('{', `{"IndvId":${BIG * 5n + BigInt(i)},`), lastActive };
  });
}

/** Two segment exports an account made the day before `now`, finished (GET /operations/v1 lists them). */
export function pastOperations(now: number): Record<string, unknown>[] {
  return [1, 2].map((n) => {
    const created = now - 86_400_000 + n * 3_600_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      id: `op-past-${n}`,
      type: 'SEARCH_EXPORT',
      state: 'COMPLETED',
      estimatePctComplete: 100,
      createdAt: iso(created),
      finishedAt: iso(created + 60_000),
      results: { searchExportId: `exp-op-past-${n}`, expires: iso(created + 86_400_000) },
      details: { timeRange: { start: iso(created - 86_400_000), end: iso(created) } },
    };
  });
}

export function generateUsers(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${BIG * 6n + BigInt(i)}`,
    ...(i % 3 === 2 ? {} : { uid: `uid-${i}` }),
    display_name: `Person ${i}`,
    email: `person${i}@example.com`,
    is_being_deleted: false,
    properties: { plan: i % 2 ? 'pro' : 'free', seats: i },
    app_url: `https://app.fullstory.com/ui/o-1/user/${i}`,
  }));
}

const meta = (i: number) => ({
  created: '2023-01-01T00:00:00Z',
  createdBy: 'admin@example.com',
  lastUpdated: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
  lastUpdatedBy: 'admin@example.com',
});

/** Current settings and their saved versions (oldest last, the order is not documented). */
export function generateSettings(): Record<string, { current: Record<string, unknown>; versions: Record<string, unknown>[] }> {
  const kinds: Record<string, (i: number) => Record<string, unknown>> = {
    blocking: (i) => ({ blockedIps: [`10.0.0.${i}`], blockedUas: ['bot'], blockedAppIds: [] }),
    domain: (i) => ({ onlyRecordKnownDomains: i % 2 === 0, domains: [{ domain: `shop${i}.example.com`, disabled: false }] }),
    geo: (i) => ({ recordGeoMode: 'RECORD_ALL', recordGeoZones: [`zone-${i}`] }),
    privacy: (i) => ({ elementBlocks: [{ selector: `.secret-${i}`, type: 'EXCLUDE', scope: 'ALL' }], discardIpAddresses: true, defaultPrivacyMode: 'PRIVATE' }),
    features: (i) => ({ enabled: true, consoleWatcher: i % 2 === 0, ajaxWatcher: true, resourceUploading: false, recordingShutoff: false, clientSideRageClick: true }),
    // developer.fullstory.com/server/v1/settings/get-targeting-settings: scope ALL_SESSIONS…, attr
    // APP_VERSION…, op EQ…GTE…, and `values[].versionVal` is an object whose members the reference
    // does not list (the inner `version` here is illustrative; the schema leaves them free-form).
    targeting: (i) => ({
      sessionTargetingRules: [{ scope: 'ALL_SESSIONS', conditions: [{ attr: 'APP_VERSION', op: 'GTE', values: [{ versionVal: { version: `1.${i}` } }] }], children: [] }],
    }),
  };
  return Object.fromEntries(
    Object.entries(kinds).map(([kind, make]) => {
      const versions = Array.from({ length: 7 }, (_, i) => ({ ...make(i), metadata: meta(i) })).reverse();
      return [kind, { current: versions[0], versions }];
    }),
  );
}

/** Segments as GET /segments/v1 lists them. */
export const generateSegments = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `seg-${i}`,
    name: `Segment ${i}`,
    creator: 'admin@example.com',
    created: '2024-02-01T00:00:00Z',
    url: `https://app.fullstory.com/ui/o-1/segments/seg-${i}`,
  }));

/** Webhook endpoints as GET /webhooks/v1/endpoints lists them (the second one disabled). */
export const generateEndpoints = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `ep-${i}`,
    url: `https://hooks.example.com/${i}`,
    enabled: i !== 1,
    eventTypes: [{ eventName: 'note.created' }],
    created: '2024-02-01T00:00:00Z',
  }));

export const WEBHOOK_EVENT_TYPES = [
  { eventName: 'note.created', displayName: 'Note created' },
  { eventName: 'segment.created', displayName: 'Segment created' },
];

/** The index of the first event at or after `time` in events sorted by time (their length if none). */
export function firstAtOrAfter(events: readonly { at: number }[], time: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (events[middle].at < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Sessions of the user at `index` in the users list: a few, and 45 for every ninth (beyond Fullstory's default 20). */
export const sessionCount = (index: number): number => (index % 9 === 4 ? 45 : index % 3);

/**
 * GET /sessions/v2?uid=&limit=: "The max number of sessions to return (defaults to 20)", no paging
 * (developer.fullstory.com/server/v1/sessions/list-sessions). Some users have more than 20.
 */
export function sessionsAnswer(users: Record<string, unknown>[], uid: string | null, limit: string | null, silentCap = Infinity): MockResponse {
  const index = users.findIndex((u) => u.uid === uid);
  if (index < 0) return { status: 404, body: { message: `no user with uid ${uid}`, code: 'resource_not_found' } };
  const max = limit === null ? 20 : Number(limit);
  if (!Number.isInteger(max) || max < 1) return { status: 400, body: { message: 'limit must be a positive integer', code: 'invalid_argument' } };
  // Ids come as strings, or as bare integers (small ones here, so JSON.parse keeps them).
  const sessions = Array.from({ length: Math.min(max, silentCap, sessionCount(index)) }, (_, s) =>
    index % 2 === 0
      ? `{"userId":"${users[index].id}","sessionId":"${900 + s}","createdTime":"${1_700_000_000 + s}","fsUrl":"https://app.fullstory.com/ui/o-1/session/${index}:${s}"}`
      : `{"userId":${1000 + index},"sessionId":${900 + s},"createdTime":${1_700_000_000 + s},"fsUrl":"https://app.fullstory.com/ui/o-1/session/${index}:${s}"}`,
  );
  return { status: 200, body: `{"sessions":[${sessions.join(',')}]}` };
}
