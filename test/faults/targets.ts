// One adapter per API for the fault matrix: which stream to break, where its second page is, what
// it must deliver, and the API's own bodies for errors and broken pages.
import type { Fault, MockServer } from '../mocks/server';
import { FullstoryMock } from '../mocks/fullstory';
import { MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';

/** What every API mock offers: its key and a fast-test connector config. */
export type TargetMock = MockServer & { apiKey: string; connectorConfig(overrides?: Record<string, unknown>): { api: Record<string, unknown> } };

export interface FaultTarget {
  api: string;
  title: string;
  /** How the API's error text shows an injected {"error":"injected 504"} body. */
  injectedDetail: string;
  start(): Promise<TargetMock>;
  /** The paged stream under fault, its sync mode, and the request path and query of its second page. */
  stream: string;
  mode: 'full_refresh' | 'incremental';
  path: string;
  secondPage: Record<string, string>;
  /** How many records come before the second page. */
  firstPageSize: number;
  /** A small stream that must complete while the other one fails. */
  bystander: string;
  expected(mock: MockServer, stream: string): unknown[];
  /** The API's 429 body. */
  tooManyRequests: unknown;
  /** Rewrites of the second page: the same next page again (undefined: the paging cannot loop), no envelope, a string item. */
  loop?: (mock: MockServer) => Fault;
  noEnvelope: unknown;
  stringItem: unknown;
  /** The messages the connector gives for them. */
  noEnvelopeMessage: string;
  stringItemMessage: string;
  /** Messages naming the failing request. */
  request: string;
}

/** A small retry budget, so the cases run fast and a retry wait above 5 s is a failure. */
export const FAULT_TUNING = { max_retries: 3, max_wait_seconds: 5, request_timeout_seconds: 1, retry_initial_delay_seconds: 0.05 };

export const TARGETS: FaultTarget[] = [
  {
    api: 'persistiq',
    title: 'PersistIQ',
    injectedDetail: '{"error":"injected 504"}',
    start: () => new PersistIqMock({ rateLimit: false }).start(),
    stream: 'leads',
    mode: 'incremental',
    path: '/v1/leads',
    secondPage: { page: '2' },
    firstPageSize: 100,
    bystander: 'tags',
    expected: (mock, stream) => (mock as PersistIqMock).data[stream as 'leads'],
    tooManyRequests: { status: 'error', error: { reason: 'too_many_requests', message: 'You performed more than 100 requests per minute.' } },
    loop: (mock) => ({
      path: '/v1/leads',
      query: { page: '2' },
      kind: 'rewrite',
      rewrite: (body) => ({ ...(body as object), next_page: `${(mock as PersistIqMock).baseUrl}/leads?page=2` }),
    }),
    noEnvelope: { status: 'success', has_more: false, next_page: null },
    stringItem: { status: 'success', has_more: false, next_page: null, leads: ['l_x'] },
    noEnvelopeMessage: 'PersistIQ returned an unexpected response to GET /v1/leads?page=2: expected a list of records at "leads", got nothing',
    stringItemMessage: 'GET /v1/leads?page=2 returned a string where a record object was expected: "l_x"',
    request: 'GET /v1/leads?page=2',
  },
  {
    api: 'mindstamp',
    title: 'Mindstamp',
    injectedDetail: 'injected 504',
    start: () => new MindstampMock().start(),
    stream: 'views',
    mode: 'incremental',
    path: '/api/v1/views',
    secondPage: { offset: '100' },
    firstPageSize: 96,
    bystander: 'videos',
    expected: (mock, stream) => (mock as MindstampMock).records(stream as 'views'),
    tooManyRequests: { error: 'Too many requests' },
    // limit + offset: the next request is computed here, never taken from the server, so it cannot loop.
    noEnvelope: { views: [] },
    stringItem: ['view_x'],
    noEnvelopeMessage: 'Mindstamp returned an unexpected response to GET /api/v1/views?limit=100&offset=100: expected a list of records at the response body, got object',
    stringItemMessage: 'GET /api/v1/views?limit=100&offset=100 returned a string where a record object was expected: "view_x"',
    request: 'GET /api/v1/views?limit=100&offset=100',
  },
  {
    api: 'fullstory',
    title: 'Fullstory',
    injectedDetail: '{"error":"injected 504"}',
    start: () => new FullstoryMock().start(),
    stream: 'segments',
    mode: 'full_refresh',
    path: '/segments/v1',
    secondPage: { paginationToken: Buffer.from('100').toString('base64url') },
    firstPageSize: 100,
    bystander: 'webhook_event_types',
    expected: (mock, stream) => (stream === 'segments' ? (mock as FullstoryMock).segments : (mock as FullstoryMock).eventDefs),
    tooManyRequests: { message: 'Too many requests', code: 'too_many_requests' },
    loop: () => ({ path: '/segments/v1', query: { paginationToken: 'MTAw' }, kind: 'rewrite', rewrite: (body) => ({ ...(body as object), nextPaginationToken: 'MTAw' }) }),
    noEnvelope: { nextPaginationToken: null },
    stringItem: { segments: ['seg_x'] },
    noEnvelopeMessage: 'Fullstory returned an unexpected response to GET /segments/v1?limit=100&paginationToken=MTAw: expected a list of records at "segments", got nothing',
    stringItemMessage: 'GET /segments/v1?limit=100&paginationToken=MTAw returned a string where a record object was expected: "seg_x"',
    request: 'GET /segments/v1?limit=100&paginationToken=MTAw',
  },
];
