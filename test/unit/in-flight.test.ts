import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InFlightWindow } from '../../src/http/in-flight';

/** Acquires a slot without waiting for it: resolves `taken` once granted. */
function ask(window: InFlightWindow, granted: string[], name: string): Promise<void> {
  return window.acquire().then(() => void granted.push(name));
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('InFlightWindow', () => {
  test('one request until an answer has shown the latency; then the pace times the latency, with headroom, within the cap', () => {
    let perSecond = 20;
    const window = new InFlightWindow(32, () => perSecond);
    assert.equal(window.size, 1);
    void window.acquire();
    window.release(150);
    // 20 a second × 0.15 s = 3 in flight; × 1.25 headroom, rounded up, + 1.
    assert.equal(window.size, 5);
    perSecond = 60;
    assert.equal(window.size, 13);
    // Latency is a moving average: one slow answer moves it a fifth of the way.
    void window.acquire();
    window.release(650);
    assert.equal(window.meanLatencyMs, 250);
    assert.equal(window.size, 20);
    perSecond = 1000;
    assert.equal(window.size, 32, 'the cap bounds it');
    assert.equal(new InFlightWindow(8, () => undefined).size, 8, 'an unpaced client: the cap alone');
  });

  test('requests beyond the window wait, first come first served, and go as answers free their slots', async () => {
    const window = new InFlightWindow(2, () => undefined);
    const granted: string[] = [];
    const all = ['a', 'b', 'c', 'd', 'e'].map((name) => ask(window, granted, name));
    await settle();
    assert.deepEqual(granted, ['a', 'b']);
    window.release(10);
    await settle();
    assert.deepEqual(granted, ['a', 'b', 'c']);
    window.release(10);
    window.release(10);
    await settle();
    assert.deepEqual(granted, ['a', 'b', 'c', 'd', 'e']);
    await Promise.all(all);
  });

  test('a window that grows (the pace rose) lets the waiting requests go at the next answer', async () => {
    let perSecond = 10;
    const window = new InFlightWindow(32, () => perSecond);
    const granted: string[] = [];
    void ask(window, granted, 'first');
    await settle();
    const waiting = ['a', 'b', 'c', 'd'].map((name) => ask(window, granted, name));
    await settle();
    assert.deepEqual(granted, ['first'], 'one until the latency is known');
    perSecond = 40;
    // 40 a second × 0.1 s × 1.25 = 5, + 1: room for all.
    window.release(100);
    await settle();
    assert.deepEqual(granted, ['first', 'a', 'b', 'c', 'd']);
    await Promise.all(waiting);
  });

  test('a request sent alone goes before the requests waiting in bulk; a request given up leaves the queue', async () => {
    const window = new InFlightWindow(1, () => undefined);
    const granted: string[] = [];
    void ask(window, granted, 'first');
    const bulk = ['ahead 1', 'ahead 2'].map((name) => window.acquire(undefined, true).then(() => void granted.push(name)));
    const givenUp = new AbortController();
    const abandoned = window.acquire(givenUp.signal, true);
    const alone = ask(window, granted, 'next page');
    givenUp.abort(new Error('dropped'));
    await assert.rejects(abandoned, /dropped/);
    for (let i = 0; i < 3; i++) {
      window.release(10);
      await settle();
    }
    assert.deepEqual(granted, ['first', 'next page', 'ahead 1', 'ahead 2']);
    await Promise.all([alone, ...bulk]);
  });

  test('a window full of requests sent in bulk keeps one more slot, within the cap, for a request sent alone', async () => {
    // 4 a second × 0.1 s × 1.25, rounded up, + 1: two in flight.
    const window = new InFlightWindow(3, () => 4);
    void window.acquire();
    window.release(100);
    assert.equal(window.size, 2);
    const granted: string[] = [];
    const bulk = ['ahead 1', 'ahead 2', 'ahead 3'].map((name) => window.acquire(undefined, true).then(() => void granted.push(name)));
    await settle();
    const alone = ['next page', 'another stream'].map((name) => ask(window, granted, name));
    await settle();
    assert.deepEqual(granted, ['ahead 1', 'ahead 2', 'next page'], 'the window, and one slot more for the lone request');
    window.release(100);
    await settle();
    assert.deepEqual(granted, ['ahead 1', 'ahead 2', 'next page', 'another stream'], 'a freed slot goes to the lone request waiting');
    for (let i = 0; i < 2; i++) {
      window.release(100);
      await settle();
    }
    assert.deepEqual(granted, ['ahead 1', 'ahead 2', 'next page', 'another stream', 'ahead 3'], 'bulk requests only within the window');
    const capped = new InFlightWindow(1, () => undefined);
    void capped.acquire(undefined, true);
    let lone = false;
    void capped.acquire().then(() => (lone = true));
    await settle();
    assert.equal(lone, false, 'never beyond max_requests_in_flight');
    await Promise.all([...bulk, ...alone]);
  });

  test('a cap below 1 is refused', () => {
    assert.throws(() => new InFlightWindow(0, () => 1), RangeError);
  });
});
