import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inOrder } from '../../src/core/in-order';

async function* numbers(count: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) yield i;
}

describe('inOrder', () => {
  test('results come in the items\' order, with at most `concurrency` at work at once, and failures handed over', async () => {
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
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, n) => [n, n === 7 ? 'seven' : n * 10]));
    assert.equal(most, 4);
  });

  test('a slow head holds back only the writing: the others keep going, up to maxAhead', async () => {
    const started: number[] = [];
    const work = async (n: number) => {
      started.push(n);
      await new Promise((resolve) => setTimeout(resolve, n === 0 ? 100 : 1));
      return n;
    };
    const order: number[] = [];
    for await (const [n] of inOrder(numbers(30), 2, work, 10)) {
      if (n === 0) assert.deepEqual(started.length, 10, 'ten started while the first was slow');
      order.push(n);
    }
    assert.deepEqual(order, Array.from({ length: 30 }, (_, n) => n));
  });
});
