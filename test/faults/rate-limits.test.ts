// The mocks enforce the documented limits on a shorter time scale (the connector's limiter spaces
// requests evenly, so 300 a minute is 150 per 30 s): no 429 may be provoked, and the sync must use at
// least 95 % of what is allowed. PersistIQ's X-RateLimit-Reset is in whole seconds, and the connector
// waits for it when X-RateLimit-Remaining reaches 0: up to 1 s lost per window to that rounding, so
// the window must be long enough (here 30 s) for the rounding to stay well under 5 %.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catalogFor, logsOf, recordsOf, runConnector } from '../helpers/connector';
import { legacyEvents, losslessMessages, recordsIn } from '../helpers/fullstory';
import { FullstoryMock } from '../mocks/fullstory';
import { PersistIqMock, type PersistIqOptions } from '../mocks/persistiq';

/** Requests per second from the n-th request on, as the mock received them. */
const rateFrom = (mock: PersistIqMock, first: number): number => {
  const times = mock.requests.slice(first).map((r) => r.at);
  return (times.length - 1) / ((times.at(-1)! - times[0]) / 1000);
};

/**
 * Requests per second from the median gap between two requests: the pace the connector keeps, which
 * a busy machine's late timers lower only where they strike (each late by a few ms at 25 a second is
 * several % of the mean rate, which bench case 11 measures on a quiet machine).
 */
const paceFrom = (mock: PersistIqMock, first: number): number => 1000 / medianGap(gapsBetween(mock.requests.slice(first).map((r) => r.at)));

/** Milliseconds between consecutive arrivals. */
const gapsBetween = (times: number[]): number[] => times.slice(1).map((at, i) => at - times[i]);
const medianGap = (gaps: number[]): number => gaps.slice().sort((a, b) => a - b)[Math.floor(gaps.length / 2)];

/** Reads PersistIQ leads from a mock with these options and `requests_per_minute`; the mock is closed, its request log kept. */
async function readLeads(options: PersistIqOptions, requestsPerMinute: number | undefined, timeoutMs = 60_000) {
  const mock = await new PersistIqMock(options).start();
  try {
    const result = await runConnector('read', {
      config: mock.connectorConfig({ requests_per_minute: requestsPerMinute }),
      catalog: catalogFor({ leads: 'full_refresh' }),
      timeoutMs,
    });
    return { mock, result };
  } finally {
    await mock.close();
  }
}

test('PersistIQ: 150 requests per 30-second window, 200 pages of leads: no 429, >= 95 % of the allowed rate', async () => {
  const { mock, result } = await readLeads({ rateLimit: { limit: 150, windowMs: 30_000 }, counts: { leads: 20_000 } }, 300, 120_000);
  assert.equal(result.code, 0);
  assert.equal(recordsOf(result.messages, 'leads').length, 20_000);
  assert.equal(mock.rateLimited, 0, 'no 429 provoked');
  const rate = rateFrom(mock, 0);
  console.log(`rate-limit persistiq: ${mock.requests.length} requests at ${rate.toFixed(1)}/s of 5/s allowed, ${mock.rateLimited} answered 429`);
  assert.ok(rate >= 0.95 * 5 && rate <= 5.05, `achieved ${rate.toFixed(1)} requests/s`);
});

describe("PersistIQ: the key's limit as X-RateLimit-Limit announces it", () => {
  test('requests_per_minute left empty: the announced 1,500/min (50 per 2 s) is followed from the first answer on, with no 429', async () => {
    const { mock, result } = await readLeads({ rateLimit: { limit: 50, windowMs: 2000 }, counts: { leads: 6_000 } }, undefined);
    assert.equal(result.code, 0);
    assert.equal(recordsOf(result.messages, 'leads').length, 6_000);
    assert.equal(mock.rateLimited, 0, 'no 429 provoked');
    assert.ok(logsOf(result.messages).includes('PersistIQ announces 1500 requests/minute for this key; pacing at 1500'));
    // The documented 100/min would space the 60 requests 0.6 s apart (36 s in all); the announced
    // 1,500 puts them 40.4 ms apart, never closer on average.
    const pace = paceFrom(mock, 1);
    const rate = rateFrom(mock, 1);
    assert.ok(pace >= 0.9 * 25 && rate <= 25.25, `paced at ${pace.toFixed(1)} requests/s (mean ${rate.toFixed(1)}) of 25/s announced`);
  });

  test('an announcement below the documented 100/min: the documented limit is the floor', async () => {
    // Ten requests: one arrival delayed on a busy machine moves the mean of nine gaps by a ninth of it.
    const { mock, result } = await readLeads({ rateLimit: { limit: 100, windowMs: 60_000, announce: 30 }, counts: { leads: 1000 } }, undefined);
    assert.equal(result.code, 0);
    assert.equal(recordsOf(result.messages, 'leads').length, 1000);
    assert.ok(logsOf(result.messages).includes('PersistIQ announces 30 requests/minute for this key; pacing at 100 (the documented 100 is the floor)'));
    // 0.6 s apart as sent; a busy machine delays an arrival now and then, which shortens the next gap.
    const gaps = gapsBetween(mock.requests.map((r) => r.at));
    const median = medianGap(gaps);
    const mean = (mock.requests.at(-1)!.at - mock.requests[0].at) / gaps.length;
    assert.ok(median >= 590 && median < 750 && mean >= 590 && mean < 750 && gaps.every((gap) => gap > 300), `requests ${gaps.join(', ')} ms apart, not 0.6 s`);
  });

  test('requests_per_minute set below the announced limit stays the cap', async () => {
    const { mock, result } = await readLeads({ rateLimit: { limit: 50, windowMs: 2000 }, counts: { leads: 3_000 } }, 600);
    assert.equal(result.code, 0);
    assert.ok(logsOf(result.messages).includes('PersistIQ announces 1500 requests/minute for this key; pacing at 600 (capped by requests_per_minute 600)'));
    const rate = rateFrom(mock, 0);
    assert.ok(rate >= 0.95 * 10 && rate <= 10.1, `achieved ${rate.toFixed(1)} requests/s under a cap of 10/s`);
  });

  test('an announcement above what is enforced: one 429, then the documented 100/min for the rest of the sync', async () => {
    const { mock, result } = await readLeads({ rateLimit: { limit: 5, windowMs: 1000, announce: 6000 }, counts: { leads: 1_000 } }, undefined);
    assert.equal(result.code, 0);
    assert.equal(recordsOf(result.messages, 'leads').length, 1_000);
    assert.equal(mock.rateLimited, 1, 'one 429, then no more');
    assert.ok(logsOf(result.messages).includes('PersistIQ refused a request at 6000 requests/minute (HTTP 429); pacing at 100 from now on'));
    // Requests 0 to 4 fill the first window, 5 is refused, 6 is its retry after the reset; from
    // there on the pace is 100/min.
    assert.equal(mock.requests.length, 11, '10 pages and one retry');
    // 606 ms apart as sent (a busy machine may delay one arrival, shortening the gap after it).
    const gaps = gapsBetween(mock.requests.slice(6).map((r) => r.at));
    const median = medianGap(gaps);
    assert.ok(median >= 600 && gaps.every((gap) => gap > 300), `requests after the 429 are ${gaps.join(', ')} ms apart`);
  });
});

describe('Fullstory legacy download limit (2 per minute, scaled to 2 per second)', () => {
  test('bundle downloads provoke no 429 and use at least 95 % of the allowed rate', async () => {
    const mock = await new FullstoryMock({ bundles: 7, eventsPerBundle: 5, downloadLimit: { limit: 2, windowMs: 1000 } }).start();
    try {
      const result = await runConnector('read', {
        config: mock.connectorConfig({ start_date: undefined, legacy_downloads_per_minute: 120 }),
        catalog: catalogFor({ events: 'full_refresh' }),
      });
      assert.equal(result.code, 0);
      assert.deepEqual(recordsIn(losslessMessages(result.stdout), 'events'), legacyEvents(mock));
      assert.equal(mock.rateLimited, 0, 'no 429 provoked');
      const downloads = mock.requests.filter((r) => r.path === '/api/v1/export/get').map((r) => r.at);
      const rate = (downloads.length - 1) / ((downloads.at(-1)! - downloads[0]) / 1000);
      assert.ok(rate >= 0.95 * 2 && rate <= 2.05, `achieved ${rate.toFixed(2)} downloads/s of 2 allowed`);
    } finally {
      await mock.close();
    }
  });
});
