// What a client sent and what the server accepted, lately: the rate actually sent (a stream that waits
// for each answer sends slower than its pace allows), and the budget a server that counts per second
// accepted before it refused a request.

/**
 * The first 429 ends a budget the server counts per second (the common case where none is published):
 * the requests it accepted in the second before the refused one was sent are that budget, or more
 * (a window that began within that second, a burst allowance), never less. Kept for this long.
 */
const BUDGET_MS = 1000;
/** How far back the rate actually sent is measured. */
const RECENT_MS = 2000;
const RECENT_SENDS = 20;
/** Fewer sends than this tell no rate. */
const MIN_SENDS = 5;
const KEPT_SENDS = 256;

export class SendHistory {
  /** When the last requests went out. */
  private readonly sentAt: number[] = [];
  /** When the requests the server accepted in the last BUDGET_MS were sent. */
  private acceptedSends: number[] = [];

  sent(at: number): void {
    this.sentAt.push(at);
    if (this.sentAt.length > KEPT_SENDS) this.sentAt.splice(0, this.sentAt.length - KEPT_SENDS);
  }

  /** The server accepted a request sent at `sentAt`; `now` is when its answer came. */
  accepted(sentAt: number, now: number): void {
    if (this.acceptedSends.length > 0 && now - this.acceptedSends[0] > 2 * BUDGET_MS) this.acceptedSends = this.acceptedSends.filter((at) => now - at <= BUDGET_MS);
    this.acceptedSends.push(sentAt);
  }

  /** Requests per window the server accepted of those sent in the BUDGET_MS before `sentAt` (undefined: too few to tell). */
  budgetBefore(sentAt: number, windowMs: number): number | undefined {
    const count = this.acceptedSends.filter((at) => at < sentAt && at >= sentAt - BUDGET_MS).length;
    return count >= MIN_SENDS ? (count * windowMs) / BUDGET_MS : undefined;
  }

  /**
   * Requests per window actually sent, from the spacing of the last RECENT_SENDS (within RECENT_MS):
   * few enough that a wait on an earlier 429 does not count as slowness. Sends before `pausedUntil`,
   * the end of the last pause the server asked for, would count its wait as slowness.
   */
  recentRate(now: number, pausedUntil: number, windowMs: number): number | undefined {
    const recent = this.sentAt.filter((at) => now - at <= RECENT_MS && at >= pausedUntil).slice(-RECENT_SENDS);
    if (recent.length < MIN_SENDS) return undefined;
    const span = recent[recent.length - 1] - recent[0];
    return span > 0 ? ((recent.length - 1) / span) * windowMs : undefined;
  }
}
