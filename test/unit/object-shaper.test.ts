import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TruncatedBodyError } from '../../src/json/text';
import { JsonBatch } from '../../src/protocol/json-batch';
import { ObjectStreamShaper } from '../../src/json/object-shaper';
import { random, randomObject, serialise } from '../helpers/random-json';

/** Whether two views start at the same byte of the same memory. */
const sameStart = (a: Uint8Array, b: Uint8Array): boolean => a.buffer === b.buffer && a.byteOffset === b.byteOffset;
/** Whether two views share any byte of memory. */
const overlap = (a: Uint8Array, b: Uint8Array): boolean => a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;

/** What the shaper must give for one object: declared members kept, the others under custom_vars. */
function partition(object: Record<string, unknown>, declared: Set<string>): Record<string, unknown> {
  const kept = Object.fromEntries(Object.entries(object).filter(([key]) => declared.has(key) && key !== 'custom_vars'));
  const moved = Object.fromEntries(Object.entries(object).filter(([key]) => !declared.has(key) || key === 'custom_vars'));
  return Object.keys(moved).length > 0 ? { ...kept, custom_vars: moved } : kept;
}

/** Shapes the chunks (texts, or bytes to cut anywhere, inside a UTF-8 character too). */
const shapeAll = (format: 'array' | 'ndjson', declared: Set<string>, chunks: (string | Buffer)[], appended = '') => {
  const shaper = new ObjectStreamShaper(format, declared, 'custom_vars', appended);
  const objects = chunks.flatMap((chunk) => shaper.push(Buffer.from(chunk)).texts());
  return [...objects, ...shaper.end().texts()];
};

describe('ObjectStreamShaper (bytes)', () => {
  test('property: random objects as an array and as NDJSON, split at every boundary, give what JSON.parse gives', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = random(seed);
      const objects = Array.from({ length: Math.floor(next() * 5) }, () => randomObject(next));
      const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
      const declared = new Set(keys.filter(() => next() < 0.5));
      // Half the seeds add members to every object, as the legacy events stream does.
      const added = seed % 2 === 0 ? { ExportBundleId: Number('36028797018963972'), ExportBundleStop: seed } : {};
      const appended = JSON.stringify(added).slice(1, -1);
      const expected = objects.map((o) => ({ ...partition(o, declared), ...added }));
      const texts = { array: ` ${serialise(objects, next)}\n`, ndjson: objects.map((o) => JSON.stringify(o)).join('\n') + (next() < 0.5 ? '\n' : '') };
      for (const format of ['array', 'ndjson'] as const) {
        const bytes = Buffer.from(texts[format]);
        for (let cut = 0; cut <= bytes.length; cut++) {
          const shaped = shapeAll(format, declared, [bytes.subarray(0, cut), bytes.subarray(cut)], appended);
          assert.deepEqual(
            shaped.map((e) => JSON.parse(e)),
            expected,
            `seed ${seed}, ${format}, cut at byte ${cut}`,
          );
        }
        const singleBytes = [...bytes].map((byte) => Buffer.from([byte]));
        assert.deepEqual(
          shapeAll(format, declared, singleBytes, appended).map((e) => JSON.parse(e)),
          expected,
          `seed ${seed}, ${format}, single bytes`,
        );
      }
    }
  });

  const declared = new Set(['IndvId', 'EventType', 'PageUrl', 'custom_vars']);

  test('moves custom keys as bytes, digit for digit, neighbours as one run; an object with nothing to move passes through unchanged', () => {
    const event = '{"IndvId": 5189870820212736123, "user_plan_str":"pro", "EventType":"click", "evt_total_real": 12.50, "page_x": {"a":[1,2]}}';
    assert.deepEqual(shapeAll('array', declared, [`[${event},{"EventType":"x"}, { } ,{"custom_vars":1}]`]), [
      '{"IndvId": 5189870820212736123,"EventType":"click","custom_vars":{"user_plan_str":"pro","evt_total_real": 12.50, "page_x": {"a":[1,2]}}}',
      '{"EventType":"x"}',
      '{ }',
      // A key named like the target is moved too, so nothing is overwritten.
      '{"custom_vars":{"custom_vars":1}}',
    ]);
    assert.deepEqual(shapeAll('array', declared, ['  [', ' ]  ']), []);
    // Keys spelled with escapes, long keys and non-ASCII keys are found too.
    const long = `k${'x'.repeat(70)}`;
    const special = new Set(['EventType', long, 'évènement']);
    assert.deepEqual(shapeAll('ndjson', special, [`{"Event\\u0054ype":1,"${long}":2,"évènement":3,"other":4}`]), [
      `{"Event\\u0054ype":1,"${long}":2,"évènement":3,"custom_vars":{"other":4}}`,
    ]);
  });

  test('appended members go last: after kept members, after custom_vars, alone in an empty object', () => {
    const appended = '"ExportBundleId":36028797018963972,"ExportBundleStop":1700003600';
    assert.deepEqual(shapeAll('array', declared, ['[{"EventType":"x" },{"IndvId":1,"page_x":2},{ }]'], appended), [
      `{"EventType":"x" ,${appended}}`,
      `{"IndvId":1,"custom_vars":{"page_x":2},${appended}}`,
      `{ ${appended}}`,
    ]);
  });

  test('an object of megabytes fed in 1 KB chunks comes out whole, rescanned only each time it doubles', () => {
    const big = { IndvId: 5189870820212736, EventType: 'x'.repeat(2_000_000), page_note: 'é'.repeat(1000) };
    const bytes = Buffer.from(`[${JSON.stringify(big)},{"EventType":"y"}]`);
    const shaper = new ObjectStreamShaper('array', declared, 'custom_vars');
    let scans = 0;
    const scan = (shaper as unknown as { scan: () => unknown }).scan.bind(shaper);
    (shaper as unknown as { scan: () => unknown }).scan = () => (scans++, scan());
    const shaped: string[] = [];
    for (let at = 0; at < bytes.length; at += 1000) shaped.push(...shaper.push(bytes.subarray(at, at + 1000)).texts());
    shaped.push(...shaper.end().texts());
    assert.deepEqual(
      shaped.map((e) => JSON.parse(e)),
      [partition(big, declared), { EventType: 'y' }],
    );
    // 2,003 chunks; a scan at each would go over the unfinished object 2,000 times (quadratic).
    assert.ok(scans <= 16, `${scans} scans`);
  });

  test('scalars: every JSON number and literal passes as written, anything else is refused', () => {
    const valid = ['0', '-0', '7', '-12', '12.5', '0.001', '1e5', '1E+5', '-1.0e-2', '123456789012345678901234567890', 'true', 'false', 'null'];
    const text = `[{${valid.map((v, i) => `"k${i}":${v}`).join(',')}}]`;
    assert.deepEqual(shapeAll('array', new Set(valid.map((_, i) => `k${i}`)), [text]), [text.slice(1, -1)]);
    for (const bad of ['01', '1.', '.5', '-', '1e', '1e+', '+1', '1.2.3', 'tru', 'nul', 'True', '0x1', 'NaN', '-Infinity', '1-2']) {
      assert.throws(() => shapeAll('array', declared, [`[{"a":${bad}}]`]), { name: 'SystemError', message: /expected a value/ }, bad);
    }
  });

  test('a body cut short is a TruncatedBodyError; other damage is a SystemError', () => {
    for (const text of ['[{"a":1},{"b"', '', '[', '[{"a":1}', '[{"a":1},']) assert.throws(() => shapeAll('array', declared, [text]), TruncatedBodyError, text);
    assert.throws(() => shapeAll('ndjson', declared, ['{"a":1}\n{"b":']), TruncatedBodyError);
    const malformed: [string, RegExp][] = [
      ['{"a":1}', /expected a JSON array/],
      ['x[1]', /expected a JSON array/],
      ['[1]', /expected an object/],
      ['[{"a":1},,{}]', /expected an object/],
      ['[{"a":1},]', /expected an object/],
      ['[{"a":1}] [2]', /text after the array/],
      ['[{"a":1}}', /expected "," or "\]"/],
      ['[{"a":}]', /expected a value/],
      ['[{"a" 1}]', /expected ":"/],
      ['[{a:1}]', /expected a key/],
      ['[{"a":1,}]', /expected a key/],
      ['[{"a":tru}]', /expected a value/],
      ['[{"a":01}]', /expected a value/],
      ['[{"a":[1,}]', /a malformed nested value/],
      ['[{"bad\\x":1}]', /a malformed key/],
    ];
    for (const [text, message] of malformed) assert.throws(() => shapeAll('array', declared, [text]), { name: 'SystemError', message }, text);
  });

  test('a batch is made in the buffer of one its reader released, never in one still held', () => {
    const shaper = new ObjectStreamShaper('ndjson', new Set(['id']), 'custom_vars');
    const chunk = (from: number) => Buffer.from(Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: from + i, extra: 'x'.repeat(40) })).join('\n') + '\n');
    const held = shaper.push(chunk(0));
    const heldTexts = held.texts();
    const released = shaper.push(chunk(50));
    released.release();
    const next = shaper.push(chunk(100));
    const after = shaper.push(chunk(150));
    // Node 24 carves buffers of up to 32 KiB out of one shared pool: the memory a batch was made in is
    // its ArrayBuffer and the range of it the batch spans, not the ArrayBuffer alone.
    assert.ok(sameStart(next.bytes, released.bytes), 'a released buffer was not used again');
    assert.ok(!overlap(after.bytes, held.bytes), 'a batch was made in the memory of one still held');
    assert.ok(!overlap(after.bytes, next.bytes), 'two batches share memory');
    assert.deepEqual(held.texts(), heldTexts, 'a batch still held was written into');
    assert.deepEqual(
      next.texts().map((text) => JSON.parse(text).id),
      Array.from({ length: 50 }, (_, i) => 100 + i),
    );
    assert.deepEqual(
      after.texts().map((text) => JSON.parse(text).id),
      Array.from({ length: 50 }, (_, i) => 150 + i),
    );
  });
});

describe('JsonBatch', () => {
  test('of, count, drop and texts agree; multi-byte characters count as bytes', () => {
    const batch = JsonBatch.of(['{"a":"é"}', '{"b":"🍉"}', '{}']);
    assert.equal(batch.count, 3);
    assert.deepEqual(batch.ends, [10, 22, 24]);
    assert.deepEqual(batch.texts(), ['{"a":"é"}', '{"b":"🍉"}', '{}']);
    assert.deepEqual(batch.drop(1).texts(), ['{"b":"🍉"}', '{}']);
    assert.deepEqual(batch.drop(0), batch);
    assert.equal(batch.drop(3).count, 0);
    assert.equal(batch.drop(7).count, 0);
  });
});
