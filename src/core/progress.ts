// What a user watching a sync sees besides records: the stream being read reported from deep inside
// its requests (RUNNING with reason RATE_LIMITED while it waits), a progress LOG at least every
// PROGRESS_INTERVAL_MS while a stream runs (records so far, rate, position), a LOG at each stream's
// end (records, requests, retries, duration) and a summary of the whole sync.
import type { RequestReporter } from './http';
import type { OutputWriter } from './output';
import { logMessage, streamStatus, type AirbyteMessage } from './protocol';

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
}

const plural = (count: number, word: string, words = `${word}s`) => `${count.toLocaleString('en-US')} ${count === 1 ? word : words}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class SyncProgress implements RequestReporter {
  private current: StreamTally | undefined;
  private readonly done: StreamTally[] = [];
  private limited = false;
  /** Where the running stream is ("bundle 3 of 12", "window 2026-11-02"), as it last said. */
  private position: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly out: OutputWriter,
    env: NodeJS.ProcessEnv = {},
  ) {
    const configured = Number(env.PROGRESS_INTERVAL_SECONDS) * 1000;
    this.intervalMs = configured > 0 ? configured : DEFAULT_PROGRESS_INTERVAL_MS;
  }

  begin(name: string): void {
    this.current = { name, records: 0, requests: 0, retries: 0, startedAt: Date.now() };
    this.position = undefined;
    this.limited = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.report(logMessage('INFO', this.progressLine())), this.intervalMs);
    this.timer.unref();
  }

  recorded(count: number): void {
    if (this.current) this.current.records += count;
  }

  at(position: string): void {
    this.position = position;
  }

  /** Ends the running stream; returns its LOG line. */
  end(outcome: 'COMPLETE' | 'INCOMPLETE'): string {
    clearInterval(this.timer);
    const tally = this.current;
    this.current = undefined;
    if (!tally) return '';
    Object.assign(tally, { outcome, endedAt: Date.now() });
    this.done.push(tally);
    return `Stream "${tally.name}" ${outcome}: ${this.tallyText(tally)}`;
  }

  /** A stream not read at all (unknown to the API, or after a failure every stream would meet). */
  skipped(name: string): void {
    const now = Date.now();
    this.done.push({ name, records: 0, requests: 0, retries: 0, startedAt: now, endedAt: now, outcome: 'INCOMPLETE' });
  }

  summary(): string {
    const total = this.done.reduce((sum, t) => sum + t.records, 0);
    const failed = this.done.filter((t) => t.outcome !== 'COMPLETE').length;
    const lines = this.done.map((t) => `${t.name} ${t.outcome} (${plural(t.records, 'record')})`);
    return `Sync summary: ${plural(this.done.length, 'stream')}, ${plural(total, 'record')}, ${failed} incomplete: ${lines.join('; ')}`;
  }

  sent(): void {
    if (this.current) this.current.requests++;
  }

  retrying(): void {
    if (this.current) this.current.retries++;
  }

  waiting(quotaResetMs: number): void {
    if (!this.current) return;
    this.limited = true;
    this.report(streamStatus(this.current.name, 'RUNNING', [{ type: 'RATE_LIMITED', rate_limited: { quota_reset: Math.round(quotaResetMs) } }]));
  }

  resumed(): void {
    if (!this.current || !this.limited) return;
    this.limited = false;
    this.report(streamStatus(this.current.name, 'RUNNING'));
  }

  private progressLine(): string {
    const tally = this.current!;
    const elapsed = Date.now() - tally.startedAt;
    const rate = elapsed > 0 ? Math.round((tally.records * 1000) / elapsed) : 0;
    const where = this.position ? `, at ${this.position}` : '';
    const waiting = this.limited ? ', waiting on the rate limit' : '';
    return `Stream "${tally.name}": ${plural(tally.records, 'record')} so far in ${seconds(elapsed)} (${rate.toLocaleString('en-US')}/s), ${plural(tally.requests, 'request')}${where}${waiting}`;
  }

  private tallyText(tally: StreamTally): string {
    return `${plural(tally.records, 'record')}, ${plural(tally.requests, 'request')}, ${plural(tally.retries, 'retry', 'retries')} in ${seconds((tally.endedAt ?? Date.now()) - tally.startedAt)}`;
  }

  /** Written in order with the records (the writer appends synchronously); its drain is not awaited here. */
  private report(message: AirbyteMessage): void {
    void Promise.resolve(this.out.emit(message)).catch(() => undefined);
  }
}
