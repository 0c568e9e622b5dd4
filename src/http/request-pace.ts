// An API client's pace: when each attempt of a request may go. The rate limiter spaces requests
// (a fixed limit, a limit the API announces, or an adaptive pace where none is published), the
// in-flight window keeps the pace × the latency in flight, and a spent budget holds every request for
// the wait the server asks. The HTTP client asks before each attempt and tells it of each answer;
// retries are the client's business.
import { InFlightWindow } from './in-flight';
import { followAnnouncement } from './announced-limit';
import { RateLimiter } from './rate-limit';
import type { HttpClientOptions } from './options';
import type { RetryState } from './retries';
import { limitSpent, retryWaitMs } from './server-waits';

/** The parts of the client's options the pace reads. */
export type PaceOptions = Pick<HttpClientOptions, 'apiTitle' | 'pace' | 'bounds' | 'reporting'>;

/** A Retry-After in whole seconds is rounded up by up to this much. */
const RETRY_AFTER_ROUNDING_MS = 1000;

export class RequestPace {
  private readonly limiter?: RateLimiter;
  private readonly window: InFlightWindow;

  constructor(private readonly options: PaceOptions) {
    const { log, reporter } = options.reporting;
    const { pace } = options;
    if (pace.requestsPerMinute) {
      const limiter: RateLimiter = new RateLimiter(
        pace.requestsPerMinute,
        60_000,
        (ms, serverPaused) => {
          if (serverPaused) reporter?.waiting(Date.now() + ms);
          if (ms >= 5_000)
            log(
              'INFO',
              `${options.apiTitle}: waiting ${(ms / 1000).toFixed(1)} s ${serverPaused ? 'for the rate limit to reset' : `to stay under ${Math.round(limiter.currentRate)} requests/minute`}`,
            );
        },
        pace.adaptive,
        Date.now,
        pace.adaptiveStartPerMinute,
        () => this.window.meanLatencyMs,
      );
      this.limiter = limiter;
    }
    const limiter = this.limiter;
    this.window = new InFlightWindow(pace.maxInFlight, () => (limiter ? (limiter.currentRate * 1000) / limiter.windowMs : undefined));
  }

  /**
   * Requests the client would keep in flight now: what a stream that can send several at once (pages
   * read ahead, one request per parent) offers, so that the window, not the stream, is the bound.
   */
  get parallelism(): number {
    return this.window.size;
  }

  /**
   * Waits until an attempt may go: a slot in the window, then its turn in the pace. False: the
   * caller gave the request up meanwhile (`caller` aborted); it is not to be sent.
   */
  async admit(state: RetryState, caller: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.window.acquire(caller, state.bulk);
    } catch {
      return false;
    }
    state.holdsSlot = true;
    if (this.limiter && (await this.limiter.acquire(state.bulk))) this.options.reporting.reporter?.resumed();
    return !caller?.aborted;
  }

  /** An answer in the 2xx range came to the attempt. */
  accepted(state: RetryState, status: number, headers: Record<string, unknown>): void {
    this.releaseSlot(state, true);
    this.followAnnouncedLimit(headers);
    this.limiter?.accepted(state.sentAt);
    this.holdWhileSpent(status, headers, state.sentAt);
  }

  /** The attempt failed: with an answer (`response`), or without (a network error, a timeout). */
  failed(state: RetryState, response: { status: number; headers: Record<string, unknown> } | undefined): void {
    this.releaseSlot(state, response !== undefined);
    if (response?.status === 429 && this.limiter) {
      const before = this.limiter.currentRate;
      this.limiter.throttled(state.sentAt);
      this.holdWhileSpent(429, response.headers, state.sentAt);
      if (this.limiter.currentRate !== before)
        this.options.reporting.log(
          'INFO',
          `${this.options.apiTitle} refused a request at ${Math.round(before)} requests/minute (HTTP 429); pacing at ${Math.round(this.limiter.currentRate)} from now on`,
        );
    } else if (response) this.followAnnouncedLimit(response.headers);
  }

  /**
   * Added to a wait the server asks for: a tenth of it, at most a second (a 1 s Retry-After, already
   * rounded up to the second, is not doubled), for clock skew and the request's way to the server.
   */
  slackMs(requestedMs: number): number {
    return Math.min(1000, this.options.bounds.backoffBaseMs, requestedMs / 10);
  }

  /** An attempt's answer (or failure) came: its slot in the window goes to the next request. */
  private releaseSlot(state: RetryState, answered: boolean): void {
    if (!state.holdsSlot) return;
    state.holdsSlot = false;
    this.window.release(answered && state.sentAt !== undefined ? Date.now() - state.sentAt : undefined);
  }

  private followAnnouncedLimit(headers: Record<string, unknown>): void {
    const announced = this.options.pace.announcedRequestsPerMinute?.(headers);
    if (!this.limiter || !announced) return;
    const change = followAnnouncement(this.limiter, announced, this.options.pace.requestsPerMinuteCap, this.options.pace.announcedRequestsPerMinuteFloor);
    if (change) this.options.reporting.log('INFO', `${this.options.apiTitle} ${change}`);
  }

  /**
   * The server says the key's budget is spent (a 429, or X-RateLimit-Remaining: 0): no request of
   * this client goes before the wait it asks for. Left to the refused request's own retry, the other
   * requests in flight would be sent into the spent budget and refused too. A wait beyond
   * max_wait_seconds holds nothing: each request then fails at once on its own answer, instead of
   * after max_wait_seconds of holding. The wait counts from the answer: the server decided at some
   * point between the send and the answer, and only counting from the answer makes sure the next
   * request arrives after it, whatever the refused request's way there cost (a new connection's
   * handshakes, a busy event loop before the bytes left). Counting from the send gained nothing
   * measurable at 300 ms an answer (bench case 12) and let requests arrive early. The 429s of
   * requests already in flight when the hold was set lengthen it only beyond a Retry-After's
   * rounding and the span their server's decision may lie in (pauseUntil).
   */
  private holdWhileSpent(status: number, headers: Record<string, unknown>, sentAt: number | undefined): void {
    if (!this.limiter || !limitSpent(status, headers)) return;
    const wait = retryWaitMs(status, headers);
    if (wait === undefined || wait > this.options.bounds.maxWaitMs) return;
    const answeredAt = Date.now();
    this.limiter.pauseUntil(answeredAt + wait, sentAt, RETRY_AFTER_ROUNDING_MS + (sentAt === undefined ? 0 : answeredAt - sentAt));
  }
}
