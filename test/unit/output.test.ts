import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { JsonBatch } from '../../src/protocol/json-batch';
import { OutputWriter, SecretScrubber } from '../../src/protocol/output';
import { SlowSink, Sink } from '../helpers/sinks';
import { errorTrace, logMessage } from '../../src/protocol/messages';

const recordLine = (stream: string, data: unknown, emittedAt: number) =>
  `{"type":"RECORD","record":{"stream":${JSON.stringify(stream)},"data":${JSON.stringify(data)},"emitted_at":${emittedAt}}}`;

/** Resolves with whether the promise settled within a turn of the event loop. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('OutputWriter', () => {
  test('writes exactly the expected JSON lines, in emission order', async () => {
    const sink = new Sink();
    const writer = new OutputWriter(sink, new SecretScrubber([]), 64 * 1024, 10_000);
    await writer.record('users', { id: 1, name: 'Ann' }, 1000);
    await writer.record('leads', { id: 'l_1' }, 1001);
    await writer.state('leads', { updated_at: '2024-01-01T00:00:00Z' }, 1);
    await writer.emit(logMessage('INFO', 'done'));
    await writer.flush();
    assert.deepEqual(sink.chunks.join('').split('\n'), [
      '{"type":"RECORD","record":{"stream":"users","data":{"id":1,"name":"Ann"},"emitted_at":1000}}',
      '{"type":"RECORD","record":{"stream":"leads","data":{"id":"l_1"},"emitted_at":1001}}',
      '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"leads"},"stream_state":{"updated_at":"2024-01-01T00:00:00Z"}},"sourceStats":{"recordCount":1}}}',
      '{"type":"LOG","log":{"level":"INFO","message":"done"}}',
      '',
    ]);
  });

  test('batches records: nothing reaches the destination until chunkBytes is reached', async () => {
    const sink = new Sink();
    const line = recordLine('s', { id: 1 }, 5); // 72 bytes + newline
    assert.equal(line.length, 72);
    const writer = new OutputWriter(sink, undefined, 150, 10_000);
    await writer.record('s', { id: 1 }, 5);
    await writer.record('s', { id: 2 }, 5);
    assert.deepEqual(sink.chunks, [], 'two lines (146 bytes) stay buffered under a 150-byte chunk');
    await writer.record('s', { id: 3 }, 5);
    assert.deepEqual(sink.chunks, [[1, 2, 3].map((id) => recordLine('s', { id }, 5)).join('\n') + '\n']);
    await writer.record('s', { id: 4 }, 5);
    assert.equal(sink.chunks.length, 1);
    await writer.flush();
    assert.deepEqual(sink.chunks, [[1, 2, 3].map((id) => recordLine('s', { id }, 5)).join('\n') + '\n', recordLine('s', { id: 4 }, 5) + '\n']);
  });

  test('a non-RECORD message writes out the buffered records before it at once', async () => {
    const sink = new Sink();
    const writer = new OutputWriter(sink, undefined, 64 * 1024, 10_000);
    await writer.record('s', { id: 1 }, 5);
    assert.deepEqual(sink.chunks, []);
    await writer.state('s', { cursor: 'x' }, 1);
    assert.deepEqual(sink.chunks, [
      `${recordLine('s', { id: 1 }, 5)}\n{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"},"stream_state":{"cursor":"x"}},"sourceStats":{"recordCount":1}}}\n`,
    ]);
  });

  test('the idle timer writes buffered records without a flush', async () => {
    const sink = new Sink();
    const writer = new OutputWriter(sink, undefined, 64 * 1024, 30);
    await writer.record('s', { id: 1 }, 5);
    assert.deepEqual(sink.chunks, []);
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise((resolve) => sink.once('chunk', resolve)),
      new Promise((_, reject) => (guard = setTimeout(() => reject(new Error('idle flush never happened')), 5000))),
    ]);
    clearTimeout(guard);
    assert.deepEqual(sink.chunks, [recordLine('s', { id: 1 }, 5) + '\n']);
  });

  test('backpressure: record() stays pending until the destination drains', async () => {
    const sink = new SlowSink();
    const writer = new OutputWriter(sink, undefined, 50, 10_000);
    const pending = writer.record('s', { id: 1 }, 5);
    assert.ok(pending instanceof Promise, 'a full chunk on a full destination returns a promise');
    assert.deepEqual(sink.chunks, [recordLine('s', { id: 1 }, 5) + '\n']);
    assert.equal(await settledSoon(pending), false, 'resolved before drain');
    sink.release();
    await pending;
    assert.equal(sink.inFlight, 0);
  });

  test('backpressure: with every promise awaited, at most one chunk is ever in flight', async () => {
    const sink = new SlowSink(2);
    const writer = new OutputWriter(sink, undefined, 150, 10_000);
    const expected: string[] = [];
    for (let id = 0; id < 60; id++) {
      expected.push(recordLine('s', { id }, 5));
      await writer.record('s', { id }, 5);
      assert.ok(sink.inFlight <= 1, `record ${id}: ${sink.inFlight} chunks in flight`);
    }
    await writer.flush();
    assert.equal(sink.maxInFlight, 1);
    assert.ok(sink.chunks.length >= 20, `records were batched into ${sink.chunks.length} chunks`);
    assert.equal(sink.chunks.join(''), expected.join('\n') + '\n');
  });

  test('backpressure: emit() of a non-RECORD message that fills a chunk waits for drain too', async () => {
    const sink = new SlowSink();
    const writer = new OutputWriter(sink, undefined, 50, 10_000);
    const pending = writer.emit(logMessage('INFO', 'a message long enough to fill the fifty-byte chunk'));
    assert.ok(pending instanceof Promise);
    assert.equal(await settledSoon(pending), false, 'emit() resolved while the destination still needed drain');
    sink.release();
    await pending;
  });

  test('flush() resolves only once the destination has taken every byte, a write it accepted without asking for drain too', async () => {
    // A pipe on Linux is non-blocking: the kernel may take part of a write that returned true, and
    // process.exit() after flush() would drop the rest (the last records, the final STATE).
    class LaggingSink extends Writable {
      readonly chunks: string[] = [];
      readonly callbacks: (() => void)[] = [];
      constructor() {
        super({ highWaterMark: 1024 * 1024, decodeStrings: false });
      }
      override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
        this.chunks.push(String(chunk));
        this.callbacks.push(() => callback());
      }
    }
    const sink = new LaggingSink();
    const writer = new OutputWriter(sink, undefined, 64 * 1024, 10_000);
    await writer.record('s', { id: 1 }, 5);
    const flushed = writer.flush();
    assert.equal(await settledSoon(flushed), false, 'flush() resolved while the destination still held the last chunk');
    assert.deepEqual(sink.chunks, [recordLine('s', { id: 1 }, 5) + '\n']);
    sink.callbacks.shift()!();
    await flushed;
    assert.equal(sink.writableLength, 0);
  });

  test('a chunk is written into again only once the destination is done with it, and then it is', async () => {
    // The destination keeps the very buffers it is given (as a pipe's queue does) and finishes each
    // one only when released: what it holds must never change under it.
    const held: { bytes: Buffer; copy: string; done: () => void }[] = [];
    const given = new Set<ArrayBufferLike>();
    let reused = 0;
    const sink = new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        if (given.has(chunk.buffer)) reused++;
        given.add(chunk.buffer);
        held.push({ bytes: chunk, copy: chunk.toString(), done: () => callback() });
      },
    });
    const writer = new OutputWriter(sink, undefined, 1024, 10_000);
    const lines: string[] = [];
    for (let id = 0; id < 200; id++) {
      lines.push(recordLine('s', { id, text: 'x'.repeat(90) }, 5));
      await writer.record('s', { id, text: 'x'.repeat(90) }, 5);
      // The destination is slower than the writer: it finishes a chunk every 20 records (a chunk
      // holds 7), so chunks queue up in the stream's buffer, as in a pipe's.
      const oldest = held.find((chunk) => chunk.done !== undefined);
      if (id % 20 === 19 && oldest) {
        assert.equal(oldest.bytes.toString(), oldest.copy, 'a chunk changed while the destination held it');
        oldest.done();
        oldest.done = undefined as never;
      }
    }
    const flushed = writer.flush();
    for (const chunk of held) chunk.done?.();
    await flushed;
    assert.equal(held.map((chunk) => chunk.copy).join(''), lines.join('\n') + '\n');
    assert.ok(reused > 0, 'every chunk was a fresh buffer');
  });

  test('a destination that takes every byte within write() gets the same chunk again: nothing piles up between awaits', async () => {
    // A pipe the kernel has room in takes the bytes at once but calls back later; a loop that never
    // has to wait for 'drain' must not hold every chunk it wrote until then (case 5's peak RSS).
    const buffers = new Set<ArrayBufferLike>();
    const texts: string[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        buffers.add(chunk.buffer);
        texts.push(chunk.toString());
        callback();
      },
    });
    const writer = new OutputWriter(sink, undefined, 1024, 10_000);
    const lines: string[] = [];
    for (let id = 0; id < 200; id++) {
      lines.push(recordLine('s', { id, text: 'x'.repeat(90) }, 5));
      assert.equal(writer.record('s', { id, text: 'x'.repeat(90) }, 5), undefined, 'the writer waited');
    }
    await writer.flush();
    assert.equal(texts.join(''), lines.join('\n') + '\n');
    assert.ok(texts.length > 20);
    assert.ok(buffers.size <= 2, `${buffers.size} buffers for ${texts.length} chunks`);
  });

  test('two flush() calls at once (SIGTERM during the last flush) both resolve once the destination has every byte', async () => {
    const callbacks: (() => void)[] = [];
    const sink = new Writable({ highWaterMark: 1024 * 1024, write: (_chunk, _encoding, callback) => void callbacks.push(() => callback()) });
    const writer = new OutputWriter(sink, undefined, 64 * 1024, 10_000);
    await writer.record('s', { id: 1 }, 5);
    const first = writer.flush();
    const second = writer.flush();
    assert.equal(await settledSoon(first), false);
    callbacks.shift()!();
    await Promise.all([first, second]);
  });

  test('non-RECORD messages are scrubbed of the secret, its base64 and its URL-encoded form', async () => {
    const secret = 'p@ss word/1';
    assert.equal(Buffer.from(secret).toString('base64'), 'cEBzcyB3b3JkLzE=');
    const sink = new Sink();
    const writer = new OutputWriter(sink, new SecretScrubber([secret]), 64 * 1024, 10_000);
    await writer.emit(logMessage('WARN', 'raw p@ss word/1, basic cEBzcyB3b3JkLzE=, query key=p%40ss%20word%2F1.'));
    assert.deepEqual(sink.chunks, ['{"type":"LOG","log":{"level":"WARN","message":"raw **********, basic **********, query key=**********."}}\n']);
  });

  test('secrets added later are masked from then on, in free text only: states are protocol data, never rewritten', async () => {
    const sink = new Sink();
    const writer = new OutputWriter(sink, undefined, 64 * 1024, 10_000);
    await writer.emit(logMessage('INFO', 'key k3y-123'));
    writer.addSecrets(['k3y-123']);
    await writer.emit(logMessage('INFO', 'key k3y-123 again'));
    await writer.state('s', { tokens: ['k3y-123', 5] }, 0);
    assert.deepEqual(sink.chunks, [
      '{"type":"LOG","log":{"level":"INFO","message":"key k3y-123"}}\n',
      '{"type":"LOG","log":{"level":"INFO","message":"key ********** again"}}\n',
      '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"},"stream_state":{"tokens":["k3y-123",5]}},"sourceStats":{"recordCount":0}}}\n',
    ]);
  });

  test('a one-letter key never rewrites a message type, a status or a state (hostile config: api_key "E")', async () => {
    const sink = new Sink();
    const writer = new OutputWriter(sink, new SecretScrubber(['E']), 64 * 1024, 10_000);
    await writer.emit(errorTrace({ message: 'PersistIQ rejected the API key E (HTTP 401)', failure_type: 'config_error' }));
    await writer.state('leads', { updated_at: '2024-01-01T00:00:00Z', note: 'E' }, 0);
    const [trace, state] = sink.chunks.map((line) => JSON.parse(line));
    assert.equal(trace.type, 'TRACE');
    assert.equal(trace.trace.type, 'ERROR');
    assert.equal(trace.trace.error.failure_type, 'config_error');
    assert.equal(trace.trace.error.message, 'PersistIQ rejected the API key ********** (HTTP 401)');
    assert.deepEqual(state.state.stream.stream_state, { updated_at: '2024-01-01T00:00:00Z', note: 'E' });
  });

  test('RECORD lines are emitted verbatim, secrets included', async () => {
    const sink = new Sink();
    const writer = new OutputWriter(sink, new SecretScrubber(['s3cret']), 64 * 1024, 10_000);
    await writer.record('s', { note: 's3cret' }, 9);
    await writer.emit({ type: 'RECORD', record: { stream: 's', data: { also: 's3cret' }, emitted_at: 10 } });
    await writer.flush();
    assert.equal(sink.chunks.join(''), `${recordLine('s', { note: 's3cret' }, 9)}\n${recordLine('s', { also: 's3cret' }, 10)}\n`);
  });

  test('rawRecord passes the JSON text through untouched', async () => {
    const sink = new Sink();
    const writer = new OutputWriter(sink, undefined, 64 * 1024, 10_000);
    await writer.rawRecord('events', '{"b":2,"a":12345678901234567890123,"x":1.50}', 42);
    await writer.flush();
    assert.deepEqual(sink.chunks, ['{"type":"RECORD","record":{"stream":"events","data":{"b":2,"a":12345678901234567890123,"x":1.50},"emitted_at":42}}\n']);
  });
});

describe('OutputWriter.rawRecords', () => {
  const texts = Array.from({ length: 7 }, (_, i) => `{"i":${i},"id":12345678901234567890,"s":"é"}`);
  const lines = texts.map((text) => `{"type":"RECORD","record":{"stream":"events","data":${text},"emitted_at":7}}\n`);

  test('a batch becomes RECORD lines byte for byte, batched into chunks', async () => {
    const sink = new Sink();
    const writer = new OutputWriter(sink, undefined, 64 * 1024, 10_000);
    await writer.rawRecords('events', JsonBatch.of(texts), 7);
    await writer.rawRecords('events', JsonBatch.EMPTY, 8);
    assert.deepEqual(sink.chunks, []);
    await writer.flush();
    assert.deepEqual(sink.chunks, [lines.join('')]);
  });

  test('a chunk filled mid-batch waits for drain before the rest of the batch is copied', async () => {
    const sink = new SlowSink(2);
    const writer = new OutputWriter(sink, undefined, 200, 10_000);
    const pending = writer.rawRecords('events', JsonBatch.of(texts), 7);
    assert.ok(pending instanceof Promise);
    assert.deepEqual(sink.chunks, [lines.slice(0, 2).join('')], 'two lines of ~110 bytes fill a 200-byte chunk');
    await pending;
    await writer.flush();
    assert.equal(sink.maxInFlight, 1);
    assert.equal(sink.chunks.join(''), lines.join(''));
  });
});
