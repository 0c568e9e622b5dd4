import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followAnnouncement } from '../../src/http/announced-limit';
import { RateLimiter } from '../../src/http/rate-limit';

/** Whether any half-open window [t, t + windowMs) holds more than `limit` of the sorted times. */
const busiestWindow = (times: number[], windowMs: number): number => {
  let most = 0;
  for (let i = 0; i < times.length; i++) {
    let count = 0;
    for (let j = i; j < times.length && times[j] < times[i] + windowMs; j++) count++;
    most = Math.max(most, count);
  }
  return most;
};

/**
 * Runs `count` acquisitions and returns the instants the limiter itself granted them. The limiter
 * reads Date.now() and then, synchronously, either grants (records the instant) or reports a wait
 * through onWait; so every Date.now() reading not followed by onWait is a grant. (Reading the clock
 * after acquire() resolves could already be a millisecond later.)
 */
async function grantTimes(limit: number, windowMs: number, count: number, concurrent: boolean): Promise<{ times: number[]; elapsed: number }> {
  const realNow = Date.now;
  const readings: number[] = [];
  const limiter = new RateLimiter(limit, windowMs, () => void readings.pop());
  const started = realNow();
  Date.now = () => {
    const value = realNow.call(Date);
    readings.push(value);
    return value;
  };
  try {
    if (concurrent) await Promise.all(Array.from({ length: count }, () => limiter.acquire()));
    else for (let i = 0; i < count; i++) await limiter.acquire();
  } finally {
    Date.now = realNow;
  }
  return { times: readings.sort((a, b) => a - b), elapsed: realNow() - started };
}

describe('RateLimiter', () => {
  for (const concurrent of [false, true]) {
    test(`5 per 200 ms: 15 ${concurrent ? 'concurrent' : 'sequential'} acquires are 40 ms (+1 % slack) apart, never more than 5 in any 200 ms window`, async () => {
      const { times, elapsed } = await grantTimes(5, 200, 15, concurrent);
      assert.equal(times.length, 15);
      assert.ok(elapsed >= 14 * 40.4, `15 acquisitions took only ${elapsed} ms`);
      for (let i = 1; i < 15; i++) assert.ok(times[i] - times[i - 1] >= 40.4, `grants ${i - 1} and ${i} are ${times[i] - times[i - 1]} ms apart`);
      assert.ok(busiestWindow(times, 200) <= 5);
      // Nor in a scaled window: 1 per 40 ms.
      assert.equal(busiestWindow(times, 40), 1);
    });
  }

  test('the first acquisition does not wait, the next one reports its wait', async () => {
    const waits: number[] = [];
    const limiter = new RateLimiter(3, 150, (ms) => waits.push(ms));
    await limiter.acquire();
    assert.deepEqual(waits, []);
    await limiter.acquire();
    assert.ok(waits.length >= 1);
    assert.ok(waits[0] > 0 && waits[0] <= 50 * 1.01, `reported wait ${waits[0]} ms, more than one interval (150 ms ÷ 3, +1 % slack)`);
  });

  test('a lone request takes the next turn before requests sent in bulk that waited longer', async () => {
    const limiter = new RateLimiter(20, 1000);
    const order: string[] = [];
    const take = (name: string, bulk: boolean) => limiter.acquire(bulk).then(() => order.push(name));
    const waits = [take('bulk 1', true), take('bulk 2', true), take('bulk 3', true), take('bulk 4', true)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    waits.push(take('lone', false));
    await Promise.all(waits);
    // The first bulk request found the pace free; the lone one takes the next turn. The limiter keeps
    // no order among requests sent in bulk (each waits on its own timer): they all go after it.
    assert.deepEqual(order.slice(0, 2), ['bulk 1', 'lone']);
    assert.deepEqual(order.slice(2).sort(), ['bulk 2', 'bulk 3', 'bulk 4']);
  });

  test('pauseUntil holds every acquisition until that time, and never shortens a pause', async () => {
    const limiter = new RateLimiter(100, 1000);
    const until = Date.now() + 250;
    limiter.pauseUntil(until);
    limiter.pauseUntil(until - 200);
    await limiter.acquire();
    assert.ok(Date.now() >= until, 'acquired before the pause ended');
  });

  test('a limit that is not positive is a RangeError', () => {
    assert.throws(() => new RateLimiter(0), { name: 'RangeError', message: 'rate limit must be positive, got 0' });
    assert.throws(() => new RateLimiter(Number.NaN), { name: 'RangeError', message: 'rate limit must be positive, got NaN' });
  });

  test("an announced limit replaces the documented one, up or down, within the user's cap", () => {
    const documented = new RateLimiter(100);
    assert.equal(documented.announce(500), true);
    assert.equal(documented.currentRate, 500);
    assert.equal(documented.announce(500), false, 'the same announcement again changes nothing');
    assert.equal(documented.announce(60), true);
    assert.equal(documented.currentRate, 60);
    const capped = new RateLimiter(300);
    capped.announce(500, 300);
    assert.equal(capped.currentRate, 300);
    const adaptive = new RateLimiter(600, 60_000, undefined, true);
    adaptive.announce(200);
    assert.equal(adaptive.currentRate, 200, 'an adaptive pace never goes above the announced limit');
  });

  test('a 429 while above the documented limit on an announcement: back to the documented limit, later announcements ignored', () => {
    const limiter = new RateLimiter(100);
    limiter.announce(500);
    limiter.throttled();
    assert.equal(limiter.currentRate, 100);
    assert.equal(limiter.announce(400), false);
    assert.equal(limiter.currentRate, 100);
    const unannounced = new RateLimiter(100);
    unannounced.throttled();
    assert.equal(unannounced.currentRate, 100, 'a fixed limit stays as it is (the retry waits for the reset)');
  });

  test('a server announcing another limit at every answer gets five LOG lines and a last one, not one per answer', () => {
    const limiter = new RateLimiter(100);
    const lines = Array.from({ length: 40 }, (_, i) => followAnnouncement(limiter, i % 2 === 0 ? 500 : 499)).filter(Boolean);
    assert.deepEqual(lines, [
      ...[500, 499, 500, 499, 500].map((n) => `announces ${n} requests/minute for this key; pacing at ${n}`),
      'changed the limit it announces 5 times; the pace keeps following it, without further LOGs',
    ]);
    assert.equal(limiter.currentRate, 499, 'the last announcement is followed');
  });
});
