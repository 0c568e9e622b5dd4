export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Proactive limiter: at most `limit` requests in any sliding `windowMs`. A sliding window never
 * exceeds a server's fixed-window count either, so a key used only by this sync provokes no 429.
 * `pauseUntil` lets the client honour a server that says its budget is spent (remaining = 0).
 */
export class RateLimiter {
  private readonly sentAt: number[] = [];
  private pausedUntil = 0;

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly onWait: (ms: number) => void = () => undefined,
  ) {
    if (!(limit > 0)) throw new RangeError(`rate limit must be positive, got ${limit}`);
  }

  async acquire(): Promise<void> {
    for (;;) {
      const now = Date.now();
      while (this.sentAt.length > 0 && this.sentAt[0] <= now - this.windowMs) this.sentAt.shift();
      let readyAt = this.pausedUntil;
      if (this.sentAt.length >= this.limit) readyAt = Math.max(readyAt, this.sentAt[0] + this.windowMs);
      if (readyAt <= now) {
        this.sentAt.push(now);
        return;
      }
      this.onWait(readyAt - now);
      await sleep(readyAt - now);
    }
  }

  pauseUntil(epochMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, epochMs);
  }
}
