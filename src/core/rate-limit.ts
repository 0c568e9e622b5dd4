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
/** Adaptive pacing: how often it probes upward, how often it trusts an old refusal less, its floor. */
const PROBE_EVERY = 25;
/**
 * How far under the lowest rate refused the pace settles. A probe is refused at up to one 5 % step
 * above the limit, so 95 % of it is at most the limit (a closer aim costs more 429s, each a wait).
 */
const UNDER_REFUSED = 0.95;
const RELAX_EVERY = 2000;
/** How much less an old refusal is trusted at first; doubled at each relaxation that draws no 429. */
const FIRST_RELAX = 0.05;
const MAX_RELAX = 1;
const MIN_ADAPTIVE_RATE = 1;
/** How far back the rate actually sent is measured. */
const RECENT_MS = 2000;
const RECENT_SENDS = 20;

export class RateLimiter {
  private intervalMs = 0;
  /** The most requests per window: the configured limit, or the key's limit as the server announces it. */
  private ceiling: number;
  /** The key's limit per window as the server last announced it (X-RateLimit-Limit), while trusted. */
  private announced?: number;
  /** A 429 came while pacing at an announced limit: announcements are no longer followed. */
  private announcementsRefuted = false;
  /** How many different limits the server announced in a row (each one a new pace). */
  private announcedCount = 0;
  private nextAt = 0;
  private pausedUntil = 0;
  /** Requests per window now: the limit, or (adaptive) what the server has been found to accept. */
  private rate: number;
  /** Adaptive: the lowest rate the server refused (429) lately; the rate settles a little under it. */
  private refusedAt = Infinity;
  /** By how much (a share) the refused rate is trusted less at the next relaxation. */
  private relaxBy = FIRST_RELAX;
  private acceptedSinceChange = 0;
  private slowedAt = 0;
  /** When the last requests went out (adaptive only). */
  private readonly sentAt: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    /** Told of each wait, and whether the server asked for it (pauseUntil) rather than the pacing. */
    private readonly onWait: (ms: number, serverPaused: boolean) => void = () => undefined,
    /** No published limit: `limit` is a ceiling, and the rate follows what the server accepts. */
    private readonly adaptive = false,
    /** The time, in ms (a test passes a simulated one). */
    private readonly clock: () => number = Date.now,
  ) {
    if (!(limit > 0)) throw new RangeError(`rate limit must be positive, got ${limit}`);
    this.ceiling = limit;
    this.rate = limit;
    this.pace(limit);
  }

  /** Requests per window the limiter spaces for now. */
  get currentRate(): number {
    return this.rate;
  }

  /** How many different limits the server has announced. */
  get announcements(): number {
    return this.announcedCount;
  }

  /** Paces for `rate` requests per window, within [MIN_ADAPTIVE_RATE, ceiling]. */
  private pace(rate: number): void {
    this.rate = Math.max(MIN_ADAPTIVE_RATE, Math.min(this.ceiling, rate));
    this.intervalMs = (this.windowMs / this.rate) * (1 + SLACK);
  }

  /** A new pace after a refusal: the count of successes towards the next probe starts again. */
  private setRate(rate: number): void {
    this.pace(rate);
    this.acceptedSinceChange = 0;
  }

  /**
   * The server announced the key's limit per window (PersistIQ's X-RateLimit-Limit): pace to it, never
   * above `configured` (the user's own cap, if any). It replaces the documented limit the limiter
   * started from, up or down, until a 429 shows the announcement wrong. True if the announcement is new.
   */
  announce(limitPerWindow: number, configured = Infinity): boolean {
    if (this.announcementsRefuted || !(limitPerWindow > 0) || limitPerWindow === this.announced) return false;
    this.announced = limitPerWindow;
    this.announcedCount++;
    this.ceiling = Math.min(configured, limitPerWindow);
    this.setRate(this.adaptive ? Math.min(this.rate, this.ceiling) : this.ceiling);
    return true;
  }

  /**
   * The server refused a request for its rate (HTTP 429), a request sent at `sentAt`. Following an
   * announced limit above the one the limiter started from: the announcement was wrong (or the key
   * is shared); back to the starting limit for good. Adaptive: that rate is too high; go under it
   * (half of it while no pace was accepted yet, 10 % after), and from now on probe no higher than
   * just under it.
   */
  throttled(sentAt = this.clock()): void {
    if (this.announced !== undefined && !this.announcementsRefuted && this.rate > this.limit) {
      this.announcementsRefuted = true;
      this.ceiling = this.limit;
      this.setRate(this.limit);
      return;
    }
    if (!this.adaptive) return;
    // Requests already in flight when the pace slowed are refused with the one that slowed it: they
    // say nothing new, and slowing again for each would take the pace far under the limit.
    if (sentAt < this.slowedAt) return;
    // What was really sent counts, not the pace allowed: a stream that waits for each answer may
    // send slower than its pace, and slowing a pace it never reached would change nothing.
    const now = this.clock();
    const sent = Math.min(this.rate, this.recentRate(now) ?? Infinity);
    // The first 429 says only that the ceiling, a guess, is too high, and a 429 before the pace it
    // slowed to was accepted PROBE_EVERY times says that pace is too high as well: the limit may be
    // anywhere under it, and halving finds it in a few refusals where 10 % steps take dozens (each
    // costs the server's Retry-After). A 429 while probing up from an accepted pace slows it 10 %.
    const stillTooFast = !Number.isFinite(this.refusedAt) || this.acceptedSinceChange < PROBE_EVERY;
    this.refusedAt = Math.min(this.refusedAt, sent);
    this.relaxBy = FIRST_RELAX;
    this.slowedAt = now;
    this.setRate(sent * (stillTooFast ? 0.5 : 0.9));
  }

  /**
   * Requests per window actually sent, from the spacing of the last RECENT_SENDS (within RECENT_MS):
   * few enough that a wait on an earlier 429 does not count as slowness.
   */
  private recentRate(now: number): number | undefined {
    // Sends before the last pause the server asked for would count its wait as slowness.
    const recent = this.sentAt.filter((at) => now - at <= RECENT_MS && at >= this.pausedUntil).slice(-RECENT_SENDS);
    if (recent.length < 5) return undefined;
    const span = recent[recent.length - 1] - recent[0];
    return span > 0 ? ((recent.length - 1) / span) * this.windowMs : undefined;
  }

  /**
   * A request went through. Adaptive: every PROBE_EVERY of them the rate rises 5 %, up to UNDER_REFUSED of
   * the lowest rate refused (or the ceiling); every RELAX_EVERY, that refused rate is trusted less (5 %,
   * then twice as much each time no 429 came in between), so a server that raised its limit is followed.
   * Each relaxation that overshoots costs a 429 and its Retry-After: they are rare.
   */
  accepted(): void {
    if (!this.adaptive) return;
    const count = ++this.acceptedSinceChange;
    if (count % RELAX_EVERY === 0 && Number.isFinite(this.refusedAt)) {
      this.refusedAt *= 1 + this.relaxBy;
      this.relaxBy = Math.min(MAX_RELAX, this.relaxBy * 2);
    }
    if (count % PROBE_EVERY !== 0) return;
    const target = Math.min(this.ceiling, this.refusedAt * UNDER_REFUSED);
    if (this.rate < target) this.pace(Math.min(target, this.rate * 1.05));
  }

  /** Resolves when the next request may go; true if it waited for a pause the server asked for. */
  async acquire(): Promise<boolean> {
    let paused = false;
    for (;;) {
      const now = Date.now();
      const readyAt = Math.max(this.nextAt, this.pausedUntil);
      if (readyAt <= now) {
        // Adaptive, the pace is a rate to keep: a timer that fired late does not slow it, the next
        // request keeps to the schedule (unless nothing was sent for a whole interval). A fixed limit
        // keeps every gap at least one interval, so that it holds in windows of any length.
        const onSchedule = this.adaptive && now - readyAt < this.intervalMs;
        this.nextAt = (onSchedule ? readyAt : now) + this.intervalMs;
        if (this.adaptive) {
          this.sentAt.push(this.clock());
          if (this.sentAt.length > 256) this.sentAt.splice(0, this.sentAt.length - 256);
        }
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

const LOGGED_ANNOUNCEMENTS = 5;

/**
 * Follows the key's limit as the API announces it (requests per window), never below `floor` (the
 * documented limit) nor above `cap` (the user's). Returns what changed, for a LOG, when it is new.
 */
export function followAnnouncement(limiter: RateLimiter, announced: number, cap?: number, floor = 0): string | undefined {
  const limit = Math.max(floor, announced);
  if (!limiter.announce(limit, cap) || limiter.announcements > LOGGED_ANNOUNCEMENTS + 1) return undefined;
  // A server whose announcement changes at every answer must not fill the log.
  if (limiter.announcements > LOGGED_ANNOUNCEMENTS) return `changed the limit it announces ${LOGGED_ANNOUNCEMENTS} times; the pace keeps following it, without further LOGs`;
  const why = cap !== undefined && cap < limit ? ` (capped by requests_per_minute ${cap})` : announced < floor ? ` (the documented ${floor} is the floor)` : '';
  return `announces ${announced} requests/minute for this key; pacing at ${Math.round(limiter.currentRate)}${why}`;
}
