import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiClock } from '../../src/http/clock';
import { DatetimeCursor, type DatetimeCursorOptions } from '../../src/streams/cursor';
import { ConfigError } from '../../src/protocol/errors';

const SYNC_START = new Date('2024-06-01T12:00:00.000Z');

const cursor = (overrides: Partial<DatetimeCursorOptions> = {}) =>
  new DatetimeCursor({
    stream: 'leads',
    field: 'updated_at',
    state: undefined,
    startDate: undefined,
    syncStartedAt: SYNC_START,
    clock: new ApiClock(),
    whenMissing: 'ignore',
    ...overrides,
  });

describe('DatetimeCursor lower bound', () => {
  test('state beats start_date, and keeps its own text', () => {
    const c = cursor({ state: { updated_at: '2024-03-01T00:00:00+00:00' }, startDate: '2024-05-01T00:00:00Z' });
    assert.deepEqual(c.lowerBound, { text: '2024-03-01T00:00:00+00:00', ms: Date.parse('2024-03-01T00:00:00Z') });
  });

  test('start_date is used without state, or when the state has no value (null) for the field', () => {
    assert.equal(cursor({ startDate: '2024-05-01T00:00:00Z' }).lowerBound?.text, '2024-05-01T00:00:00Z');
    assert.equal(cursor({ state: { updated_at: null }, startDate: '2024-05-01T00:00:00Z' }).lowerBound?.text, '2024-05-01T00:00:00Z');
    assert.equal(cursor({ state: { other: 'x' }, startDate: '2024-05-01T00:00:00Z' }).lowerBound?.text, '2024-05-01T00:00:00Z');
    assert.equal(cursor().lowerBound, undefined);
  });

  test('an invalid state value is a ConfigError naming the stream and the field', () => {
    for (const [value, shown] of [
      ['yesterday', '"yesterday"'],
      ['', '""'],
      [1717243200, '1717243200'],
      [{ at: 1 }, '{"at":1}'],
    ] as const) {
      assert.throws(
        () => cursor({ state: { updated_at: value } }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.message, `State for stream "leads": "updated_at" must be an ISO 8601 date-time, got ${shown}`);
          assert.equal(error.failureType, 'config_error');
          return true;
        },
      );
    }
  });
});

describe('DatetimeCursor.isNew', () => {
  const c = cursor({ state: { updated_at: '2024-03-01T00:00:00Z' } });

  test('is inclusive: a record at exactly the lower bound (or within its millisecond) is read again, never lost', () => {
    assert.equal(c.isNew({ updated_at: '2024-03-01T00:00:00Z' }), true);
    assert.equal(c.isNew({ updated_at: '2024-03-01T00:00:00.000+00:00' }), true, 'same instant in another spelling');
    assert.equal(c.isNew({ updated_at: '2024-03-01T00:00:00.000400Z' }), true, 'a sub-millisecond neighbour');
    assert.equal(c.isNew({ updated_at: '2024-03-01T00:00:00.001Z' }), true);
    assert.equal(c.isNew({ updated_at: '2024-02-29T23:59:59.999Z' }), false);
  });

  test('a server-side filter gets the bound a millisecond earlier, so a strict one still returns the boundary instant', () => {
    assert.equal(c.serverBound(), '2024-02-29T23:59:59.999Z');
    assert.equal(cursor().serverBound(), undefined);
  });

  test('records without a parseable value pass, and everything passes without a bound', () => {
    assert.equal(c.isNew({}), true);
    assert.equal(c.isNew({ updated_at: null }), true);
    assert.equal(c.isNew({ updated_at: 'garbage' }), true);
    assert.equal(cursor().isNew({ updated_at: '1970-01-01T00:00:00Z' }), true);
  });
});

describe('DatetimeCursor.state', () => {
  test("moves to the latest record seen, in the record's own spelling", () => {
    const c = cursor({ state: { updated_at: '2024-03-01T00:00:00Z' } });
    c.observe({ updated_at: '2024-04-02T10:00:00.123Z' });
    c.observe({ updated_at: '2024-04-01T00:00:00Z' });
    assert.deepEqual(c.state(), { updated_at: '2024-04-02T10:00:00.123Z' });
  });

  test('never moves backwards: a future state is kept', () => {
    const c = cursor({ state: { updated_at: '2030-01-01T00:00:00Z' } });
    c.observe({ updated_at: '2024-04-01T00:00:00Z' });
    assert.deepEqual(c.state(), { updated_at: '2030-01-01T00:00:00Z' });
  });

  test('without records the state is the lower bound, or empty without one', () => {
    assert.deepEqual(cursor({ startDate: '2024-01-01T00:00:00Z' }).state(), { updated_at: '2024-01-01T00:00:00Z' });
    assert.deepEqual(cursor().state(), {});
  });

  test("whenMissing 'sync_start': a record without the field moves the state to the sync start", () => {
    const c = cursor({ state: { updated_at: '2024-03-01T00:00:00Z' }, whenMissing: 'sync_start' });
    c.observe({ updated_at: '2024-04-01T00:00:00Z' });
    c.observe({ id: 1 });
    assert.deepEqual(c.state(), { updated_at: '2024-06-01T12:00:00.000Z' });
  });

  test("whenMissing 'sync_start' still never moves a future state backwards", () => {
    const c = cursor({ state: { updated_at: '2030-01-01T00:00:00Z' }, whenMissing: 'sync_start' });
    c.observe({ id: 1 });
    assert.deepEqual(c.state(), { updated_at: '2030-01-01T00:00:00Z' });
  });

  test("whenMissing 'sync_start' without a missing field does not use the sync start", () => {
    const c = cursor({ whenMissing: 'sync_start' });
    c.observe({ updated_at: '2024-04-01T00:00:00Z' });
    assert.deepEqual(c.state(), { updated_at: '2024-04-01T00:00:00Z' });
  });

  test("whenMissing 'ignore': a record without the field does not move the state", () => {
    const c = cursor({ state: { updated_at: '2024-03-01T00:00:00Z' }, whenMissing: 'ignore' });
    c.observe({ id: 1 });
    c.observe({ updated_at: 'not a date' });
    assert.deepEqual(c.state(), { updated_at: '2024-03-01T00:00:00Z' });
    const empty = cursor({ whenMissing: 'ignore' });
    empty.observe({ id: 2 });
    assert.deepEqual(empty.state(), {});
  });
});

describe('DatetimeCursor on a nested path', () => {
  test('reads and writes its state nested along the path, as the catalog declares the cursor', () => {
    const nested = cursor({ field: ['metadata', 'lastUpdated'], state: { metadata: { lastUpdated: '2024-01-02T00:00:00Z' } } });
    assert.equal(nested.lowerBound?.text, '2024-01-02T00:00:00Z');
    nested.observe({ metadata: { lastUpdated: '2024-01-05T00:00:00Z' } });
    assert.deepEqual(nested.state(), { metadata: { lastUpdated: '2024-01-05T00:00:00Z' } });
    assert.throws(() => cursor({ field: ['metadata', 'lastUpdated'], state: { metadata: { lastUpdated: 7 } } }), {
      message: 'State for stream "leads": "metadata.lastUpdated" must be an ISO 8601 date-time, got 7',
    });
  });
});

describe('DatetimeCursor timestamp renderings', () => {
  test("Mindstamp's documented rendering (Sat, 1 Jan 2022 05:12:32 UTC +00:00) is ordered like ISO 8601", () => {
    const c = cursor({ state: { updated_at: '2022-01-01T05:00:00Z' } });
    const documented = { updated_at: 'Sat, 1 Jan 2022 05:12:32 UTC +00:00' };
    assert.equal(c.isNew(documented), true);
    assert.equal(c.isNew({ updated_at: 'Sat, 1 Jan 2022 04:12:32 UTC +00:00' }), false);
    c.observe(documented);
    assert.deepEqual(c.state(), documented);
  });
});

describe('DatetimeCursor: only dates are dates, and a date without a zone is UTC', () => {
  test('a state that JavaScript would read leniently ("hello 5": 2001) is a ConfigError', () => {
    for (const value of ['hello 5', '5', 'March 7', '2024-13-45T00:00:00Z', '2024-01-01T00:00:00 PST']) {
      assert.throws(() => cursor({ state: { updated_at: value } }), ConfigError, value);
    }
  });

  test('zone-less values are UTC whatever the host, and the state gets the zone', () => {
    const c = cursor({ state: { updated_at: '2024-03-01 00:00:00' } });
    assert.deepEqual(c.lowerBound, { text: '2024-03-01T00:00:00Z', ms: Date.parse('2024-03-01T00:00:00Z') });
    assert.equal(c.isNew({ updated_at: '2024-03-01T05:00:00' }), true);
    assert.equal(c.isNew({ updated_at: '2024-02-29T23:59:59.999' }), false);
    c.observe({ updated_at: '2024-03-01T05:00:00.123456' });
    assert.deepEqual(c.state(), { updated_at: '2024-03-01T05:00:00.123456Z' });
    assert.deepEqual(cursor({ state: { updated_at: '2024-03-01' } }).lowerBound, { text: '2024-03-01T00:00:00Z', ms: Date.parse('2024-03-01T00:00:00Z') });
  });

  test('a leap second (:60) is read as the second before it', () => {
    assert.equal(cursor({ state: { updated_at: '2016-12-31T23:59:60Z' } }).lowerBound?.ms, Date.parse('2016-12-31T23:59:59Z'));
  });
});
