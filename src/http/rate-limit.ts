import { SendHistory } from './send-history';

/** Waits `ms` on the global timer (which the tests make late to check the pace keeps its schedule). */
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
/**
 * Adaptive pacing. A pace is proven, and the next probe upward may go, once PROBE_MIN requests at it
 * were accepted over PROBE_MS: longer than a limit counted per second takes to refuse a pace above it,
 * short enough that a slow pace does not take minutes to climb back.
 */
const PROBE_MIN = 5;
const PROBE_MS = 2000;
/** Smallest and largest step of a probe, as a share of the pace. */
const MIN_STEP = 0.02;
const MAX_STEP = 0.25;
/**
 * How far under the lowest rate refused the pace settles: probes are refused a little above the
 * limit, and a closer aim costs more 429s, each a wait. After the first 429, this far under the
 * budget the server accepted (SendHistory): at 0.97, one request of arrival jitter in a count of 20
 * (a timer late, the next on time) was enough to draw a second 429.
 */
const UNDER_REFUSED = 0.95;
const RELAX_EVERY = 2000;
/** How much less an old refusal is trusted at first; doubled at each relaxation that draws no 429. */
const FIRST_RELAX = 0.05;
const MAX_RELAX = 1;
const MIN_ADAPTIVE_RATE = 1;
/**
 * Slow start, while no 429 has shown where a limit nobody published lies: the pace starts at the
 * limiter's start pace (or the ceiling, if lower) and doubles every RAMP_DOUBLING_MS up to the
 * ceiling. Every request in flight when the budget first runs out is refused with it, about the
 * pace times the latency: starting at the ceiling (100 a second by default) would cost 15 refusals
 * at 150 ms an answer. Doubling each second, the budget's first refusal comes at no more than about
 * twice the limit, and the ceiling is reached within a few seconds.
 */
const DEFAULT_START_PER_SECOND = 20;
const RAMP_DOUBLING_MS = 1000;
/**
 * What slow start is for, as requests in flight: it never starts lower than this many per answer's
 * time. An API that answers in 2 ms (a server next door) is paced from the ceiling at once: its
 * first refusal catches almost nothing in flight.
 */
const DISCOVERY_IN_FLIGHT = 2;

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
  /** When the server's last pause was set. */
  private pausedAt = 0;
  /** Lone requests waiting for their turn (see acquire). */
  private loneWaiting = 0;
  /** Requests per window now: the limit, or (adaptive) what the server has been found to accept. */
  private rate: number;
  /** Adaptive: the lowest rate the server refused (429) lately; the rate settles a little under it. */
  private refusedAt = Infinity;
  /** By how much (a share) the refused rate is trusted less at the next relaxation. */
  private relaxBy = FIRST_RELAX;
  /**
   * Adaptive: the pace a 429 sends it back to: the fastest pace proven, or 10 % under one that was
   * refused in its turn (0: none yet, and a 429 halves the pace).
   */
  private provenRate = 0;
  /** Answers accepted since the last 429 (the relaxation's cadence), and since the pace last changed. */
  private acceptedSinceChange = 0;
  private acceptedAtPace = 0;
  /** When the pace last changed, and when a 429 last slowed it (adaptive). */
  private pacedAt = 0;
  private slowedAt = 0;
  /** When slow start began: the first request (adaptive only). */
  private rampStart: number | undefined;
  /** What was sent and accepted lately (adaptive only). */
  private readonly history = new SendHistory();

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    /** Told of each wait, and whether the server asked for it (pauseUntil) rather than the pacing. */
    private readonly onWait: (ms: number, serverPaused: boolean) => void = () => undefined,
    /** No published limit: `limit` is a ceiling, and the rate follows what the server accepts. */
    private readonly adaptive = false,
    /** The time, in ms (a test passes a simulated one). */
    private readonly clock: () => number = Date.now,
    /** Adaptive: the pace slow start begins at, per window. */
    private readonly startRate = (DEFAULT_START_PER_SECOND * windowMs) / 1000,
    /** The mean time an answer takes, in ms, as the client measures it (undefined before the first). */
    private readonly answerMs: () => number | undefined = () => undefined,
  ) {
    if (!(limit > 0)) throw new RangeError(`rate limit must be positive, got ${limit}`);
    this.ceiling = limit;
    this.rate = limit;
    this.pace(adaptive ? Math.min(limit, startRate) : limit);
  }

  /** Slow start: the pace a request sent now goes at, before the first 429. */
  private ramp(now: number): void {
    if (!this.adaptive || Number.isFinite(this.refusedAt) || this.rate >= this.ceiling) return;
    this.rampStart ??= now;
    const answerMs = this.answerMs();
    const start = Math.max(this.startRate, answerMs ? (DISCOVERY_IN_FLIGHT * this.windowMs) / answerMs : 0);
    const ramped = start * 2 ** ((now - this.rampStart) / RAMP_DOUBLING_MS);
    if (ramped > this.rate) this.pace(ramped);
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
    this.acceptedAtPace = 0;
    this.pacedAt = this.clock();
  }

  /** A new pace after a refusal: the count of answers towards the next relaxation starts again. */
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
   * is shared); back to the starting limit for good. Adaptive: that rate is too high; back to the
   * fastest pace proven under it, and from now on probe no higher than just under it.
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
    const sent = Math.min(this.rate, this.history.recentRate(now, this.pausedUntil, this.windowMs) ?? Infinity);
    // The limit lies between the fastest pace proven and the rate refused: back to that pace. With no
    // pace proven yet (the ceiling, a guess, is too high), the budget the server just ran out of says
    // where the limit is: just under it, so one refusal finds it instead of halving and climbing back,
    // each step costing a Retry-After (halving when too few answers tell a budget). Refused at a pace
    // proven before (a burst, or the limit came down): 10 % under it, the pace to come back to.
    const refusedProven = this.provenRate >= sent;
    const budget = this.provenRate > 0 ? undefined : this.history.budgetBefore(sentAt, this.windowMs);
    const next = refusedProven ? sent * 0.9 : this.provenRate > 0 ? this.provenRate : budget !== undefined ? Math.min(sent, budget) * UNDER_REFUSED : sent * 0.5;
    if (refusedProven) this.provenRate = next;
    // A pace the server accepted before says nothing new of its limit when refused: a burst, an
    // outage, or the limit came down. The ceiling the probes aim under stays; if the limit did come
    // down, the next probe above it is refused unproven and lowers it. Lowered at each refusal of a
    // 5-second outage, it kept the pace near nothing for the rest of the sync.
    if (!refusedProven) this.refusedAt = Math.min(this.refusedAt, sent, budget ?? Infinity);
    this.relaxBy = FIRST_RELAX;
    this.slowedAt = now;
    this.setRate(next);
  }

  /**
   * A request went through. Adaptive: once the pace is proven, it rises half way to UNDER_REFUSED of
   * the lowest rate refused (or to the ceiling), by MIN_STEP at least: a pace accepted and a rate
   * refused bound the limit, and halving the gap finds it in a few probes. Every RELAX_EVERY answers,
   * that refused rate is trusted less (5 %, then twice as much each time no 429 came in between), so
   * a server that raised its limit is followed; each relaxation that overshoots costs one 429.
   */
  accepted(sentAt = this.clock()): void {
    if (!this.adaptive) return;
    const now = this.clock();
    this.history.accepted(sentAt, now);
    this.ramp(now);
    const count = ++this.acceptedSinceChange;
    if (count % RELAX_EVERY === 0 && Number.isFinite(this.refusedAt)) {
      this.refusedAt *= 1 + this.relaxBy;
      this.relaxBy = Math.min(MAX_RELAX, this.relaxBy * 2);
    }
    // Time at the pace counts from the end of a pause the server asked for: nothing was sent in it.
    const proven = ++this.acceptedAtPace >= PROBE_MIN && now - Math.max(this.pacedAt, this.pausedUntil) >= PROBE_MS;
    // Before the first 429 nothing is proven: the ceiling is a guess, and a limit counted over a
    // second or a minute accepts a burst of a few dozen requests at any pace.
    if (!proven || !Number.isFinite(this.refusedAt)) return;
    this.provenRate = Math.max(this.provenRate, this.rate);
    const target = Math.min(this.ceiling, this.refusedAt * UNDER_REFUSED);
    const halfWay = Math.min(this.rate * (1 + MAX_STEP), Math.max(this.rate * (1 + MIN_STEP), (this.rate + target) / 2));
    if (this.rate < target) this.pace(Math.min(target, halfWay));
  }

  /**
   * Resolves when the next request may go; true if it waited for a pause the server asked for. A
   * request sent in bulk (pages read ahead, one request per parent) leaves the turn to any lone
   * request waiting: a list that names each next page waits on every one of them, and behind the
   * bulk it would wait about a latency per page instead of an interval.
   */
  async acquire(bulk = false): Promise<boolean> {
    if (bulk) return this.takeTurn(true);
    this.loneWaiting++;
    try {
      return await this.takeTurn(false);
    } finally {
      this.loneWaiting--;
    }
  }

  private async takeTurn(bulk: boolean): Promise<boolean> {
    let paused = false;
    for (;;) {
      const now = Date.now();
      const readyAt = Math.max(this.nextAt, this.pausedUntil);
      if (readyAt <= now && bulk && this.loneWaiting > 0) {
        // The lone request's timer is due as well: it takes this turn, this one the next.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (readyAt <= now) {
        // Adaptive, the pace is a rate to keep: a timer that fired late does not slow it, the next
        // request keeps to the schedule (unless nothing was sent for a whole interval). A fixed limit
        // keeps every gap at least one interval, so that it holds in windows of any length.
        const onSchedule = this.adaptive && now - readyAt < this.intervalMs;
        this.nextAt = (onSchedule ? readyAt : now) + this.intervalMs;
        if (this.adaptive) {
          this.ramp(this.clock());
          this.history.sent(this.clock());
        }
        return paused;
      }
      const serverPaused = this.pausedUntil > this.nextAt;
      paused ||= serverPaused;
      this.onWait(readyAt - now, serverPaused);
      await sleep(readyAt - now);
    }
  }

  /**
   * The server asked that nothing be sent before `epochMs`, in its answer to a request sent at
   * `sentAt`. As in throttled(), a request sent before the current pause was set was refused with
   * the one that set it: its wait, counted from its own later send, tells the same reset up to
   * `sameWithinMs` (a Retry-After rounded up to the second), and lengthens the pause only beyond
   * that (another budget, a longer window).
   */
  pauseUntil(epochMs: number, sentAt?: number, sameWithinMs = 0): void {
    if (sentAt !== undefined && sentAt < this.pausedAt && epochMs <= this.pausedUntil + sameWithinMs) return;
    this.pausedAt = this.clock();
    this.pausedUntil = Math.max(this.pausedUntil, epochMs);
  }
}
