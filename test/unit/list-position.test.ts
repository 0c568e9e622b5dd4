import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectorError, SystemError } from '../../src/protocol/errors';
import { fromPositionOrStart, positionState, resumePoint } from '../../src/streams/list-position';

describe('positionState: where the next request reads', () => {
  test('from its parameters or from its URL, numbers kept as numbers, with the part it is in', () => {
    assert.deepEqual(positionState({ url: 'https://x/v1/leads?page=3', params: {} }, ['page'], {}), { page: 3 });
    assert.deepEqual(positionState({ url: 'https://x/views', params: { limit: 100, offset: 200 } }, ['offset'], {}), { offset: 200 });
    assert.deepEqual(positionState({ url: 'https://x/v1/events?page=2', params: { group: 'settings' } }, ['page'], { group: 'settings' }), { group: 'settings', page: 2 });
    // A token that looks like a number but is not one written back the same way stays text.
    assert.deepEqual(positionState({ url: 'https://x/l', params: { page_token: '007' } }, ['page_token'], {}), { page_token: '007' });
  });

  test('a next request that does not show its position gives no state', () => {
    assert.equal(positionState({ url: 'https://x/v1/leads?cursor=abc', params: {} }, ['page'], {}), undefined);
  });
});

describe('resumePoint: where a state resumes', () => {
  const groups = [{ params: { group: 'campaign' } }, { params: { group: 'settings' } }, { params: { group: 'lead_detail' } }];

  test('the part the state names, and the position within it (none: its first page)', () => {
    assert.deepEqual(resumePoint({ group: 'settings', page: 4 }, groups, ['page']), { part: 1, position: { page: 4 } });
    assert.deepEqual(resumePoint({ group: 'lead_detail' }, groups, ['page']), { part: 2, position: {} });
    assert.deepEqual(resumePoint({ offset: 300 }, [{ params: {} }], ['offset']), { part: 0, position: { offset: 300 } });
  });

  test("a state that is not this list's position says why", () => {
    assert.equal(resumePoint({ updated_at: '2024-01-01T00:00:00Z' }, [{ params: {} }], ['page']), 'it holds "updated_at", which this stream does not page by (page)');
    assert.equal(resumePoint({ page: { n: 2 } }, [{ params: {} }], ['page']), 'its "page" is {"n":2}, not a page position');
    assert.equal(resumePoint({ group: 'billing', page: 2 }, groups, ['page']), 'it names a part of the endpoint this stream does not read ({"group":"billing","page":2})');
  });
});

describe('fromPositionOrStart', () => {
  const refused = (status: number) => Object.assign(new SystemError(`HTTP ${status}`), { httpStatus: status }) as ConnectorError;
  const collect = async (items: AsyncIterable<string>) => {
    const out: string[] = [];
    for await (const item of items) out.push(item);
    return out;
  };

  /** A read that yields `before`, then fails with `status`; read from the start, it yields 'first'. */
  const failing = (status: number, before: string[] = []) =>
    async function* (from: 'position' | 'start') {
      if (from === 'start') {
        yield 'first';
        return;
      }
      yield* before;
      throw refused(status);
    };

  test('a resumed read whose first request is refused as a bad one (an expired token) reads from the start, said in a WARN', async () => {
    for (const status of [400, 404, 410, 422]) {
      const logs: string[] = [];
      assert.deepEqual(await collect(fromPositionOrStart('users', true, failing(status), (level, message) => logs.push(`${level} ${message}`))), ['first']);
      assert.deepEqual(logs, [`WARN Stream "users": the API refused the position an earlier attempt stopped at (HTTP ${status}); reading from the start`]);
    }
  });

  test('other failures, failures after something was read, and failures of a read not resumed are thrown', async () => {
    const cases: [boolean, ReturnType<typeof failing>][] = [
      [true, failing(500)],
      [true, failing(400, ['one'])],
      [false, failing(400)],
    ];
    for (const [resumed, read] of cases) {
      const logs: string[] = [];
      await assert.rejects(collect(fromPositionOrStart('users', resumed, read, (level, message) => logs.push(message))), /HTTP (500|400)/);
      assert.deepEqual(logs, []);
    }
  });
});
