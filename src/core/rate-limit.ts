export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Proactive limiter: requests evenly spaced, a little more than `windowMs / limit` apart. Evenly
 * spaced requests stay within `limit` per window however the server counts (a sliding window, or
 * fixed windows starting anywhere), so a key used only by this sync provokes no 429, and the limit
 * scales: 120 a minute is also 2 a second. Requests reach the server with a few milliseconds of
 * jitter, so exact spacing could put limit + 1 of them in one window; the 1 % slack absorbs that at
 * 99 % of the allowed rate. `pauseUntil` lets the client honour a server that says its budget is spent.
 */
/** Extra spacing, as a share of the interval (see RateLimiter). */
const SLACK = 0.01;

export class RateLimiter {
  private readonly intervalMs: number;
  private nextAt = 0;
  private pausedUntil = 0;

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    /** Told of each wait, and whether the server asked for it (pauseUntil) rather than the pacing. */
    private readonly onWait: (ms: number, serverPaused: boolean) => void = () => undefined,
  ) {
    if (!(limit > 0)) throw new RangeError(`rate limit must be positive, got ${limit}`);
    this.intervalMs = (windowMs / limit) * (1 + SLACK);
  }

  /** Resolves when the next request may go; true if it waited for a pause the server asked for. */
  async acquire(): Promise<boolean> {
    let paused = false;
    for (;;) {
      const now = Date.now();
      const readyAt = Math.max(this.nextAt, this.pausedUntil);
      if (readyAt <= now) {
        this.nextAt = now + this.intervalMs;
        return paused;
      }
      const serverPaused = this.pausedUntil > this.nextAt;
      paused ||= serverPaused;
      this.onWait(readyAt - now, serverPaused);
      await sleep(readyAt - now);
    }
  }

  pauseUntil(epochMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, epochMs);
  }
}
