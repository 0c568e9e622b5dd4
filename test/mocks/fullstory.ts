// A mock of Fullstory as its documents describe it: "Authorization: Basic <key>", v2 errors
// {message, code}, 429 with Retry-After in seconds, legacy export list (20 bundles ending after
// `start`, oldest first) and get (gzip or plain, 2 downloads per window), segment exports as
// operations (PENDING → COMPLETED/FAILED) with the file on a second origin behind a pre-signed URL
// that refuses an Authorization header, token-paged lists, settings with history (both token
// spellings), users and sessions. An Architect key gets 403 on privacy settings.
import { gzipSync } from 'node:zlib';
import { firstAtOrAfter, sessionsAnswer, type Bundle, type FullstoryDataOptions } from './fullstory-data';
import * as data from './fullstory-data';
import { FAST_TUNING, MockServer, type MockRequest, type MockResponse } from './server';

export { sessionCount } from './fullstory-data';

/** A V4 signed URL's query: signature, issue time (X-Goog-Date, to the second) and life in seconds. */
const signedQuery = (id: string, ttlSeconds: number) => `X-Goog-Signature=sig${id}&X-Goog-Date=${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}&X-Goog-Expires=${ttlSeconds}`;

export interface FullstoryMockOptions extends FullstoryDataOptions {
  /** Legacy downloads allowed per window (Fullstory: 2 per minute). */
  downloadLimit?: { limit: number; windowMs: number } | false;
  /** Polls an export operation answers PENDING before COMPLETED. */
  pendingPolls?: number;
  /** Time Fullstory takes to prepare each export (then COMPLETED at the next poll), instead of pendingPolls. */
  prepareMs?: number;
  /** Serve every bundle gzipped (default: odd ids gzipped, even ids plain). */
  gzipAllBundles?: boolean;
  /**
   * An export of the same rows as an earlier one gets the earlier file, not a new one (the benchmark,
   * whose events are all available and never change: building 300k events into a file in this
   * process, or even counting them, would stall it mid-measurement and count Fullstory's time as the
   * connector's).
   */
  reuseExportFiles?: boolean;
  /** The v1 lists' token key: the older List Segments page documents `next_pagination_token`. */
  listTokenKey?: 'nextPaginationToken' | 'next_pagination_token';
  /** Leave out an empty list's key, as proto3 JSON does by default for an empty repeated field. */
  omitEmptyLists?: boolean;
  /**
   * The server's clock, stopped at this instant (epoch ms): the segment exports' data, the operations'
   * times and the Date header are the same at any real time (what CAT's expected records need).
   * It also holds two export operations finished the day before, as an account's history would.
   */
  pinnedNow?: number;
  /** A cap on /sessions/v2's `limit` the server applies without saying so (none is documented; the awkward case). */
  sessionsCap?: number;
  /** Life of a pre-signed link: "typically … a 5 minute expiration window" (developer.fullstory.com/get-export-results). */
  linkTtlSeconds?: number;
}

const error = (status: number, code: string, message: string): MockResponse => ({ status, body: { message, code } });

export class FullstoryMock extends MockServer {
  readonly apiKey = 'na1.fs-admin-key/abc123==';
  readonly architectKey = 'na1.fs-architect-key/def456==';
  readonly storage: MockServer;
  bundles: Bundle[];
  segmentEvents: { text: string; at: number; availableAt: number }[];
  /** Individuals with the time of their last activity (an export holds those active in its range). */
  individualsActivity: { text: string; lastActive: number }[];
  /** The bodies of POST /segments/v1/exports. */
  readonly exportRequests: Record<string, unknown>[] = [];
  users: Record<string, unknown>[];
  settings = data.generateSettings();
  segments = data.generateSegments(130);
  endpoints = data.generateEndpoints(3);
  eventDefs = data.WEBHOOK_EVENT_TYPES;
  operations: Record<string, unknown>[] = [];
  /** Set to make the next export operations fail. */
  failExports = false;
  downloads = 0;
  private downloadWindow = { start: 0, count: 0 };
  private readonly polls = new Map<string, number>();
  private readonly exportFiles = new Map<string, Buffer>();
  private readonly filesByRows = new Map<string, Buffer>();
  private readonly bundleFiles = new Map<string, Buffer>();

  constructor(private readonly options: FullstoryMockOptions = {}) {
    super((request, server) => (server as FullstoryMock).route(request));
    this.gzipWhenAccepted = true;
    this.pinnedNow = options.pinnedNow;
    const segmentEnd = options.segmentEnd ?? options.pinnedNow;
    this.bundles = data.generateBundles(options);
    this.segmentEvents = data.generateSegmentEvents({ ...options, segmentEnd });
    this.individualsActivity = data.generateIndividuals(options.individuals ?? 40, segmentEnd);
    if (options.pinnedNow !== undefined) this.operations.push(...data.pastOperations(options.pinnedNow));
    this.users = data.generateUsers(options.users ?? 45);
    this.storage = new MockServer((request) => this.serveFile(request));
  }

  override async start(): Promise<this> {
    await this.storage.start();
    return super.start();
  }

  override async close(): Promise<void> {
    await this.storage.close();
    await super.close();
  }

  get baseUrl(): string {
    return this.url;
  }

  /** Every individual's NDJSON row. */
  get individuals(): string[] {
    return this.individualsActivity.map((i) => i.text);
  }

  get exportBaseUrl(): string {
    return `${this.url}/api/v1/export`;
  }

  connectorConfig(overrides: Record<string, unknown> = {}): { api: Record<string, unknown> } {
    return {
      api: {
        name: 'fullstory',
        api_key: this.apiKey,
        base_url: this.baseUrl,
        export_base_url: this.exportBaseUrl,
        start_date: new Date(Date.now() - 4 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        ...FAST_TUNING,
        legacy_downloads_per_minute: 6000,
        operation_poll_seconds: 0.01,
        ...overrides,
      },
    };
  }

  private route(request: MockRequest): MockResponse | Promise<MockResponse> {
    const auth = request.headers.authorization;
    if (auth !== `Basic ${this.apiKey}` && auth !== `Basic ${this.architectKey}`) return error(401, 'unauthorized', 'Unauthorized: invalid API key');
    const admin = auth === `Basic ${this.apiKey}`;
    const { path, query } = request;
    if (path.startsWith('/api/v1/export/')) return this.legacy(request);
    if (request.method === 'POST' && path === '/segments/v1/exports') return this.createExport(request);
    let match: RegExpExecArray | null;
    if ((match = /^\/operations\/v1\/([^/]+)$/.exec(path))) return this.operation(match[1]);
    if ((match = /^\/search\/v1\/exports\/([^/]+)\/results$/.exec(path))) {
      const ttl = this.options.linkTtlSeconds ?? 300;
      const file = `${match[1]}.ndjson.gz`;
      return this.exportFiles.has(file)
        ? { status: 200, body: { location: `${this.storage.url}/exports/${file}?${signedQuery(match[1], ttl)}`, expires: new Date(Date.now() + ttl * 1000).toISOString() } }
        : error(404, 'resource_not_found', 'export not found');
    }
    if ((match = /^\/settings\/recording\/v1\/([a-z]+)(\/history)?$/.exec(path))) {
      const kind = this.settings[match[1]];
      if (!kind) return error(404, 'resource_not_found', `no settings ${match[1]}`);
      if (match[1] === 'privacy' && !admin) return error(403, 'forbidden', 'This operation requires an Admin API key');
      if (!match[2]) return { status: 200, body: kind.current };
      // "limit … The default is 20 and the max is 100" (developer.fullstory.com get-privacy-settings-history);
      // this mock gives 3 a page whatever is asked, as a server may give fewer than asked.
      const historyLimit = Number(query.get('limit') ?? '20');
      if (!Number.isInteger(historyLimit) || historyLimit < 1 || historyLimit > 100) return error(400, 'invalid_argument', 'limit must be between 1 and 100');
      // Some history endpoints spell the token in snake_case.
      const tokenKey = ['geo', 'targeting'].includes(match[1]) ? 'next_pagination_token' : 'nextPaginationToken';
      return this.tokenPage(kind.versions, query.get('paginationToken'), 3, 'versions', tokenKey);
    }
    const limit = Number(query.get('limit') ?? '20');
    if (path.endsWith('/v1') || path === '/webhooks/v1/endpoints') {
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) return error(400, 'invalid_argument', 'limit must be between 1 and 100');
    }
    switch (path) {
      case '/segments/v1':
        return this.tokenPage(this.segments, query.get('paginationToken'), limit, 'segments', this.options.listTokenKey ?? 'nextPaginationToken');
      case '/operations/v1':
        return this.tokenPage(this.operations, query.get('paginationToken'), limit, 'operations', this.options.listTokenKey ?? 'nextPaginationToken');
      case '/webhooks/v1/endpoints':
        return this.tokenPage(this.endpoints, query.get('paginationToken'), limit, 'endpoints', this.options.listTokenKey ?? 'nextPaginationToken');
      case '/webhooks/v1/event-types':
        return { status: 200, body: { eventDefs: this.eventDefs } };
      case '/v2/users': {
        const users = query.get('is_identified') === 'true' ? this.users.filter((u) => u.uid) : this.users;
        const page = this.tokenPage(users, query.get('page_token'), 20, 'results', 'next_page_token');
        if (page.status === 200) (page.body as Record<string, unknown>).total_records = String(users.length);
        return page;
      }
      case '/sessions/v2':
        return sessionsAnswer(this.users, query.get('uid'), query.get('limit'), this.options.sessionsCap);
    }
    return error(404, 'resource_not_found', `No route for ${request.method} ${path}`);
  }

  /** Opaque tokens (base64 of the offset), as the v1 APIs use. */
  private tokenPage(items: unknown[], token: string | null, size: number, key: string, tokenKey: string): MockResponse {
    const offset = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
    // A token it never issued (or one that expired: how long tokens live is not documented) is a
    // malformed request, answered 400 as Fullstory answers a bad parameter.
    if (!Number.isInteger(offset) || offset < 0 || offset > items.length) return error(400, 'invalid_argument', 'invalid page token');
    const next = offset + size < items.length ? Buffer.from(String(offset + size)).toString('base64url') : undefined;
    const page = items.slice(offset, offset + size);
    return { status: 200, body: { ...(page.length === 0 && this.options.omitEmptyLists ? {} : { [key]: page }), ...(next ? { [tokenKey]: next } : {}) } };
  }

  private legacy(request: MockRequest): MockResponse {
    if (request.path === '/api/v1/export/list') {
      const start = Number(request.query.get('start'));
      if (!Number.isInteger(start)) return { status: 400, body: 'start must be unix seconds' };
      const page = this.bundles.filter((b) => b.Stop > start).slice(0, 20);
      return { status: 200, body: `{"exports":[${page.map((b) => `{"Id":${b.Id},"Start":${b.Start},"Stop":${b.Stop}}`).join(',')}]}` };
    }
    if (request.path === '/api/v1/export/get') {
      const limit = this.options.downloadLimit ?? false;
      if (limit) {
        const now = Date.now();
        if (now - this.downloadWindow.start >= limit.windowMs) this.downloadWindow = { start: now, count: 0 };
        if (++this.downloadWindow.count > limit.limit) {
          this.rateLimited++;
          const wait = Math.max(1, Math.ceil((this.downloadWindow.start + limit.windowMs - now) / 1000));
          return { status: 429, headers: { 'Retry-After': String(wait) }, body: { message: 'Too many export downloads', code: 'too_many_requests' } };
        }
      }
      const bundle = this.bundles.find((b) => b.Id === request.query.get('id'));
      if (!bundle) return error(404, 'resource_not_found', 'no such bundle');
      this.downloads++;
      // Odd bundles come as a gzip file (never compressed again), even ones as plain JSON (both happen).
      if (!this.options.gzipAllBundles && Number(bundle.Id.slice(-1)) % 2 === 0) return { status: 200, body: `[${bundle.events.join(',')}]` };
      return { status: 200, headers: { 'Content-Type': 'application/gzip' }, body: this.bundleFile(bundle), gzip: false };
    }
    return { status: 404, body: 'not found' };
  }

  /** A bundle as the gzip file the export host serves (built once). */
  bundleFile(bundle: Bundle): Buffer {
    const file = this.bundleFiles.get(bundle.Id) ?? gzipSync(`[${bundle.events.join(',')}]`);
    this.bundleFiles.set(bundle.Id, file);
    return file;
  }

  /** The gzip NDJSON file of a segment export, as the storage host serves it. */
  exportFile(operationId: string): Buffer | undefined {
    return this.exportFiles.get(`exp-${operationId}.ndjson.gz`);
  }

  private createExport(request: MockRequest): MockResponse {
    const body = JSON.parse(request.body) as { segmentId?: string; type?: string; format?: string; timeRange?: { start?: string; end?: string }; segmentTimeRange?: unknown };
    const knownSegment = body.segmentId === 'everyone' || this.segments.some((segment) => segment.id === body.segmentId);
    if (!knownSegment || body.format !== 'FORMAT_NDJSON' || !['TYPE_EVENT', 'TYPE_INDIVIDUAL'].includes(String(body.type))) {
      return error(400, 'invalid_argument', `bad export request ${request.body}`);
    }
    // "the time range start and end can be set to empty strings to include all data" (create-segment-export).
    const start = body.timeRange?.start === '' ? -Infinity : Date.parse(body.timeRange?.start ?? '');
    const end = body.timeRange?.end === '' ? Infinity : Date.parse(body.timeRange?.end ?? '');
    if (!(start < end) || (body.segmentTimeRange !== undefined && JSON.stringify(body.segmentTimeRange) !== JSON.stringify(body.timeRange)))
      return error(400, 'invalid_argument', 'bad timeRange');
    this.exportRequests.push(body);
    const id = `op-${this.operations.length + 1}`;
    const now = this.now();
    // Segment events are in time order: the export is the run of them inside the range.
    const rowsKey = `${body.type} ${firstAtOrAfter(this.segmentEvents, start)} ${firstAtOrAfter(this.segmentEvents, end)}`;
    let file = this.options.reuseExportFiles ? this.filesByRows.get(rowsKey) : undefined;
    if (!file) {
      // "For TYPE_INDIVIDUAL, only users that performed events within the provided time range are exported."
      const rows =
        body.type === 'TYPE_EVENT'
          ? this.segmentEvents.filter((e) => e.at >= start && e.at < end && e.availableAt <= now).map((e) => e.text)
          : this.individualsActivity.filter((i) => i.lastActive >= start && i.lastActive < end).map((i) => i.text);
      file = gzipSync(rows.map((row) => `${row}\n`).join(''));
      this.filesByRows.set(rowsKey, file);
    }
    this.exportFiles.set(`exp-${id}.ndjson.gz`, file);
    this.operations.push({
      id,
      type: 'SEARCH_EXPORT',
      state: 'PENDING',
      estimatePctComplete: 0,
      createdAt: new Date(this.now()).toISOString(),
      details: { timeRange: body.timeRange },
    });
    return { status: 200, body: { operationId: id } };
  }

  private operation(id: string): MockResponse {
    const operation = this.operations.find((o) => o.id === id);
    if (!operation) return error(404, 'resource_not_found', `no operation ${id}`);
    const polls = (this.polls.get(id) ?? 0) + 1;
    this.polls.set(id, polls);
    const { prepareMs } = this.options;
    const ready = prepareMs !== undefined ? this.now() - Date.parse(String(operation.createdAt)) >= prepareMs : polls > (this.options.pendingPolls ?? 2);
    if (ready) {
      Object.assign(
        operation,
        this.failExports
          ? { state: 'FAILED', errorDetails: 'export exceeded the maximum size', finishedAt: new Date(this.now()).toISOString() }
          : {
              state: 'COMPLETED',
              estimatePctComplete: 100,
              results: { searchExportId: `exp-${id}`, expires: new Date(this.now() + 86_400_000).toISOString() },
              finishedAt: new Date(this.now()).toISOString(),
            },
      );
    } else {
      operation.estimatePctComplete = polls * 30;
    }
    return { status: 200, body: operation };
  }

  /** The storage host: signed URLs only, and (as Google Cloud Storage does) no second credential. */
  private serveFile(request: MockRequest): MockResponse {
    if (request.headers.authorization)
      return {
        status: 400,
        headers: { 'Content-Type': 'application/xml' },
        body: '<Error><Code>InvalidArgument</Code><Message>Cannot use both a signed URL and an Authorization header.</Message></Error>',
      };
    const file = request.path.replace('/exports/', '');
    if (request.query.get('X-Goog-Signature') !== `sig${file.replace('.ndjson.gz', '')}`) return { status: 403, body: '<Error><Code>SignatureDoesNotMatch</Code></Error>' };
    // Google Cloud Storage answers an expired V4 signed URL with 400 ExpiredToken.
    const issued = Date.parse(String(request.query.get('X-Goog-Date')).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    if (!(Date.now() <= issued + Number(request.query.get('X-Goog-Expires')) * 1000)) {
      return {
        status: 400,
        headers: { 'Content-Type': 'application/xml' },
        body: '<Error><Code>ExpiredToken</Code><Message>Invalid argument.</Message><Details>The provided token has expired.</Details></Error>',
      };
    }
    const body = this.exportFiles.get(file);
    return body ? { status: 200, headers: { 'Content-Type': 'application/gzip' }, body } : { status: 404, body: 'no such file' };
  }
}
