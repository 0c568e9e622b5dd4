import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SystemError } from '../../src/protocol/errors';
import type { HttpClient } from '../../src/http/client';
import { testHttpClient } from '../helpers/http-client';
import { fetchPages } from '../../src/streams/page-reader';
import { nextTokenPaginator, nextUrlPaginator, offsetPaginator, recordsAt, type Page, type PageRequest } from '../../src/streams/paginate';
import { MockServer } from '../mocks/server';

const page = (request: PageRequest, body: unknown, items: unknown[] = [{ id: 1 }]): Page => ({ request, body, items });
const API = 'https://api.example.com/v1/leads';

describe('nextUrlPaginator', () => {
  const paginator = nextUrlPaginator({ urlField: 'next_page', hasMoreField: 'has_more', pageParam: 'page' });
  const first = { url: API, params: { updated_after: '2024-01-01T00:00:00Z', page: 1 } };

  test('follows a same-origin URL, keeping filters the URL does not restate', () => {
    assert.deepEqual(paginator.next(page(first, { has_more: true, next_page: 'https://api.example.com/v1/leads?page=2' })), {
      url: 'https://api.example.com/v1/leads?page=2',
      params: { updated_after: '2024-01-01T00:00:00Z' },
    });
    assert.deepEqual(paginator.next(page(first, { has_more: true, next_page: '/v1/leads?page=3&updated_after=2025-01-01' })), {
      url: 'https://api.example.com/v1/leads?page=3&updated_after=2025-01-01',
      params: {},
    });
  });

  test('for a foreign-origin URL, requests its page number on our own URL', () => {
    assert.deepEqual(paginator.next(page(first, { has_more: true, next_page: 'https://evil.example.net/v1/leads?page=7' })), {
      url: API,
      params: { updated_after: '2024-01-01T00:00:00Z', page: 7 },
    });
  });

  test('a foreign-origin URL without a page number is a SystemError, not followed', () => {
    assert.throws(
      () => paginator.next(page(first, { has_more: true, next_page: 'https://evil.example.net/v1/leads?cursor=abc' })),
      (error: unknown) => {
        assert.ok(error instanceof SystemError);
        assert.equal(
          error.message,
          'The next page URL in the response to GET /v1/leads?updated_after=2024-01-01T00%3A00%3A00Z&page=1 points to another host (https://evil.example.net) and carries no "page" number; it was not followed, so the API key is not sent there',
        );
        return true;
      },
    );
  });

  test('stops on has_more false, a null or missing next URL without has_more, and an empty page', () => {
    const next = 'https://api.example.com/v1/leads?page=2';
    assert.equal(paginator.next(page(first, { has_more: false, next_page: next })), undefined);
    assert.equal(paginator.next(page(first, { next_page: null })), undefined);
    assert.equal(paginator.next(page(first, {})), undefined);
    assert.equal(paginator.next(page(first, { has_more: true, next_page: next }, [])), undefined);
    assert.notEqual(paginator.next(page(first, { next_page: next })), undefined, 'has_more absent: follow next_page');
  });

  test('has_more: true with a null or missing next URL: the next page by the documented page parameter', () => {
    for (const body of [{ has_more: true, next_page: null }, { has_more: true }]) {
      assert.deepEqual(paginator.next(page(first, body)), { url: 'https://api.example.com/v1/leads', params: { updated_after: '2024-01-01T00:00:00Z', page: 2 } });
    }
  });

  test('has_more: true, no next URL, and a page number that is no number (a next URL followed earlier named page=abc): a SystemError, not a silent end', () => {
    assert.throws(() => paginator.next(page({ url: `${API}?page=abc`, params: {} }, { has_more: true, next_page: null })), {
      name: 'SystemError',
      message:
        'The response to GET /v1/leads?page=abc says has_more: true but names no next page, and this page\'s "page" ("abc") is no number to count on from; stopping instead of ending the list as if it were whole',
    });
  });

  test('a next URL that is not a string is a SystemError', () => {
    assert.throws(() => paginator.next(page({ url: API, params: {} }, { next_page: 2 })), {
      name: 'SystemError',
      message: 'Unexpected "next_page" in the response to GET /v1/leads: 2',
    });
  });
});

describe('offsetPaginator', () => {
  const paginator = offsetPaginator({ pageSize: 3, limitParam: 'per_page', offsetParam: 'skip' });

  test('starts at offset 0 and advances by the raw item count, nulls included', () => {
    assert.deepEqual(paginator.initialParams, { per_page: 3, skip: 0 });
    const request = { url: API, params: { per_page: 3, skip: 6, q: 'x' } };
    assert.deepEqual(paginator.next(page(request, {}, [{ id: 1 }, null, { id: 3 }])), { url: API, params: { per_page: 3, skip: 9, q: 'x' } });
  });

  test('stops on a short or empty page', () => {
    const request = { url: API, params: { per_page: 3, skip: 0 } };
    assert.equal(paginator.next(page(request, {}, [{ id: 1 }, null])), undefined);
    assert.equal(paginator.next(page(request, {}, [])), undefined);
  });

  test('ending on an empty page only: a short page goes on', () => {
    const patient = offsetPaginator({ pageSize: 3, endsOn: 'empty_page' });
    const request = { url: API, params: { limit: 3, offset: 0 } };
    assert.deepEqual(patient.next(page(request, {}, [{ id: 1 }, { id: 2 }])), { url: API, params: { limit: 3, offset: 2 } });
    assert.equal(patient.next(page(request, {}, [])), undefined);
  });

  test('defaults to limit/offset', () => {
    assert.deepEqual(offsetPaginator({ pageSize: 10 }).initialParams, { limit: 10, offset: 0 });
  });
});

describe('nextTokenPaginator', () => {
  const paginator = nextTokenPaginator({ tokenFields: ['next_token', 'nextToken'], param: 'cursor', initialParams: { limit: 50 } });
  const request = { url: API, params: { limit: 50 } };

  test('reads either spelling of the token field, first non-empty wins', () => {
    assert.deepEqual(paginator.initialParams, { limit: 50 });
    assert.deepEqual(paginator.next(page(request, { next_token: 'a1' })), { url: API, params: { limit: 50, cursor: 'a1' } });
    assert.deepEqual(paginator.next(page(request, { nextToken: 'b2' })), { url: API, params: { limit: 50, cursor: 'b2' } });
    assert.deepEqual(paginator.next(page(request, { next_token: '', nextToken: 'c3' })), { url: API, params: { limit: 50, cursor: 'c3' } });
  });

  test('stops without a token', () => {
    assert.equal(paginator.next(page(request, { next_token: null })), undefined);
    assert.equal(paginator.next(page(request, { nextToken: '' })), undefined);
    assert.equal(paginator.next(page(request, [])), undefined);
  });
});

describe('recordsAt', () => {
  const request = { url: API, params: { page: 2 } };

  test('returns the list under the key, or the body itself for null', () => {
    assert.deepEqual(recordsAt('leads', 'PersistIQ')({ leads: [{ id: 1 }, null] }, request), [{ id: 1 }, null]);
    assert.deepEqual(recordsAt(null, 'PersistIQ')([{ id: 2 }], request), [{ id: 2 }]);
  });

  test('absentIsEmpty: a first page without the key is empty (proto3 JSON omits an empty list); a later one is an error', () => {
    assert.deepEqual(recordsAt('endpoints', 'Fullstory', true)({}, request, 0), []);
    assert.throws(() => recordsAt('endpoints', 'Fullstory', true)({ nextPaginationToken: null }, request, 1), {
      name: 'SystemError',
      message: /expected a list of records at "endpoints", got nothing/,
    });
    assert.throws(() => recordsAt('endpoints', 'Fullstory', true)({ endpoints: null }, request, 0), { name: 'SystemError' });
  });

  test('a missing key or a non-list is a SystemError naming the request', () => {
    const cases: [string | null, unknown, string][] = [
      ['leads', { users: [] }, 'expected a list of records at "leads", got nothing'],
      ['leads', { leads: null }, 'expected a list of records at "leads", got null'],
      ['leads', { leads: { id: 1 } }, 'expected a list of records at "leads", got object'],
      ['leads', [{ id: 1 }], 'expected a list of records at "leads", got nothing'],
      [null, { leads: [] }, 'expected a list of records at the response body, got object'],
    ];
    for (const [name, body, expected] of cases) {
      assert.throws(() => recordsAt(name, 'PersistIQ')(body, request), {
        name: 'SystemError',
        message: `PersistIQ returned an unexpected response to GET /v1/leads?page=2: ${expected}`,
      });
    }
  });
});

describe('fetchPages against the mock server', () => {
  let mock: MockServer;
  let http: HttpClient;
  /** page number -> answer; next_page may be absolute on any origin. */
  let answers: Record<string, unknown>;
  before(async () => {
    mock = await new MockServer((request) => ({ status: 200, body: answers[request.query.get('page') ?? '1'] ?? { error: 'no such page' } })).start();
    http = testHttpClient(mock.url, { auth: { headers: { 'x-api-key': 'k' } } });
  });
  beforeEach(() => {
    mock.requests.length = 0;
  });
  after(() => mock.close());

  const leadsPaginator = nextUrlPaginator({ urlField: 'next_page', hasMoreField: 'has_more', pageParam: 'page' });
  const seen = () => mock.requests.map((r) => `${r.path}?${r.query.toString()}`);

  const readAll = async (first: PageRequest) => {
    const items: unknown[] = [];
    for await (const p of fetchPages(http, first, leadsPaginator, recordsAt('leads', 'Mock'))) items.push(...p.items);
    return items;
  };

  test('follows same-origin next URLs, keeping the filter on every request', async () => {
    answers = {
      '1': { has_more: true, next_page: `${mock.url}/v1/leads?page=2`, leads: [{ id: 1 }] },
      '2': { has_more: true, next_page: `${mock.url}/v1/leads?page=3`, leads: [{ id: 2 }, null] },
      '3': { has_more: false, next_page: null, leads: [{ id: 3 }] },
    };
    assert.deepEqual(await readAll({ url: `${mock.url}/v1/leads`, params: { updated_after: 'T' } }), [{ id: 1 }, { id: 2 }, null, { id: 3 }]);
    assert.deepEqual(seen(), ['/v1/leads?updated_after=T', '/v1/leads?page=2&updated_after=T', '/v1/leads?page=3&updated_after=T']);
  });

  test('foreign-origin next URLs (e.g. behind a proxy): their page numbers are read from our origin', async () => {
    answers = {
      '1': { has_more: true, next_page: 'https://api.persistiq.com/v1/leads?page=2', leads: [{ id: 1 }] },
      '2': { has_more: true, next_page: 'https://api.persistiq.com/v1/leads?page=3', leads: [{ id: 2 }] },
      '3': { has_more: false, next_page: null, leads: [{ id: 3 }] },
    };
    assert.deepEqual(await readAll({ url: `${mock.url}/v1/leads`, params: { updated_after: 'T' } }), [{ id: 1 }, { id: 2 }, { id: 3 }]);
    assert.deepEqual(seen(), ['/v1/leads?updated_after=T', '/v1/leads?updated_after=T&page=2', '/v1/leads?updated_after=T&page=3']);
    assert.ok(mock.requests.every((r) => r.headers['x-api-key'] === 'k'));
  });

  test('a foreign-origin next URL after a same-origin one requests exactly the new page', async () => {
    answers = {
      '1': { has_more: true, next_page: `${mock.url}/v1/leads?page=2`, leads: [{ id: 1 }] },
      '2': { has_more: true, next_page: 'https://api.persistiq.com/v1/leads?page=3', leads: [{ id: 2 }] },
      '3': { has_more: false, next_page: null, leads: [{ id: 3 }] },
    };
    const items = await readAll({ url: `${mock.url}/v1/leads`, params: { updated_after: 'T' } }).catch((error: Error) => error.message);
    assert.deepEqual(
      mock.requests.map((r) => r.query.getAll('page')),
      [[], ['2'], ['3']],
    );
    assert.deepEqual(items, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  test('a page holding the same items as the one before (an ignored paging parameter) is an error, before its records are yielded', async () => {
    answers = {
      '1': { has_more: true, next_page: `${mock.url}/v1/leads?page=2`, leads: [{ id: 1 }, { id: 2 }] },
      '2': { has_more: true, next_page: `${mock.url}/v1/leads?page=3`, leads: [{ id: 1 }, { id: 2 }] },
    };
    const yielded: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const p of fetchPages(http, { url: `${mock.url}/v1/leads`, params: {} }, leadsPaginator, recordsAt('leads', 'Mock'))) yielded.push(...p.items);
      })(),
      { name: 'SystemError', message: /^GET \/v1\/leads\?page=2 answered the same items as the page before it; stopping instead of looping/ },
    );
    assert.deepEqual(yielded, [{ id: 1 }, { id: 2 }]);
  });

  test('empty pages that keep pointing to more: an error after five, not an endless chain', async () => {
    // A token chain: every page names a new token, whatever it holds.
    answers = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [String(i + 1), { next: String(i + 2), leads: i === 0 ? [{ id: 1 }] : [] }]));
    const tokens = nextTokenPaginator({ tokenFields: ['next'], param: 'page' });
    const read = async () => {
      for await (const p of fetchPages(http, { url: `${mock.url}/v1/leads`, params: {} }, tokens, recordsAt('leads', 'Mock'))) void p;
    };
    await assert.rejects(read(), { name: 'SystemError', message: /^5 empty pages in a row still pointed to more/ });
    assert.equal(mock.requests.length, 6);
  });

  test('the same next page twice is a pagination loop (SystemError), after two requests', async () => {
    answers = {
      '1': { has_more: true, next_page: `${mock.url}/v1/leads?page=2`, leads: [{ id: 1 }] },
      '2': { has_more: true, next_page: `${mock.url}/v1/leads?page=2`, leads: [{ id: 2 }] },
    };
    const pages: unknown[] = [];
    await assert.rejects(
      async () => {
        for await (const p of fetchPages(http, { url: `${mock.url}/v1/leads`, params: { updated_after: 'T' } }, leadsPaginator, recordsAt('leads', 'Mock'))) {
          pages.push(p.items);
        }
      },
      {
        name: 'SystemError',
        message: 'Pagination loop: the API pointed to GET /v1/leads?page=2&updated_after=T a second time; stopping instead of reading the same pages forever',
      },
    );
    assert.deepEqual(pages, [[{ id: 1 }], [{ id: 2 }]]);
    assert.deepEqual(seen(), ['/v1/leads?updated_after=T', '/v1/leads?page=2&updated_after=T']);
  });

  test('an envelope without the records key fails with the request in the message', async () => {
    answers = { '1': { has_more: false, users: [] } };
    await assert.rejects(
      async () => {
        for await (const p of fetchPages(http, { url: `${mock.url}/v1/leads`, params: { page: 1 } }, leadsPaginator, recordsAt('leads', 'Mock'))) void p;
      },
      { name: 'SystemError', message: 'Mock returned an unexpected response to GET /v1/leads?page=1: expected a list of records at "leads", got nothing' },
    );
  });
});
