// Requests in flight where a stream fans out (one request per parent), with results in the parents'
// order: the output stays as deterministic as a sequential read, and the rate limiter, not the
// latency of each answer, sets the pace. A slow answer (a retry waiting out a 429) holds back only
// the writing of what follows it, not the requests: up to AHEAD answers per request in flight wait
// for their turn.

/** Results kept waiting for the slow one before them, per request in flight. */
const AHEAD = 16;

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Starts `work` for each item, up to `concurrency` at once (asked again before each start: an HTTP
 * client's parallelism follows its pace and latency), and yields each item with its settled result
 * in the items' order, at most `AHEAD` times the concurrency ahead of the one written. A failure is
 * handed over, never thrown here (nothing is left unhandled if the reader stops early).
 */
export async function* inOrder<T, R>(items: AsyncIterable<T>, concurrency: number | (() => number), work: (item: T) => Promise<R>): AsyncGenerator<[T, Settled<R>]> {
  const allowed = typeof concurrency === 'number' ? () => concurrency : concurrency;
  const source = items[Symbol.asyncIterator]();
  const queue: { item: T; result?: Settled<R> }[] = [];
  let running = 0;
  let exhausted = false;
  let wake: (() => void) | undefined;
  for (;;) {
    while (!exhausted && running < Math.max(1, allowed()) && queue.length < AHEAD * Math.max(1, allowed())) {
      const next = await source.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const entry: { item: T; result?: Settled<R> } = { item: next.value };
      queue.push(entry);
      running++;
      void work(next.value)
        .then(
          (value): Settled<R> => ({ ok: true, value }),
          (error: unknown): Settled<R> => ({ ok: false, error }),
        )
        .then((result) => {
          entry.result = result;
          running--;
          wake?.();
        });
    }
    const head = queue[0];
    if (!head) return;
    if (head.result) {
      queue.shift();
      yield [head.item, head.result];
      continue;
    }
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
}
