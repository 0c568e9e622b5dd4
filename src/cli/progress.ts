// What a user watching a sync sees besides records: the stream being read reported from deep inside
// its requests (RUNNING with reason RATE_LIMITED while it waits), a progress LOG at least every
// PROGRESS_INTERVAL_MS per running stream (records so far, rate, position), a LOG at each stream's
// end (records, requests, retries, duration) and a summary of the whole sync. Streams read at the
// same time (waiting on different things) are told apart by the async context their requests run in.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestReporter } from '../http';
import { type AirbyteMessage, logMessage, type OutputWriter, streamStatus } from '../protocol';

/** Long streams never go quiet for longer than this (PROGRESS_INTERVAL_SECONDS overrides it, for tests). */
const DEFAULT_PROGRESS_INTERVAL_MS = 30_000;

interface StreamTally {
  name: string;
  records: number;
  requests: number;
  retries: number;
  startedAt: number;
  endedAt?: number;
  outcome?: 'COMPLETE' | 'INCOMPLETE';
  /** Waiting on the server's rate limit. */
  limited: boolean;
  /** About to report its end (COMPLETE or INCOMPLETE): no wait is reported for it any more. */
  ending?: boolean;
  /** Where the stream is ("bundle 3 of 12", "window 2026-11-02"), as it last said. */
  position?: string;
}

/** A count with en-US thousands separators (toLocaleString's first call costs ~10 ms of ICU set-up). */
const grouped = (count: number): string => String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const plural = (count: number, word: string, words = `${word}s`) => `${grouped(count)} ${count === 1 ? word : words}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class SyncProgress implements RequestReporter {
  private readonly running = new Map<string, StreamTally>();
  private readonly done: StreamTally[] = [];
  /** Streams in the order they started (the catalog's): the summary's order, whichever ends first. */
  private readonly order: string[] = [];
  /** The stream whose code runs now: set by `within`, seen by the requests that code sends. */
  private readonly context = new AsyncLocalStorage<StreamTally>();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private answeredOnce!: () => void;
  /** Resolves at the first answer of the API (any 2xx): the key works and the host is reachable. */
  readonly firstAnswer = new Promise<void>((resolve) => (this.answeredOnce = resolve));

  constructor(
    private readonly out: OutputWriter,
    env: NodeJS.ProcessEnv = {},
  ) {
    const configured = Number(env.PROGRESS_INTERVAL_SECONDS) * 1000;
    this.intervalMs = configured > 0 ? configured : DEFAULT_PROGRESS_INTERVAL_MS;
  }

  /** Starts a stream's tally and runs `read` as that stream: what its requests report counts for it. */
  within<T>(name: string, read: () => Promise<T>): Promise<T> {
    const tally: StreamTally = { name, records: 0, requests: 0, retries: 0, startedAt: Date.now(), limited: false };
    this.running.set(name, tally);
    this.order.push(name);
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const running of this.running.values()) this.report(logMessage('INFO', this.progressLine(running)));
      }, this.intervalMs);
      this.timer.unref();
    }
    return this.context.run(tally, read);
  }

  recorded(name: string, count: number): void {
    const tally = this.running.get(name);
    if (tally) tally.records += count;
  }

  at(name: string, position: string): void {
    const tally = this.running.get(name);
    if (tally) tally.position = position;
  }

  /** Ends a running stream; returns its LOG line. */
  end(name: string, outcome: 'COMPLETE' | 'INCOMPLETE'): string {
    const tally = this.running.get(name);
    if (!tally) return '';
    this.running.delete(name);
    if (this.running.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    Object.assign(tally, { outcome, endedAt: Date.now() });
    this.done.push(tally);
    return `Stream "${tally.name}" ${outcome}: ${this.tallyText(tally)}`;
  }

  /** Whether a stream was started (or skipped) in this sync. */
  started(name: string): boolean {
    return this.running.has(name) || this.done.some((tally) => tally.name === name);
  }

  /** A stream not read at all (unknown to the API, or after a failure every stream would meet). */
  skipped(name: string): void {
    const now = Date.now();
    this.order.push(name);
    this.done.push({ name, records: 0, requests: 0, retries: 0, startedAt: now, endedAt: now, outcome: 'INCOMPLETE', limited: false });
  }

  summary(): string {
    const total = this.done.reduce((sum, t) => sum + t.records, 0);
    const failed = this.done.filter((t) => t.outcome !== 'COMPLETE').length;
    const inOrder = [...this.done].sort((a, b) => this.order.indexOf(a.name) - this.order.indexOf(b.name));
    const lines = inOrder.map((t) => `${t.name} ${t.outcome} (${plural(t.records, 'record')})`);
    return `Sync summary: ${plural(this.done.length, 'stream')}, ${plural(total, 'record')}, ${failed} incomplete: ${lines.join('; ')}`;
  }

  /**
   * Where a sync stands, for the LOG of a cancelled one: the streams done, and each running stream's
   * records and position. Empty before any stream started (a command other than read).
   */
  whereStopped(): string {
    if (this.order.length === 0) return '';
    const complete = this.done.filter((t) => t.outcome === 'COMPLETE').map((t) => t.name);
    const incomplete = this.done.filter((t) => t.outcome !== 'COMPLETE').map((t) => t.name);
    const running = [...this.running.values()].map((t) => `"${t.name}" after ${plural(t.records, 'record')}${t.position ? ` at ${t.position}` : ''}`);
    return [
      complete.length > 0 && `complete: ${complete.join(', ')}`,
      incomplete.length > 0 && `incomplete: ${incomplete.join(', ')}`,
      running.length > 0 && `stopped: ${running.join('; ')}`,
    ]
      .filter(Boolean)
      .join('; ');
  }

  private get current(): StreamTally | undefined {
    return this.context.getStore();
  }

  sent(): void {
    if (this.current) this.current.requests++;
  }

  answered(): void {
    this.answeredOnce();
  }

  retrying(): void {
    if (this.current) this.current.retries++;
  }

  waiting(quotaResetMs: number): void {
    const tally = this.current;
    // Several requests of a stream wait on one hold: it is one wait to report.
    if (!tally || tally.limited || tally.ending) return;
    tally.limited = true;
    this.report(streamStatus(tally.name, 'RUNNING', [{ type: 'RATE_LIMITED', rate_limited: { quota_reset: Math.round(quotaResetMs) } }]));
  }

  resumed(): void {
    const tally = this.current;
    if (!tally?.limited) return;
    tally.limited = false;
    this.report(streamStatus(tally.name, 'RUNNING'));
  }

  /**
   * The stream being read is about to report its end. A wait still reported is over (a page read
   * ahead, refused, then dropped: its retry never comes): RUNNING follows its RATE_LIMITED, and
   * requests of the stream still around (retries of dropped pages) report nothing after its end.
   */
  ending(): void {
    const tally = this.current;
    if (!tally) return;
    this.resumed();
    tally.ending = true;
  }

  private progressLine(tally: StreamTally): string {
    const elapsed = Date.now() - tally.startedAt;
    const rate = elapsed > 0 ? Math.round((tally.records * 1000) / elapsed) : 0;
    const where = tally.position ? `, at ${tally.position}` : '';
    const waiting = tally.limited ? ', waiting on the rate limit' : '';
    return `Stream "${tally.name}": ${plural(tally.records, 'record')} so far in ${seconds(elapsed)} (${grouped(rate)}/s), ${plural(tally.requests, 'request')}${where}${waiting}`;
  }

  private tallyText(tally: StreamTally): string {
    return `${plural(tally.records, 'record')}, ${plural(tally.requests, 'request')}, ${plural(tally.retries, 'retry', 'retries')} in ${seconds((tally.endedAt ?? Date.now()) - tally.startedAt)}`;
  }

  /** Written in order with the records (the writer appends synchronously); its drain is not awaited here. */
  private report(message: AirbyteMessage): void {
    void Promise.resolve(this.out.emit(message)).catch(() => undefined);
  }
}
