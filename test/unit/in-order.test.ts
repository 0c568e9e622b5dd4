import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inOrder } from '../../src/streams/in-order';

async function* numbers(count: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) yield i;
}

describe('inOrder', () => {
  test("results come in the items' order, with at most `concurrency` at work at once, and failures handed over", async () => {
    let working = 0;
    let most = 0;
    const work = async (n: number) => {
      working++;
      most = Math.max(most, working);
      // Later items finish first: the order must still be the items'.
      await new Promise((resolve) => setTimeout(resolve, (20 - n) * 2));
      working--;
      if (n === 7) throw new Error('seven');
      return n * 10;
    };
    const seen: [number, unknown][] = [];
    for await (const [n, result] of inOrder(numbers(20), 4, work)) seen.push([n, result.ok ? result.value : (result.error as Error).message]);
    assert.deepEqual(
      seen,
      Array.from({ length: 20 }, (_, n) => [n, n === 7 ? 'seven' : n * 10]),
    );
    assert.equal(most, 4);
  });

  test('a slow head holds back only the writing: the others keep going, up to 16 per request in flight', async () => {
    const started: number[] = [];
    const work = async (n: number) => {
      started.push(n);
      await new Promise((resolve) => setTimeout(resolve, n === 0 ? 100 : 1));
      return n;
    };
    const order: number[] = [];
    for await (const [n] of inOrder(numbers(50), 2, work)) {
      if (n === 0) assert.deepEqual(started.length, 32, '32 started while the first was slow');
      order.push(n);
    }
    assert.deepEqual(
      order,
      Array.from({ length: 50 }, (_, n) => n),
    );
  });

  test('a concurrency given as a function is asked again before each start (a client whose window opens)', async () => {
    let inFlight = 0;
    const most: number[] = [];
    let allowed = 1;
    const work = async (n: number) => {
      most[n] = ++inFlight;
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return n;
    };
    const order: number[] = [];
    for await (const [n] of inOrder(numbers(40), () => allowed, work)) {
      order.push(n);
      if (n === 9) allowed = 5;
    }
    assert.deepEqual(
      order,
      Array.from({ length: 40 }, (_, n) => n),
    );
    assert.equal(Math.max(...most.slice(0, 10)), 1, 'one at a time while 1 was allowed');
    assert.equal(Math.max(...most), 5, 'five at once once 5 were allowed');
  });
});
