import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsonArraySplitter, moveUndeclaredMembers, NdjsonSplitter, parseJsonLossless, TruncatedBodyError } from '../../src/core/json-text';

/** A small deterministic PRNG, so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const TRICKY_STRINGS = ['', 'plain', 'quote " inside', 'backslash \\', 'ends with backslash \\\\', '\\"', 'brackets [{]} , :', 'tab\tnewline\n', 'unicode é ✓ 🍉', '\u0001', '"}]'];

function randomValue(next: () => number, depth = 0): unknown {
  const kind = Math.floor(next() * (depth > 2 ? 5 : 7));
  switch (kind) {
    case 0:
      return TRICKY_STRINGS[Math.floor(next() * TRICKY_STRINGS.length)];
    case 1:
      return Math.floor((next() - 0.5) * 1e6);
    case 2:
      return (next() - 0.5) * 1e3;
    case 3:
      return [true, false, null][Math.floor(next() * 3)];
    case 4:
      return `s${Math.floor(next() * 1000)}`;
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, (_, i) => [`${TRICKY_STRINGS[i % TRICKY_STRINGS.length]}k${i}`, randomValue(next, depth + 1)]));
  }
}

/** JSON text with random whitespace between tokens (JSON.stringify with a random indent). */
const serialise = (value: unknown, next: () => number) => JSON.stringify(value, null, next() < 0.5 ? undefined : ' '.repeat(Math.floor(next() * 3)));

const splitAll = (chunks: string[]) => {
  const splitter = new JsonArraySplitter();
  const elements = chunks.flatMap((chunk) => splitter.push(chunk));
  splitter.end();
  return elements;
};

describe('JsonArraySplitter', () => {
  test('property: random arrays split at every boundary give the elements JSON.parse gives', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = random(seed);
      const array = Array.from({ length: Math.floor(next() * 6) }, () => randomValue(next));
      const text = ` ${serialise(array, next)}\n`;
      const expected = JSON.parse(text) as unknown[];
      for (let cut = 0; cut <= text.length; cut++) {
        const elements = splitAll([text.slice(0, cut), text.slice(cut)]);
        assert.deepEqual(elements.map((e) => JSON.parse(e)), expected, `seed ${seed}, cut at ${cut}`);
      }
      // And in many small random chunks, one character at a time included.
      const chunks: string[] = [];
      for (let i = 0; i < text.length; ) {
        const size = 1 + Math.floor(next() * 7);
        chunks.push(text.slice(i, i + size));
        i += size;
      }
      assert.deepEqual(splitAll(chunks).map((e) => JSON.parse(e)), expected, `seed ${seed}, small chunks`);
      assert.deepEqual(splitAll([...text]).map((e) => JSON.parse(e)), expected, `seed ${seed}, single characters`);
    }
  });

  test('keeps 64-bit integers as written', () => {
    assert.deepEqual(splitAll(['[{"IndvId": 5189870820212736123}, 9223372036854775807]']), ['{"IndvId": 5189870820212736123}', '9223372036854775807']);
  });

  test('a body cut short is a TruncatedBodyError; other damage is a SystemError', () => {
    assert.throws(() => splitAll(['[{"a":1},{"b"']), TruncatedBodyError);
    assert.throws(() => splitAll(['']), TruncatedBodyError);
    const malformed: [string, RegExp][] = [
      ['{"a":1}', /expected a JSON array/],
      ['x[1]', /expected a JSON array/],
      ['[1,,2]', /an empty array element/],
      ['[1,]', /an empty array element/],
      ['[1]}', /text after the array/],
      ['[1] [2]', /text after the array/],
      ['[1}', /a "}" closes the array/],
    ];
    for (const [text, message] of malformed) assert.throws(() => splitAll([text]), { name: 'SystemError', message }, text);
  });

  test('an empty array has no elements', () => {
    assert.deepEqual(splitAll(['  [', ' ]  ']), []);
  });
});

describe('NdjsonSplitter', () => {
  test('lines across chunks, blank lines skipped, a last line without newline kept', () => {
    const splitter = new NdjsonSplitter();
    const lines = [...splitter.push('{"a":1}\n{"b"'), ...splitter.push(':2}\n\n'), ...splitter.push('{"c":3}'), ...splitter.end()];
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});

describe('moveUndeclaredMembers', () => {
  const declared = new Set(['IndvId', 'EventType', 'PageUrl', 'custom_vars']);

  test('moves custom keys as text, digit for digit', () => {
    const event = '{"IndvId": 5189870820212736123, "user_plan_str":"pro", "EventType":"click", "evt_total_real": 12.50, "page_x": {"a":[1,2]}}';
    assert.equal(
      moveUndeclaredMembers(event, declared, 'custom_vars'),
      '{"IndvId": 5189870820212736123,"EventType":"click","custom_vars":{"user_plan_str":"pro","evt_total_real": 12.50,"page_x": {"a":[1,2]}}}',
    );
    assert.equal(moveUndeclaredMembers('{"EventType":"x"}', declared, 'custom_vars'), '{"EventType":"x"}');
    assert.equal(moveUndeclaredMembers(' { } ', declared, 'custom_vars'), '{}');
    // A key named like the target is moved too, so nothing is overwritten.
    assert.equal(moveUndeclaredMembers('{"custom_vars":1}', declared, 'custom_vars'), '{"custom_vars":{"custom_vars":1}}');
  });

  test('property: the result parses to the same members, partitioned', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const object = randomValue(next, 0);
      if (!object || typeof object !== 'object' || Array.isArray(object)) continue;
      const names = Object.keys(object);
      const keep = new Set(names.filter(() => next() < 0.5));
      const text = serialise(object, next);
      const result = JSON.parse(moveUndeclaredMembers(text, keep, 'custom_vars')) as Record<string, unknown>;
      const moved = Object.fromEntries(Object.entries(object).filter(([key]) => !keep.has(key)));
      const expected = { ...Object.fromEntries(Object.entries(object).filter(([key]) => keep.has(key))), ...(Object.keys(moved).length ? { custom_vars: moved } : {}) };
      assert.deepEqual(result, expected, `seed ${seed}: ${text}`);
    }
  });

  test('malformed objects are SystemErrors', () => {
    for (const text of ['[1]', '{"a":}', '{"a" 1}', '{a:1}', '{"a":1,}', '{"a":tru}', '{"a":1} x', '{"a":"\u0001"}', '{"a":[1,}']) {
      assert.throws(() => moveUndeclaredMembers(text, declared, 'custom_vars'), { name: 'SystemError' }, text);
    }
  });
});

describe('parseJsonLossless', () => {
  test('integers beyond 2^53 become strings with every digit; everything else as JSON.parse', () => {
    const text = '{"userId": 9223372036854775807, "small": 9007199254740991, "neg": -12345678901234567, "s": "12345678901234567890", "f": 0.12345678901234567, "e": 1e12345678901234567, "list": [18446744073709551615]}';
    assert.deepEqual(parseJsonLossless(text), {
      userId: '9223372036854775807',
      small: 9007199254740991,
      neg: '-12345678901234567',
      s: '12345678901234567890',
      f: 0.12345678901234567,
      e: Infinity,
      list: ['18446744073709551615'],
    });
    assert.deepEqual(parseJsonLossless('{"a":"x\\"12345678901234567890"}'), { a: 'x"12345678901234567890' });
  });
});
