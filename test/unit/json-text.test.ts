import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJsonLossless } from '../../src/json/text';

describe('parseJsonLossless', () => {
  test('integers beyond 2^53 become strings with every digit; everything else as JSON.parse', () => {
    const text =
      '{"userId": 9223372036854775807, "small": 9007199254740991, "neg": -12345678901234567, "s": "12345678901234567890", "f": 0.12345678901234567, "e": 1e12345678901234567, "list": [18446744073709551615]}';
    assert.deepEqual(parseJsonLossless(text), {
      userId: '9223372036854775807',
      small: 9007199254740991,
      neg: '-12345678901234567',
      s: '12345678901234567890',
      // What JSON.parse makes of that text: the nearest double.
      f: Number('0.12345678901234567'),
      e: Infinity,
      list: ['18446744073709551615'],
    });
    assert.deepEqual(parseJsonLossless('{"a":"x\\"12345678901234567890"}'), { a: 'x"12345678901234567890' });
  });
});

describe('parseJsonLossless on large strings', () => {
  test('an 8 MB string beside a 16-digit integer parses (a regular expression here exhausted the stack)', () => {
    const long = 'ab'.repeat(4 * 1024 * 1024) + 'a\\"b';
    const text = `{"id": 1234567890123456789, "text": "${long}", "n": 1234567890123456}`;
    const parsed = parseJsonLossless(text) as { id: string; text: string; n: number };
    assert.equal(parsed.id, '1234567890123456789');
    assert.equal(parsed.n, 1234567890123456);
    assert.equal(parsed.text.length, 8 * 1024 * 1024 + 3);
  });
});
