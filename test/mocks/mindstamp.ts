// A mock of the Mindstamp API v1 as the seed and tap-mindstamp describe it: Bearer token, bare JSON
// arrays at the root that may hold null items, /videos and /viewers unpaged, /views and
// /interactions paged by limit + offset, records in no particular updated_at order. No source
// documents a filter (tap-mindstamp sends only limit and offset), so unknown parameters are ignored.
// The server's largest `limit` is not documented either (tap-mindstamp cut its own from 1000 to 100
// without saying why): with `limitCap`, pages silently hold at most that many items.
import { FAST_TUNING, MockServer, type MockRequest, type MockResponse } from './server';

export const MINDSTAMP_STREAMS = ['videos', 'viewers', 'views', 'interactions'] as const;
export type MindstampStream = (typeof MINDSTAMP_STREAMS)[number];
export type MindstampData = Record<MindstampStream, (Record<string, unknown> | null)[]>;

export interface MindstampOptions {
  apiKey?: string;
  counts?: Partial<Record<MindstampStream, number>>;
  /** The most items a page holds, whatever `limit` asks for. */
  limitCap?: number;
  /** Requests per window before a 429 with Retry-After (seconds). */
  rateLimit?: { limit: number; windowMs: number };
  baseTime?: number;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A time as Mindstamp's docs render it: "Sat, 1 Jan 2022 05:12:32 UTC +00:00" (api-fidelity-audit #13). */
export function mindstampDocumentedTime(iso: string): string {
  const d = new Date(iso);
  const hms = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${hms} UTC +00:00`;
}

const PAGED = new Set<MindstampStream>(['views', 'interactions']);
const MAX_LIMIT = 1000;

const pad = (n: number, width = 5) => String(n).padStart(width, '0');

/** A fixed permutation, so updated_at is not in list order (i * 7919 mod n visits 0..n-1 when n is not a multiple of 7919). */
const scrambled = (i: number, n: number) => (i * 7919) % n;

export function generateMindstampData(options: MindstampOptions = {}): MindstampData {
  const counts = { videos: 14, viewers: 37, views: 430, interactions: 1150, ...options.counts };
  const base = options.baseTime ?? Date.parse('2024-05-01T00:00:00Z');
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
  const updated = (i: number, n: number) => (i % 50 === 17 ? null : at(scrambled(i, n) + 1));
  const videos = Array.from({ length: counts.videos }, (_, i) => ({
    id: `vid_${pad(i)}`,
    owner_id: 'own_1',
    organization_id: 'org_1',
    token: `tok${pad(i)}`,
    title: `Video ${i}`,
    message: i % 3 === 0 ? null : `Message ${i}`,
    duration: 30 + i * 7.5,
    link: `https://app.mindstamp.com/watch/tok${pad(i)}`,
    thumbnail: `https://cdn.mindstamp.com/thumbs/${i}.jpg`,
    created_at: at(-1000 + i),
    updated_at: updated(i, counts.videos),
  }));
  const viewers = Array.from({ length: counts.viewers }, (_, i) => ({
    id: `vwr_${pad(i)}`,
    name: `Viewer ${i}`,
    email: i % 4 === 0 ? null : `viewer${i}@example.com`,
    phone: null,
    owner_id: 'own_1',
    user_id: `usr_${i % 5}`,
    custom_id: i % 2 === 0 ? `crm-${i}` : null,
    created_at: at(-900 + i),
    updated_at: updated(i, counts.viewers),
  }));
  const views = Array.from({ length: counts.views }, (_, i) => {
    const video = videos[i % videos.length];
    const viewer = viewers[i % viewers.length];
    return {
      id: `view_${pad(i)}`,
      owner_id: 'own_1',
      video_id: video.id,
      video_token: video.token,
      video_title: video.title,
      started: at(i),
      finished: i % 5 === 0 ? null : at(i + 2),
      elapsed: 120 + i,
      watched: 90 + (i % 30),
      percentage: i % 101,
      viewer_id: viewer.id,
      viewer_name: viewer.name,
      viewer_email: viewer.email,
      viewer_phone: null,
      viewer_custom_id: viewer.custom_id,
      interaction_count: i % 4,
      city: 'Lisbon',
      region: 'Lisboa',
      country: 'PT',
      flag: '🇵🇹',
      url: `https://app.mindstamp.com/watch/${video.token}`,
      browser: ['Chrome', 'Firefox', 'Safari'][i % 3],
      screen_width: '1920',
      screen_height: '1080',
      participation: i % 100,
      correctness: i % 7 === 0 ? null : 50,
      plink_id: null,
      tag1: i % 2 === 0 ? 'campaign-a' : null,
      tag2: null,
      tag3: null,
      tag4: null,
      tag5: null,
      group_id: null,
      video_owner_id: 'own_1',
      export_count: 0,
      variables: { fullscreen: i % 2 === 0 ? 'true' : 'false', pScore: String(i % 10) },
      created_at: at(i),
      updated_at: updated(i, counts.views),
    };
  });
  const interactions = Array.from({ length: counts.interactions }, (_, i) => {
    const view = views[i % views.length];
    return {
      id: `int_${pad(i)}`,
      video_title: view.video_title,
      type_of: ['question', 'button', 'poll'][i % 3],
      value: `Q${i % 12}`,
      time: i % 300,
      finish: (i % 300) + 5,
      parent_id: null,
      parent_type: null,
      parent_value: null,
      click_action: i % 3 === 1 ? 'link' : null,
      click_value: i % 3 === 1 ? 'https://example.com' : null,
      viewer_name: view.viewer_name,
      viewer_email: view.viewer_email,
      viewer_phone: null,
      viewer_custom_id: view.viewer_custom_id,
      style: null,
      answers: i % 3 === 0 ? ['Yes', 2, 'No'] : i % 3 === 2 ? [1, 2.5] : null,
      correct_answer: i % 3 === 0 ? 'Yes' : null,
      correct: i % 3 === 0 ? i % 2 === 0 : null,
      view_id: view.id,
      video_id: view.video_id,
      url: view.url,
      viewer_id: view.viewer_id,
      created_at: at(i),
      updated_at: updated(i, counts.interactions),
      group_id: null,
      variables: { fullscreen: 'false' },
      export_count: 0,
      video_owner_id: 'own_1',
    };
  });
  // The API returns null items among the records (tap-mindstamp drops them); keep a few in place.
  const withNulls = <T>(items: T[]): (T | null)[] => items.flatMap((item, i) => (i % 23 === 5 ? [item, null] : [item]));
  return { videos: withNulls(videos), viewers: withNulls(viewers), views: withNulls(views), interactions: withNulls(interactions) };
}

export class MindstampMock extends MockServer {
  readonly apiKey: string;
  data: MindstampData;
  limitCap: number | undefined;

  constructor(options: MindstampOptions = {}) {
    super((request, server) => (server as MindstampMock).route(request));
    this.gzipWhenAccepted = true;
    this.apiKey = options.apiKey ?? 'ms-test-token-4b5c6d';
    this.data = generateMindstampData(options);
    this.limitCap = options.limitCap;
    if (options.rateLimit) {
      this.rateLimit = {
        ...options.rateLimit,
        reject: (resetAt) => ({ status: 429, headers: { 'Retry-After': String(Math.max(1, Math.ceil((resetAt - Date.now()) / 1000))) }, body: { error: 'Too many requests' } }),
      };
    }
  }

  get baseUrl(): string {
    return `${this.url}/api/v1`;
  }

  /** The records of a stream, without the null items. */
  records(stream: MindstampStream): Record<string, unknown>[] {
    return this.data[stream].filter((item): item is Record<string, unknown> => item !== null);
  }

  connectorConfig(overrides: Record<string, unknown> = {}): { api: Record<string, unknown> } {
    return {
      api: {
        name: 'mindstamp',
        api_key: this.apiKey,
        base_url: this.baseUrl,
        ...FAST_TUNING,
        ...overrides,
      },
    };
  }

  /** Sets updated_at of the given records, as an edit in Mindstamp would. */
  touch(stream: MindstampStream, ids: string[], at: number): void {
    for (const record of this.records(stream)) if (ids.includes(String(record.id))) record.updated_at = new Date(at).toISOString();
  }

  private route(request: MockRequest): MockResponse {
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) return { status: 401, body: { error: 'Unauthorized: invalid API token' } };
    const stream = /^\/api\/v1\/([a-z]+)$/.exec(request.path)?.[1] as MindstampStream | undefined;
    if (request.method !== 'GET' || !stream || !MINDSTAMP_STREAMS.includes(stream)) return { status: 404, body: { error: `Not found: ${request.path}` } };
    let items = this.data[stream];
    if (PAGED.has(stream) && request.query.has('limit')) {
      const limit = Number(request.query.get('limit'));
      const offset = Number(request.query.get('offset') ?? '0');
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT || !Number.isInteger(offset) || offset < 0) {
        return { status: 400, body: { error: `limit must be 1..${MAX_LIMIT} and offset >= 0` } };
      }
      items = items.slice(offset, offset + Math.min(limit, this.limitCap ?? limit));
    }
    return { status: 200, body: items };
  }
}
