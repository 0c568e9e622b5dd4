// Destinations for the output writer's tests: one that takes every chunk at once, one that holds them.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';

/** A destination that records every chunk it is given and acknowledges at once. */
export class Sink extends Writable {
  readonly chunks: string[] = [];
  constructor() {
    super({ decodeStrings: false });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(String(chunk));
    this.emit('chunk');
    callback();
  }
}

/** A destination with a 1-byte buffer whose write callbacks run only when released. */
export class SlowSink extends Writable {
  readonly chunks: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly autoReleaseMs?: number) {
    super({ highWaterMark: 1, decodeStrings: false });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(String(chunk));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const done = () => {
      this.inFlight--;
      callback();
    };
    if (this.autoReleaseMs !== undefined) setTimeout(done, this.autoReleaseMs);
    else this.waiting.push(done);
  }
  release(): void {
    const done = this.waiting.shift();
    assert.ok(done, 'no write waiting to be released');
    done();
  }
}
