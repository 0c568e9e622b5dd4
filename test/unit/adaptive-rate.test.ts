import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateLimiter } from '../../src/http/rate-limit';

/** Simulated time: each request moves it on by the limiter's current spacing. */
let now = 0;
const clock = () => now;
const adaptiveLimiter = (ceiling: number) => new RateLimiter(ceiling, 60_000, undefined, true, clock);

/**
 * A server that accepts `limit` requests a minute, simulated request by request: the limiter is told
 * of each answer as the HTTP client tells it. Returns the share of requests refused, the final rate,
 * and how long (simulated ms) the pace took to first reach 85–100 % of the limit.
 */
function simulate(limiter: RateLimiter, limit: number, requests: number): { refused: number; refusals: number; rate: number; reachedAfter?: number } {
  const started = now;
  let refusals = 0;
  let reachedAfter: number | undefined;
  for (let i = 0; i < requests; i++) {
    now += 60_000 / limiter.currentRate;
    if (limiter.currentRate > limit) {
      refusals++;
      limiter.throttled();
    } else limiter.accepted();
    if (reachedAfter === undefined && limiter.currentRate >= 0.85 * limit && limiter.currentRate <= limit) reachedAfter = now - started;
  }
  return { refused: refusals / requests, refusals, rate: limiter.currentRate, reachedAfter };
}

describe('adaptive RateLimiter (no published limit)', () => {
  test("from a ceiling twice the server's limit it settles between 85 % and 100 % of the limit, with under 2 % refused", () => {
    const limiter = adaptiveLimiter(1200);
    const { refused, rate } = simulate(limiter, 600, 5000);
    assert.ok(rate >= 0.85 * 600 && rate <= 600, `rate ${rate}`);
    assert.ok(refused < 0.02, `refused ${refused}`);
  });

  test("from a ceiling twice the limit it is within 85 % of the limit after four refusals (each costs the server's Retry-After)", () => {
    const limiter = adaptiveLimiter(1200);
    const { refusals, rate } = simulate(limiter, 600, 1000);
    assert.ok(rate >= 0.85 * 600 && rate <= 600, `rate ${rate}`);
    assert.ok(refusals <= 4, `${refusals} refusals before it settled`);
  });

  test('a limit a twentieth of the ceiling: within 85 % of it after less than 10 s of requests (probes halve the gap)', () => {
    const { reachedAfter } = simulate(adaptiveLimiter(6000), 300, 2000);
    assert.ok(reachedAfter !== undefined && reachedAfter < 10_000, `reached 85 % of the limit after ${reachedAfter} ms`);
  });

  test('a limit far under the ceiling (1/50 of it) is found in under 10 refusals, and kept', () => {
    const limiter = adaptiveLimiter(6000);
    const { refusals, rate } = simulate(limiter, 120, 2000);
    assert.ok(rate >= 0.85 * 120 && rate <= 120, `rate ${rate}`);
    assert.ok(refusals < 10, `${refusals} refusals`);
  });

  test('requests already in flight when the pace slowed do not slow it again', () => {
    const limiter = adaptiveLimiter(1200);
    simulate(limiter, 600, 1000);
    const settled = limiter.currentRate;
    const sentBefore = now;
    now += 50;
    limiter.throttled(now);
    const slowed = limiter.currentRate;
    assert.ok(slowed < settled);
    for (const lag of [10, 20, 30]) {
      now += 1;
      limiter.throttled(sentBefore + lag);
    }
    assert.equal(limiter.currentRate, slowed, 'refusals of requests sent before the slowdown changed the pace');
    now += 100;
    limiter.throttled(now);
    assert.ok(limiter.currentRate < slowed, 'a refusal of a request sent after the slowdown slows it again');
  });

  test('a timer that fires late does not slow the pace: the next request keeps to the schedule', async (t) => {
    const lateMs = 5;
    const realSetTimeout = globalThis.setTimeout;
    t.mock.method(globalThis, 'setTimeout', (callback: () => void, ms: number) => realSetTimeout(callback, ms + lateMs));
    const waits: number[] = [];
    // 600 a minute: 101 ms apart (with the 1 % slack); the real clock, as the HTTP client uses it.
    const limiter = new RateLimiter(600, 60_000, (ms) => waits.push(ms), true);
    for (let i = 0; i < 6; i++) await limiter.acquire();
    assert.equal(waits.length, 5);
    for (const wait of waits.slice(1)) assert.ok(wait <= 101 - lateMs + 1, `waited ${wait} ms after a timer ${lateMs} ms late: the lateness was added to the interval`);
  });

  test('never above its ceiling, and a fixed limiter never adapts', () => {
    const adaptive = adaptiveLimiter(300);
    simulate(adaptive, 10_000, 2000);
    assert.equal(adaptive.currentRate, 300);
    const fixed = new RateLimiter(100);
    fixed.throttled();
    assert.equal(fixed.currentRate, 100);
  });

  test('a server that raises its limit is followed upward again', () => {
    const limiter = adaptiveLimiter(1200);
    simulate(limiter, 300, 3000);
    const { rate } = simulate(limiter, 900, 40_000);
    assert.ok(rate >= 0.85 * 900, `rate ${rate}`);
  });
});

describe('adaptive RateLimiter: slow start and the first refusal', () => {
  test('the pace begins at its start and doubles each second of sending, up to the ceiling, until the first 429', () => {
    now = 0;
    const limiter = new RateLimiter(6000, 60_000, undefined, true, clock, 1200);
    assert.equal(limiter.currentRate, 1200);
    limiter.accepted(now);
    for (const [at, rate] of [
      [500, 1200 * Math.SQRT2],
      [1000, 2400],
      [2000, 4800],
      [3000, 6000],
      [9000, 6000],
    ]) {
      now = at;
      limiter.accepted(now);
      assert.ok(Math.abs(limiter.currentRate - rate) < 1e-6, `at ${at} ms: ${limiter.currentRate}, expected ${rate}`);
    }
    limiter.throttled(now);
    const after = limiter.currentRate;
    now += 5000;
    limiter.accepted(now);
    assert.equal(limiter.currentRate, after, 'no slow start once a 429 came');
  });

  test("slow start never keeps fewer than 2 requests in flight per answer's time: an API that answers in 2 ms is paced from the ceiling at once", () => {
    const answering = (ms: number) => {
      now = 0;
      const limiter = new RateLimiter(6000, 60_000, undefined, true, clock, 1200, () => ms);
      limiter.accepted(0);
      return limiter.currentRate;
    };
    assert.equal(answering(2), 6000);
    // 2 per 150 ms is 800 a minute, under the start pace: the start pace holds.
    assert.equal(answering(150), 1200);
    // 2 per 40 ms: 3,000 a minute.
    assert.equal(answering(40), 3000);
  });

  test('the first 429 sets the pace just under what the server accepted in the second before the refused request', () => {
    now = 0;
    const limiter = new RateLimiter(6000, 60_000, undefined, true, clock, 1200);
    limiter.accepted(0);
    // 25 requests accepted in the last second before the refused one (and 10 more a second before).
    for (let i = 0; i < 10; i++) limiter.accepted(100 + i * 50);
    now = 2000;
    for (let i = 0; i < 25; i++) limiter.accepted(1000 + i * 40);
    limiter.throttled(2000);
    // 25 a second is 1,500 a minute; 5 % under it.
    assert.equal(Math.round(limiter.currentRate), Math.round(0.95 * 1500));
  });

  test('too few answers to tell the budget: the first 429 halves the pace', () => {
    now = 0;
    const limiter = new RateLimiter(6000, 60_000, undefined, true, clock, 1200);
    limiter.accepted(0);
    now = 1000;
    limiter.accepted(900);
    const before = limiter.currentRate;
    limiter.throttled(1000);
    assert.equal(limiter.currentRate, before / 2);
  });
});

describe('adaptive RateLimiter after a burst of refusals (issue 27: a 5-second outage capped the pace for the rest of the sync)', () => {
  test('5 s in which every request is refused, then a server accepting 50 a second again: back at 85 % of it within 30 s', () => {
    const limiter = adaptiveLimiter(4000);
    simulate(limiter, 3000, 6000);
    const before = limiter.currentRate;
    // The burst: every request refused for 5 s, each with Retry-After: 1, which holds every request
    // of the client for a second (RequestPace): the next goes after it, and is refused in its turn.
    const burstEnds = now + 5000;
    while (now < burstEnds) {
      now += 60_000 / limiter.currentRate;
      limiter.throttled(now);
      now += 1000;
    }
    const afterBurst = limiter.currentRate;
    const recoveredBy = now + 30_000;
    while (now < recoveredBy) {
      now += 60_000 / limiter.currentRate;
      if (limiter.currentRate > 3000) limiter.throttled(now);
      else limiter.accepted(now);
    }
    // Back to what it kept before the burst, or to 85 % of the limit, whichever is lower.
    assert.ok(
      limiter.currentRate >= Math.min(before, 0.85 * 3000),
      `${Math.round(limiter.currentRate)}/min 30 s after the burst (${Math.round(afterBurst)}/min at its end, ${Math.round(before)}/min before it)`,
    );
  });
});
