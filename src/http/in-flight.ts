// How many requests an API's client keeps in flight. At a pace of r requests a second and answers that
// take L seconds, r × L requests are in flight at once (Little's law): a fixed number is too few at
// real latencies (4 in flight at 300 ms is 13 requests a second, whatever the API allows) and more than
// the pace needs at loopback. So the window follows the pace times the latency measured, with some
// headroom for answers slower than the average, within a cap. Every stream of an API sends through its
// client, so the window bounds them all together, first come first served, but for requests sent in
// bulk (pages read ahead, a request per parent): those let a lone request go first, as a stream that
// reads a page at a time waits on each of its pages and would otherwise wait behind the whole bulk.

/** Answers vary around the mean: a window of exactly pace × latency would leave the pace short. */
const HEADROOM = 1.25;
/** Weight of the newest answer in the mean latency (an exponential moving average). */
const LATENCY_WEIGHT = 0.2;

export class InFlightWindow {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly waitingInBulk: (() => void)[] = [];
  private latencyMs: number | undefined;

  constructor(
    /** The most requests in flight, whatever the pace (max_requests_in_flight). */
    readonly cap: number,
    /** Requests a second the client paces for now; undefined: not paced (the cap alone bounds it). */
    private readonly pace: () => number | undefined,
  ) {
    if (!(cap >= 1)) throw new RangeError(`the cap on requests in flight must be at least 1, got ${cap}`);
  }

  /** Requests allowed in flight now. */
  get size(): number {
    const perSecond = this.pace();
    if (perSecond === undefined) return this.cap;
    // Until an answer has shown the latency, one request finds it out.
    if (this.latencyMs === undefined) return 1;
    const byPace = Math.ceil(((perSecond * this.latencyMs) / 1000) * HEADROOM) + 1;
    return Math.max(1, Math.min(this.cap, byPace));
  }

  /** The mean time an answer takes, in ms (undefined before the first). */
  get meanLatencyMs(): number | undefined {
    return this.latencyMs;
  }

  /**
   * Resolves when the request may go; each call that resolves must be followed by one release(). A
   * request given up while it waits (`signal`) leaves the queue and rejects with the signal's reason.
   */
  async acquire(signal?: AbortSignal, bulk = false): Promise<void> {
    signal?.throwIfAborted();
    if (bulk ? this.waiting.length + this.waitingInBulk.length === 0 && this.inFlight < this.size : this.waiting.length === 0 && this.inFlight < this.sizeForLone) {
      this.inFlight++;
      return;
    }
    // The slot is counted by admit() when it is handed over.
    await new Promise<void>((resolve, reject) => {
      const entry = () => {
        signal?.removeEventListener('abort', giveUp);
        resolve();
      };
      const queue = bulk ? this.waitingInBulk : this.waiting;
      const giveUp = () => {
        queue.splice(queue.indexOf(entry), 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', giveUp, { once: true });
      queue.push(entry);
    });
  }

  /**
   * A request is done with its slot: `latencyMs` is how long its answer took (undefined when none
   * came: a network error).
   */
  release(latencyMs: number | undefined): void {
    this.inFlight--;
    if (latencyMs !== undefined) this.latencyMs = this.latencyMs === undefined ? latencyMs : this.latencyMs + LATENCY_WEIGHT * (latencyMs - this.latencyMs);
    this.admit();
  }

  /**
   * A window full of bulk requests keeps one slot more, within the cap, for a request sent alone:
   * a list that names each next page waits on every one, and would otherwise wait for an answer to
   * free a slot at each page. The pace, not the window, keeps the rate. (Not before the latency is
   * known: one request finds it out.)
   */
  private get sizeForLone(): number {
    return this.latencyMs === undefined ? this.size : Math.min(this.cap, this.size + 1);
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.inFlight < this.sizeForLone) {
      this.inFlight++;
      this.waiting.shift()!();
    }
    while (this.waiting.length === 0 && this.waitingInBulk.length > 0 && this.inFlight < this.size) {
      this.inFlight++;
      this.waitingInBulk.shift()!();
    }
  }
}
