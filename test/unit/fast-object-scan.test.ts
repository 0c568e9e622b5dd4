import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ObjectStreamShaper } from '../../src/json/object-shaper';
import { random, randomObject, serialise, TRICKY_STRINGS } from '../helpers/random-json';

type Format = 'array' | 'ndjson';

/** What one shaper makes of the chunks: the objects and repairs, or the error it threw. */
function outcome(fastPath: boolean, format: Format, declared: Set<string>, chunks: Buffer[], appended: string): { texts: string[]; repaired: number } | { error: string } {
  const shaper = new ObjectStreamShaper(format, declared, 'custom_vars', appended, Infinity, fastPath);
  const texts: string[] = [];
  let repaired = 0;
  try {
    for (const batch of [...chunks.map((chunk) => shaper.push(chunk)), shaper.end()]) {
      texts.push(...batch.texts());
      repaired += batch.repaired;
    }
    return { texts, repaired };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Cuts the bytes at random places (a byte at a time now and then). */
function cutRandomly(bytes: Buffer, next: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = next() < 0.2 ? 1 : 1 + Math.floor(next() * 300);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Flat objects as exports have them: the fast path's own ground (escapes, UTF-8, numbers of every form). */
function flatObject(next: () => number): Record<string, unknown> {
  const values = [...TRICKY_STRINGS, 'a\\u00e9\u2028', 'x'.repeat(40), 0, -0.5, 1e21, 123456789, true, false, null];
  const keys = ['IndvId', 'EventType', 'PageUrl', 'evt_x_str', 'custom_vars', 'é', `k${'y'.repeat(70)}`, 'user_plan_str', 'Event"Type'];
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 9) }, () => [keys[Math.floor(next() * keys.length)], values[Math.floor(next() * values.length)]]));
}

/** A random edit: a structural or awkward byte written over, inserted, or the text cut short. */
function damage(bytes: Buffer, next: () => number): Buffer {
  const awkward = [0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x20, 0x0a, 0x01, 0x00, 0x75, 0x31, 0x2d, 0x65, 0x74, 0xc3, 0xff];
  const at = Math.floor(next() * bytes.length);
  const byte = Buffer.from([awkward[Math.floor(next() * awkward.length)]]);
  const kind = next();
  if (kind < 0.4) return Buffer.concat([bytes.subarray(0, at), byte, bytes.subarray(at + 1)]);
  if (kind < 0.8) return Buffer.concat([bytes.subarray(0, at), byte, bytes.subarray(at)]);
  return bytes.subarray(0, at);
}

describe('WebAssembly fast path of the object shaper', () => {
  test('differential: the same objects, repairs and errors with and without it, over random, damaged and cut texts', () => {
    let compared = 0;
    let errors = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const next = random(seed);
      const objects = Array.from({ length: 1 + Math.floor(next() * 12) }, () => (next() < 0.7 ? flatObject(next) : randomObject(next)));
      const declared = new Set(['IndvId', 'EventType', 'PageUrl', 'é', 'custom_vars', `k${'y'.repeat(70)}`, 'Event"Type', ...Object.keys(objects[0]).filter(() => next() < 0.5)]);
      const appended = next() < 0.5 ? '"ExportBundleId":36028797018963972' : '';
      const texts: Record<Format, string> = { array: serialise(objects, next), ndjson: objects.map((o) => serialise(o, next).replace(/\n/g, ' ')).join('\n') };
      for (const format of ['array', 'ndjson'] as const) {
        for (let variant = 0; variant < 4; variant++) {
          const bytes = variant === 0 ? Buffer.from(texts[format]) : damage(Buffer.from(texts[format]), next);
          const chunks = cutRandomly(bytes, next);
          const fast = outcome(true, format, declared, chunks, appended);
          assert.deepEqual(fast, outcome(false, format, declared, chunks, appended), `seed ${seed}, ${format}, variant ${variant}: ${bytes.toString()}`);
          compared++;
          if ('error' in fast) errors++;
        }
      }
    }
    // Both kinds were compared in numbers: results and errors.
    assert.ok(errors > 500 && compared - errors > 1500, `${compared} compared, ${errors} errors`);
  });

  test('plain objects never reach the TypeScript path; a nested value, an escaped key, a raw control character each do, once', () => {
    const shaper = new ObjectStreamShaper('ndjson', new Set(['a', 'b']), 'custom_vars', '"x":1');
    const slow: number[] = [];
    const object = (shaper as unknown as { object: (bytes: Buffer, start: number) => number }).object.bind(shaper);
    (shaper as unknown as { object: typeof object }).object = (bytes, start) => (slow.push(start), object(bytes, start));
    const plain = Array.from({ length: 500 }, (_, i) => `{"a":${i},"c":"s\\"${i}","b":true}`);
    const lines = [...plain, '{"a":{"n":1}}', '{"a\\u0062":2}', '{"a":"tab\there"}', ...plain];
    const batch = shaper.push(Buffer.from(lines.join('\n')));
    const texts = [...batch.texts(), ...shaper.end().texts()];
    assert.equal(texts.length, 1003);
    assert.equal(texts[0], '{"a":0,"b":true,"custom_vars":{"c":"s\\"0"},"x":1}');
    assert.deepEqual(texts.slice(500, 503), ['{"a":{"n":1},"x":1}', '{"custom_vars":{"a\\u0062":2},"x":1}', '{"a":"tab\\there","x":1}']);
    assert.equal(slow.length, 3);
    assert.equal(batch.repaired, 1);
  });

  test('output larger than the input (small objects, long appended members) and objects of over 1,024 members come out whole', () => {
    const appended = `"note":"${'n'.repeat(500)}"`;
    // Declared and undeclared keys alternate: 1,500 runs of each.
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [i % 2 === 0 ? `k${i}` : `u${i}`, i]));
    const declared = new Set(Object.keys(many).filter((key) => key.startsWith('k')));
    const text = `[${'{},'.repeat(2000)}${JSON.stringify(many)}]`;
    const fast = outcome(true, 'array', declared, [Buffer.from(text)], appended);
    assert.deepEqual(fast, outcome(false, 'array', declared, [Buffer.from(text)], appended));
    assert.ok('texts' in fast && fast.texts.length === 2001 && fast.texts[0] === `{${appended}}`);
  });
});
