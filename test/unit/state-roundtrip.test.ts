// States we wrote are states we read: for every incremental stream of every API, random cursor values
// in the shape the stream writes them (integers with or without a fraction, ISO 8601 date-times with
// milliseconds, microseconds or an offset) go through the input validation (parseState, then the
// stream's own checks at the start of a read) without a config_error.
import { ApiClock } from '../../src/http/clock';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { registry } from '../../src/apis';
import { parseState } from '../../src/cli/config';
import { ConfigError } from '../../src/protocol/errors';
import { catalogSchema } from '../../src/streams/stream';

/** Anything the stream asks of its API context: a request throws this, any other use gives more of it. */
class NoRequest extends Error {}
const unreachable: unknown = new Proxy(function () {}, {
  get: (_target, property) => (property === 'then' ? undefined : property === Symbol.toPrimitive ? () => NaN : unreachable),
  apply: () => {
    throw new NoRequest('no request in this test');
  },
});

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0), state / 2 ** 32);
}

const isoVariants = (ms: number, next: () => number): string => {
  const iso = new Date(ms).toISOString();
  const variant = Math.floor(next() * 4);
  if (variant === 0) return iso;
  if (variant === 1) return iso.replace(/\.\d{3}Z$/, 'Z');
  if (variant === 2) return iso.replace(/Z$/, `${String(Math.floor(next() * 1000)).padStart(3, '0')}Z`);
  return iso.replace(/Z$/, '+00:00');
};

describe('every state a stream writes is read back', () => {
  for (const api of registry) {
    for (const stream of api.streams.filter((s) => s.cursorField)) {
      test(`${api.name} ${stream.name}`, async () => {
        const key = stream.cursorField![0];
        const types = [(catalogSchema(stream).properties as Record<string, { type: string | string[] }>)[key].type].flat();
        const next = random(stream.name.length * 7919);
        for (let i = 0; i < 200; i++) {
          const ms = Math.floor(next() * 4e12);
          const value = types.includes('integer') ? (i % 2 ? Math.floor(ms / 1000) : ms / 1000 + 0.5) : isoVariants(ms, next);
          const states = parseState([{ type: 'STREAM', stream: { stream_descriptor: { name: stream.name }, stream_state: { [key]: value } } }], api, () => undefined);
          const context = {
            syncMode: 'incremental' as const,
            state: states.get(stream.name),
            startDate: undefined,
            syncStartedAt: new Date(),
            clock: new ApiClock(),
            log: () => undefined,
          };
          try {
            await stream.read(unreachable, context)[Symbol.asyncIterator]().next();
          } catch (error) {
            assert.ok(!(error instanceof ConfigError), `${JSON.stringify(value)} was rejected: ${(error as Error).message}`);
          }
        }
      });
    }
  }
});
