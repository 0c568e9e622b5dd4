// The API's clock, read from the Date header of its answers. When the connector's clock runs ahead
// of the API's, a state taken from the connector's "now" would be in the API's future: a record
// changed between that instant (API time) and the next sync would fall before the next lower bound
// and be lost. So "now", wherever it becomes a state or a query bound, is the API's now when the two
// differ by more than the header's one-second resolution, and never later than the connector's own.

/** Below this, a difference is the Date header's rounding and the network, not two clocks. */
const RESOLUTION_MS = 1500;

export class ApiClock {
  /** API time minus local time, from the latest Date header; 0 until one differs by more than RESOLUTION_MS. */
  private offsetMs = 0;
  private observed = false;

  /** A Date header, as received at local time `receivedAt`. */
  observe(dateHeader: unknown, receivedAt = Date.now()): void {
    if (typeof dateHeader !== 'string') return;
    const apiTime = Date.parse(dateHeader);
    if (!Number.isFinite(apiTime)) return;
    this.observed = true;
    const offset = apiTime - receivedAt;
    this.offsetMs = offset < -RESOLUTION_MS ? offset : 0;
  }

  /** Whether an answer has told the API's time yet. */
  get known(): boolean {
    return this.observed;
  }

  /** A local instant on the API's clock: earlier when the API's clock is behind, never later. */
  toApi(localMs: number): number {
    return localMs + this.offsetMs;
  }

  now(): number {
    return this.toApi(Date.now());
  }
}
