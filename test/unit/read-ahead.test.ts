// Offset pages read ahead (page-reader.ts): whatever the server does with its page size, every
// record comes once, in list order.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { HttpClient } from '../../src/http/client';
import { fetchPages } from '../../src/streams/page-reader';
import { offsetPaginator, recordsAt } from '../../src/streams/paginate';
import { testHttpClient } from '../helpers/http-client';
import { MockServer } from '../mocks/server';

describe('offset pages read ahead', () => {
  let mock: MockServer;
  let http: HttpClient;
  let total: number;
  /** The most items the server gives at an offset, whatever limit asks for (its undocumented cap). */
  let capAt: (offset: number) => number;
  // A server per test: pages asked ahead past a list's end may still arrive after its read ended.
  beforeEach(async () => {
    mock = await new MockServer((request) => {
      const offset = Number(request.query.get('offset'));
      const count = Math.min(Number(request.query.get('limit')), capAt(offset), Math.max(0, total - offset));
      return { status: 200, body: Array.from({ length: count }, (_, i) => ({ id: offset + i })) };
    }).start();
    // Unpaced: the window is the cap, 32.
    http = testHttpClient(mock.url);
    capAt = () => Infinity;
  });
  afterEach(() => mock.close());

  const readIds = async (pageSize: number): Promise<number[]> => {
    const ids: number[] = [];
    const paginator = offsetPaginator({ pageSize, endsOn: 'empty_page' });
    for await (const page of fetchPages(http, { url: `${mock.url}/items`, params: {} }, paginator, recordsAt(null, 'Mock'))) {
      ids.push(...(page.items as { id: number }[]).map((item) => item.id));
    }
    return ids;
  };
  const every = (count: number) => Array.from({ length: count }, (_, i) => i);
  const offsetsAsked = () => mock.requests.map((r) => Number(r.query.get('offset')));

  test('after a full first page, the next offsets are asked at once, many in flight, and read in order', async () => {
    total = 1000;
    mock.latencyMs = 200;
    assert.deepEqual(await readIds(50), every(1000));
    const arrivals = mock.requests.map((r) => r.at);
    // Requests in flight together: those that arrived within one answer's time of each other.
    const together = Math.max(...arrivals.map((at) => arrivals.filter((other) => other >= at && other < at + 200).length));
    assert.ok(together >= 10, `at most ${together} requests in flight at once`);
    assert.equal(offsetsAsked()[0], 0);
  });

  test('a server that gives fewer than asked: two pages alike show its step, every record once', async () => {
    total = 500;
    capAt = () => 40;
    assert.deepEqual(await readIds(100), every(500));
    assert.deepEqual(offsetsAsked().slice(0, 2), [0, 40]);
    // By the step shown, but for the empty page after the short last one (480 + 20).
    assert.ok(
      offsetsAsked().every((offset) => offset % 40 === 0 || offset === 500),
      offsetsAsked().join(', '),
    );
  });

  test('a cap that falls mid-list: the pages asked ahead are dropped, reading goes on from where the short page ended', async () => {
    total = 600;
    capAt = (offset) => (offset < 200 ? 40 : 25);
    assert.deepEqual(await readIds(100), every(600));
  });

  test('a cap that rises mid-list (pages overlapping the ones asked ahead): no record twice', async () => {
    total = 600;
    capAt = (offset) => (offset < 200 ? 40 : 60);
    assert.deepEqual(await readIds(100), every(600));
  });

  test('one page shorter than the step before the end: nothing after it is skipped', async () => {
    total = 400;
    capAt = (offset) => (offset === 120 ? 10 : 40);
    assert.deepEqual(await readIds(100), every(400));
    assert.ok(offsetsAsked().includes(130), 'read on from the end of the short page');
  });

  test('an empty list is one request; a list ending on a short page ends at the empty page after it', async () => {
    total = 0;
    assert.deepEqual(await readIds(50), []);
    assert.deepEqual(offsetsAsked(), [0]);
    mock.requests.length = 0;
    total = 130;
    assert.deepEqual(await readIds(50), every(130));
    assert.ok(offsetsAsked().includes(130));
    assert.ok(
      offsetsAsked().every((offset) => offset <= 130 || offset % 50 === 0),
      'beyond the end only pages asked ahead',
    );
  });

  test('a server that ignores offset fails instead of looping, even with pages in flight', async () => {
    total = 1000;
    capAt = () => 50;
    const ignoring = await new MockServer(() => ({ status: 200, body: every(50).map((id) => ({ id })) })).start();
    try {
      const pages = fetchPages(
        testHttpClient(ignoring.url),
        { url: `${ignoring.url}/items`, params: {} },
        offsetPaginator({ pageSize: 50, endsOn: 'empty_page' }),
        recordsAt(null, 'Mock'),
      );
      await assert.rejects(async () => {
        for await (const page of pages) void page;
      }, /answered the same items as the page before it/);
    } finally {
      await ignoring.close();
    }
  });
});
