// A mock of PersistIQ API v1 that behaves like the real one (PersistIQ OpenAPI 3.0.1 and its
// published conventions): x-api-key auth, the {status, errors, has_more, next_page, <resource>}
// envelope with absolute next_page URLs on its own origin, pages from 1, updated_after / start_at
// filters, 100 requests/minute with X-RateLimit-* headers and the documented 429 body.
import { FAST_TUNING, MockServer, type MockRequest, type MockResponse } from './server';

export interface PersistIqData {
  users: Record<string, unknown>[];
  leads: Record<string, unknown>[];
  campaigns: Record<string, unknown>[];
  lead_statuses: Record<string, unknown>[];
  lead_fields: Record<string, unknown>[];
  events: Record<string, unknown>[];
  dnc_domains: Record<string, unknown>[];
  tags: Record<string, unknown>[];
}

export interface PersistIqOptions {
  apiKey?: string;
  counts?: Partial<Record<keyof PersistIqData, number>>;
  /** Whether lead records carry `updated_at` (the OpenAPI shows none). */
  leadsHaveUpdatedAt?: boolean;
  /**
   * `limit` requests per `windowMs` (a minute in the docs; shorter to keep tests fast). `announce`:
   * the X-RateLimit-Limit sent, per minute, when it differs from what is enforced (a live key
   * announced 500 while the docs say 100: shared/reference persistiq-rate-limits.yml).
   */
  rateLimit?: { limit: number; windowMs: number; announce?: number } | false;
  /** First lead update time; lead i is updated i minutes later. */
  baseTime?: number;
  /**
   * Events as the published reference and a live client show them (`reference`: kind, event_at,
   * user, campaign, lead, params, diff) or as the OpenAPI does (`openapi`: event_type, data, created_at).
   */
  eventShape?: 'reference' | 'openapi';
  /**
   * What GET /v1/events without `group` answers, which no document says: the campaign group only
   * (default, the least helpful reading) or every event of every group.
   */
  withoutGroup?: 'campaign' | 'every';
  /**
   * The last N events are in a group no document names (the OpenAPI's `group` has no enum): a
   * request for a documented group never returns them; one without `group` may.
   */
  undocumentedGroupEvents?: number;
}

/** /v1/events `group`: "One of `campaign`, `settings`, or `lead_detail`" (piq-ref listEvents). */
export const EVENT_GROUPS = ['campaign', 'settings', 'lead_detail'] as const;
/** A group no document names, for the events only a request without `group` could return. */
export const UNDOCUMENTED_GROUP = 'sequence';
const EVENT_KINDS: Record<(typeof EVENT_GROUPS)[number], string[]> = {
  campaign: ['lead_added_to_campaign', 'message_sent', 'message_replied'],
  settings: ['user_invited', 'mailbox_connected'],
  lead_detail: ['lead_created', 'lead_status_changed'],
};

// Page sizes from PersistIQ's conventions (leads, campaigns, dnc_domains 100; events 500).
const PAGE_SIZE: Record<string, number> = { users: 100, leads: 100, campaigns: 100, dnc_domains: 100, tags: 100, events: 500 };
const UNPAGED = new Set(['lead_statuses', 'lead_fields']);

const pad = (n: number, width = 4) => String(n).padStart(width, '0');

export function generatePersistIqData(options: PersistIqOptions = {}): { data: PersistIqData; leadUpdatedAt: number[]; eventGroups: string[] } {
  const counts = { users: 3, leads: 250, campaigns: 12, lead_statuses: 5, lead_fields: 6, events: 700, dnc_domains: 4, tags: 7, ...options.counts };
  const base = options.baseTime ?? Date.parse('2024-03-01T00:00:00Z');
  const users = Array.from({ length: counts.users }, (_, i) => ({
    id: `u_${pad(i)}`,
    name: `User ${i}`,
    email: `user${i}@example.com`,
    activated: i % 4 !== 3,
    salesforce_id: i % 2 === 0 ? null : `sf_${i}`,
    default_mailbox_id: `mbox_${pad(i)}`,
    mailboxes: [{ id: `mbox_${pad(i)}`, email: `user${i}@example.com`, campaign_ids: [`c_${pad(i)}`] }],
  }));
  const leadUpdatedAt = Array.from({ length: counts.leads }, (_, i) => base + i * 60_000);
  const leads = leadUpdatedAt.map((updated, i) => ({
    id: `l_${pad(i)}`,
    status: i % 5 === 0 ? null : ['new', 'contacted', 'replied', 'bounced'][i % 4],
    data: { email: `lead${i}@example.org`, first_name: `First${i}`, last_name: `Last${i}`, company_name: `Company ${i % 17}`, custom_tier: i % 3 === 0 ? 'gold' : null },
    creator_id: users[i % users.length]?.id ?? null,
    owner_id: i % 7 === 0 ? null : (users[(i + 1) % users.length]?.id ?? null),
    bounced: i % 11 === 0,
    optedout: i % 13 === 0,
    sent_count: i % 6,
    replied_count: i % 2,
    last_sent_at: i % 3 === 0 ? null : new Date(updated - 3_600_000).toISOString(),
    ...(options.leadsHaveUpdatedAt === false ? {} : { updated_at: new Date(updated).toISOString() }),
  }));
  const campaigns = Array.from({ length: counts.campaigns }, (_, i) => ({
    id: `c_${pad(i)}`,
    name: `Campaign ${i}`,
    creator: { id: users[i % users.length].id, name: users[i % users.length].name, email: users[i % users.length].email },
    stats: {
      prospects_contacted: i * 3,
      prospects_reached: i * 2,
      prospects_opened: i,
      prospects_replied: i % 3,
      prospects_bounced: i % 2,
      prospects_optedout: 0,
      total_prospects: i * 4,
    },
  }));
  const lead_statuses = Array.from({ length: counts.lead_statuses }, (_, i) => ({ id: `lss_${pad(i)}`, name: `Status ${i}` }));
  const lead_fields = Array.from({ length: counts.lead_fields }, (_, i) => ({ id: `lcf_${pad(i)}`, name: `field_${i}`, label: `Field ${i}` }));
  // Six in ten events are about campaigns, three about lead details, one about settings.
  const undocumentedFrom = counts.events - (options.undocumentedGroupEvents ?? 0);
  const eventGroups = Array.from({ length: counts.events }, (_, i) =>
    i >= undocumentedFrom ? UNDOCUMENTED_GROUP : i % 10 < 6 ? 'campaign' : i % 10 < 9 ? 'lead_detail' : 'settings',
  );
  const events = eventGroups.map((group, i) => {
    const at = new Date(base + i * 30_000).toISOString();
    const lead = `l_${pad(i % Math.max(1, counts.leads))}`;
    const campaign = campaigns[i % Math.max(1, counts.campaigns)];
    if (options.eventShape === 'openapi')
      return { id: `evt_${pad(i, 6)}`, event_type: ['sent', 'opened', 'replied'][i % 3], data: { lead_id: lead, campaign_id: campaign?.id }, created_at: at };
    const user = users[i % users.length];
    const kinds = EVENT_KINDS[group as keyof typeof EVENT_KINDS] ?? ['sequence_paused'];
    const kind = kinds[i % kinds.length];
    // The published example: user embedded; campaign and lead as objects, {} when not concerned.
    return {
      id: `evt_${pad(i, 6)}`,
      kind,
      event_at: at,
      user_id: user.id,
      user: { id: user.id, name: user.name, email: user.email, activated: user.activated, default_mailbox_id: user.default_mailbox_id, salesforce_id: user.salesforce_id },
      campaign: group === 'campaign' && campaign ? { id: campaign.id, name: campaign.name } : {},
      lead: group === 'settings' ? {} : { id: lead, email: `lead${i % Math.max(1, counts.leads)}@example.org` },
      params: kind === 'message_sent' ? { step: 1 + (i % 3), subject: `Hello ${i}` } : {},
      diff: kind === 'lead_status_changed' ? { status: ['new', 'contacted'] } : {},
    };
  });
  const dnc_domains = Array.from({ length: counts.dnc_domains }, (_, i) => ({ id: `dom_${pad(i)}`, name: `blocked${i}.example.net` }));
  const tags = Array.from({ length: counts.tags }, (_, i) => ({ id: `tag_${pad(i)}`, name: `Tag ${i}` }));
  return { data: { users, leads, campaigns, lead_statuses, lead_fields, events, dnc_domains, tags }, leadUpdatedAt, eventGroups };
}

const errorBody = (reason: string, message: string) => ({ status: 'error', error: { reason, message } });

export class PersistIqMock extends MockServer {
  readonly apiKey: string;
  data: PersistIqData;
  /** Server-side update time of each lead (what updated_after filters on, shown or not). */
  leadUpdatedAt: number[];
  /** The group of each event (a server-side attribute the records do not show). */
  eventGroups: string[];
  private readonly exposeUpdatedAt: boolean;
  withoutGroup: 'campaign' | 'every';

  constructor(options: PersistIqOptions = {}) {
    super((request, server) => (server as PersistIqMock).route(request));
    this.gzipWhenAccepted = true;
    this.apiKey = options.apiKey ?? 'piq-test-key-9f8e7d';
    const generated = generatePersistIqData(options);
    this.data = generated.data;
    this.leadUpdatedAt = generated.leadUpdatedAt;
    this.eventGroups = generated.eventGroups;
    this.exposeUpdatedAt = options.leadsHaveUpdatedAt !== false;
    this.withoutGroup = options.withoutGroup ?? 'campaign';
    if (options.rateLimit !== false) {
      const { limit, windowMs, announce } = options.rateLimit ?? { limit: 100, windowMs: 60_000 };
      // "X-RateLimit-Limit: Maximum allowed requests per minute" (apidocs.persistiq.com): a scaled
      // window announces its per-minute equivalent.
      const perMinute = announce ?? Math.round((limit * 60_000) / windowMs);
      this.rateLimit = {
        limit,
        windowMs,
        // An announcement that differs from what is enforced counts down from what it announces.
        headers: (_max, remaining, resetAt) => ({
          'X-RateLimit-Limit': String(perMinute),
          'X-RateLimit-Remaining': String(announce === undefined ? remaining : Math.max(0, Math.round((announce * windowMs) / 60_000) - (limit - remaining))),
          ...(remaining === 0 ? { 'X-RateLimit-Reset': String(Math.ceil(resetAt / 1000)) } : {}),
        }),
        reject: (resetAt, max) => ({
          status: 429,
          headers: { 'X-RateLimit-Reset': String(Math.ceil(resetAt / 1000)) },
          body: errorBody('too_many_requests', `You performed more than ${max} requests per minute. Limit will be reseted at ${Math.ceil(resetAt / 1000)}.`),
        }),
      };
    }
  }

  /** The API root as the connector's base_url (".../v1"). */
  get baseUrl(): string {
    return `${this.url}/v1`;
  }

  /** A connector config for this mock, tuned for fast tests (no real-time waits). */
  connectorConfig(overrides: Record<string, unknown> = {}): { api: Record<string, unknown> } {
    return {
      api: {
        name: 'persistiq',
        api_key: this.apiKey,
        base_url: this.baseUrl,
        ...FAST_TUNING,
        ...overrides,
      },
    };
  }

  /** Marks leads as updated now (server side), as a user editing them would. */
  touchLeads(indexes: number[], at = Date.now()): void {
    for (const i of indexes) {
      this.leadUpdatedAt[i] = at;
      if (this.exposeUpdatedAt) this.data.leads[i].updated_at = new Date(at).toISOString();
    }
  }

  addLead(lead: Record<string, unknown>, at = Date.now()): void {
    this.data.leads.push(this.exposeUpdatedAt ? { ...lead, updated_at: new Date(at).toISOString() } : lead);
    this.leadUpdatedAt.push(at);
  }

  private route(request: MockRequest): MockResponse {
    if (request.headers['x-api-key'] !== this.apiKey) {
      return { status: 401, body: errorBody('invalid_request_error', 'Invalid API key. Check the x-api-key header.') };
    }
    const match = /^\/v1\/([a-z_]+)$/.exec(request.path);
    const resource = match?.[1] as keyof PersistIqData | undefined;
    if (request.method !== 'GET' || !resource || !(resource in this.data)) {
      return { status: 404, body: errorBody('invalid_request', `No route for ${request.method} ${request.path}`) };
    }
    let items = this.data[resource].map((item, index) => ({ item, index }));
    const after = (param: string) => {
      const value = request.query.get(param);
      if (value === null) return undefined;
      const ms = Date.parse(value);
      if (!Number.isFinite(ms)) throw Object.assign(new Error('bad date'), { param });
      return ms;
    };
    let updatedAfter: number | undefined;
    let startAt: number | undefined;
    try {
      updatedAfter = resource === 'leads' ? after('updated_after') : undefined;
      startAt = resource === 'events' ? after('start_at') : undefined;
    } catch (error) {
      return { status: 400, body: errorBody('bad_params', `${(error as { param: string }).param} is not a valid ISO 8601 timestamp`) };
    }
    if (updatedAfter !== undefined) items = items.filter(({ index }) => this.leadUpdatedAt[index] > updatedAfter);
    if (startAt !== undefined) items = items.filter(({ item }) => Date.parse(String(item.event_at ?? item.created_at)) >= startAt);
    if (resource === 'events') {
      // What a request without `group` returns is not documented (options.withoutGroup).
      const group = request.query.get('group') ?? (this.withoutGroup === 'every' ? undefined : 'campaign');
      if (group !== undefined && !(EVENT_GROUPS as readonly string[]).includes(group))
        return { status: 400, body: errorBody('bad_params', 'group must be one of campaign, settings, lead_detail') };
      if (group !== undefined) items = items.filter(({ index }) => this.eventGroups[index] === group);
    }

    const page = Number(request.query.get('page') ?? '1');
    if (!Number.isInteger(page) || page < 1) return { status: 400, body: errorBody('bad_params', 'page must be a positive integer') };
    const size = UNPAGED.has(resource) ? items.length || 1 : PAGE_SIZE[resource];
    const slice = items.slice((page - 1) * size, page * size).map(({ item }) => item);
    const hasMore = page * size < items.length;
    let nextPage: string | null = null;
    if (hasMore) {
      const next = new URL(`${this.baseUrl}/${resource}`);
      for (const [key, value] of request.query) if (key !== 'page') next.searchParams.set(key, value);
      next.searchParams.set('page', String(page + 1));
      nextPage = next.toString();
    }
    return { status: 200, body: { status: 'success', errors: [], has_more: hasMore, next_page: nextPage, [resource]: slice } };
  }
}
