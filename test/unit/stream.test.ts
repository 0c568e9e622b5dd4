import { ApiClock } from '../../src/http/clock';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { testHttpClient } from '../helpers/http-client';
import { nextUrlPaginator } from '../../src/streams/paginate';
import { httpStream, joinUrl, recordObjects, type HttpApi, type HttpStreamOptions, type ReadContext, type StreamItem } from '../../src/streams/stream';
import { MockServer, type MockRequest } from '../mocks/server';

describe('recordObjects', () => {
  test('skips null items and counts them', () => {
    let nulls = 0;
    const records = [...recordObjects([{ id: 1 }, null, { id: 2 }, null], 'GET /v1/leads?page=1', () => nulls++)];
    assert.deepEqual(records, [{ id: 1 }, { id: 2 }]);
    assert.equal(nulls, 2);
  });

  test('an item that is not an object is a SystemError quoting it', () => {
    const cases: [unknown, string][] = [
      ['abc', 'a string where a record object was expected: "abc"'],
      [[1, 2], 'a list where a record object was expected: [1,2]'],
      [42, 'a number where a record object was expected: 42'],
    ];
    for (const [item, expected] of cases) {
      assert.throws(() => [...recordObjects([{ id: 1 }, item], 'GET /v1/leads', () => undefined)], {
        name: 'SystemError',
        message: `GET /v1/leads returned ${expected}`,
      });
    }
  });
});

test('joinUrl joins with exactly one slash', () => {
  assert.equal(joinUrl('https://x/v1/', '/leads'), 'https://x/v1/leads');
  assert.equal(joinUrl('https://x/v1', 'leads'), 'https://x/v1/leads');
});

describe('httpStream against the mock server', () => {
  let mock: MockServer;
  let api: HttpApi;
  let logs: string[];
  /** Two pages of leads; page 2 has a null item. */
  const leads = [
    [
      { id: 'a', updated_at: '2024-01-01T00:00:00Z' },
      { id: 'b', updated_at: '2024-03-01T00:00:00Z' },
    ],
    [null, { id: 'c', updated_at: '2024-02-01T00:00:00Z' }, { id: 'd' }],
  ];
  const handler = (request: MockRequest) => {
    const page = Number(request.query.get('page') ?? '1');
    const last = page >= leads.length;
    return { status: 200, body: { has_more: !last, next_page: last ? null : `${mock.url}/v1/leads?page=${page + 1}`, leads: leads[page - 1] } };
  };
  before(async () => {
    mock = await new MockServer(handler).start();
    api = {
      baseUrl: `${mock.url}/v1/`,
      apiTitle: 'Mock',
      http: testHttpClient(mock.url),
    };
  });
  beforeEach(() => {
    mock.requests.length = 0;
    logs = [];
  });
  after(() => mock.close());

  const stream = (incremental?: HttpStreamOptions['incremental']) =>
    httpStream({
      name: 'leads',
      schema: { type: 'object' },
      primaryKey: [['id']],
      path: '/leads',
      params: { sort: 'asc' },
      records: 'leads',
      paginator: nextUrlPaginator({ urlField: 'next_page', hasMoreField: 'has_more', pageParam: 'page' }),
      incremental,
    });
  const context = (overrides: Partial<ReadContext> = {}): ReadContext => ({
    syncMode: 'incremental',
    state: undefined,
    startDate: undefined,
    syncStartedAt: new Date('2024-06-01T00:00:00.000Z'),
    clock: new ApiClock(),
    log: (level, message) => logs.push(`${level} ${message}`),
    ...overrides,
  });
  const readAll = async (items: AsyncIterable<StreamItem>) => {
    const out: unknown[] = [];
    for await (const item of items) out.push(item.type === 'record' ? item.data.id : item);
    return out;
  };
  const queries = () => mock.requests.map((r) => `${r.path}?${r.query}`);

  test('declares its cursor only when incremental', () => {
    assert.equal(stream().cursorField, undefined);
    assert.deepEqual(stream({ cursor: 'updated_at', sorted: false, clientFilter: false, whenMissing: 'ignore' }).cursorField, ['updated_at']);
  });

  test('full refresh: every record of every page, each page but the last followed by the next page to read; null items logged once', async () => {
    const items = await readAll(stream().read(api, context({ syncMode: 'full_refresh' })));
    // The last page's checkpoint, that nothing is left, is the read loop's (FULL_REFRESH_COMPLETE).
    assert.deepEqual(items, ['a', 'b', { type: 'checkpoint', state: { page: 2 } }, 'c', 'd']);
    assert.deepEqual(queries(), ['/v1/leads?sort=asc', '/v1/leads?page=2&sort=asc']);
    assert.deepEqual(logs, ['INFO Stream "leads": skipped 1 null item(s) in the responses of GET /v1/leads']);
  });

  test('incremental: state sent as the request param, client filter, max cursor as final state', async () => {
    const s = stream({ cursor: 'updated_at', requestParam: 'updated_after', sorted: false, clientFilter: true, whenMissing: 'ignore' });
    const items = await readAll(s.read(api, context({ state: { updated_at: '2024-01-15T00:00:00Z' }, startDate: '2023-01-01T00:00:00Z' })));
    assert.deepEqual(items, ['b', 'c', 'd', { type: 'checkpoint', state: { updated_at: '2024-03-01T00:00:00Z' } }]);
    // The server gets the bound a millisecond earlier: a strict filter still returns the boundary instant.
    assert.deepEqual(queries(), ['/v1/leads?sort=asc&updated_after=2024-01-14T23%3A59%3A59.999Z', '/v1/leads?page=2&sort=asc&updated_after=2024-01-14T23%3A59%3A59.999Z']);
  });

  test('incremental, sorted: a checkpoint after every page; a missing cursor means the sync start', async () => {
    const s = stream({ cursor: 'updated_at', sorted: true, clientFilter: false, whenMissing: 'sync_start' });
    const items = await readAll(s.read(api, context({ startDate: '2023-06-01T00:00:00Z' })));
    assert.deepEqual(items, [
      'a',
      'b',
      { type: 'checkpoint', state: { updated_at: '2024-03-01T00:00:00Z' } },
      'c',
      'd',
      { type: 'checkpoint', state: { updated_at: '2024-06-01T00:00:00.000Z' } },
      { type: 'checkpoint', state: { updated_at: '2024-06-01T00:00:00.000Z' } },
    ]);
    assert.deepEqual(queries(), ['/v1/leads?sort=asc', '/v1/leads?page=2&sort=asc'], 'no requestParam: the bound stays client-side');
  });

  test('an invalid state fails before any request', async () => {
    const s = stream({ cursor: 'updated_at', requestParam: 'updated_after', sorted: false, clientFilter: false, whenMissing: 'ignore' });
    await assert.rejects(readAll(s.read(api, context({ state: { updated_at: 'last week' } }))), {
      name: 'ConfigError',
      message: 'State for stream "leads": "updated_at" must be an ISO 8601 date-time, got "last week"',
    });
    assert.equal(mock.requests.length, 0);
  });
});
