// The mocks enforce the documented limits on a shorter time scale (the connector's limiter spaces
// requests evenly, so 300 a minute is 150 per 30 s): no 429 may be provoked, and the sync must use at
// least 95 % of what is allowed. PersistIQ's X-RateLimit-Reset is in whole seconds, and the connector
// waits for it when X-RateLimit-Remaining reaches 0: up to 1 s lost per window to that rounding, so
// the window must be long enough (here 30 s) for the rounding to stay well under 5 %.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catalogFor, recordsOf, runConnector } from '../helpers/connector';
import { legacyEvents, losslessMessages, recordsIn } from '../helpers/fullstory';
import { FullstoryMock } from '../mocks/fullstory';
import { PersistIqMock } from '../mocks/persistiq';

test('PersistIQ: 150 requests per 30-second window, 200 pages of leads: no 429, >= 95 % of the allowed rate', async () => {
  const mock = await new PersistIqMock({ rateLimit: { limit: 150, windowMs: 30_000 }, counts: { leads: 20_000 } }).start();
  try {
    const result = await runConnector('read', { config: mock.connectorConfig({ requests_per_minute: 300 }), catalog: catalogFor({ leads: 'full_refresh' }), timeoutMs: 120_000 });
    assert.equal(result.code, 0);
    assert.equal(recordsOf(result.messages, 'leads').length, 20_000);
    assert.equal(mock.rateLimited, 0, 'no 429 provoked');
    const times = mock.requests.map((r) => r.at);
    const rate = (times.length - 1) / ((times.at(-1)! - times[0]) / 1000);
    console.log(`rate-limit persistiq: ${times.length} requests at ${rate.toFixed(1)}/s of 5/s allowed, ${mock.rateLimited} answered 429`);
    assert.ok(rate >= 0.95 * 5 && rate <= 5.05, `achieved ${rate.toFixed(1)} requests/s`);
  } finally {
    await mock.close();
  }
});

describe('Fullstory legacy download limit (2 per minute, scaled to 2 per second)', () => {
  test('bundle downloads provoke no 429 and use at least 95 % of the allowed rate', async () => {
    const mock = await new FullstoryMock({ bundles: 7, eventsPerBundle: 5, downloadLimit: { limit: 2, windowMs: 1000 } }).start();
    try {
      const result = await runConnector('read', { config: mock.connectorConfig({ start_date: undefined, legacy_downloads_per_minute: 120 }), catalog: catalogFor({ events: 'full_refresh' }) });
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
