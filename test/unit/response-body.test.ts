import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBody, UndecodableBodyError } from '../../src/http/response-body';

test('a Content-Encoding named like a member of every object (constructor, toString) is an unknown coding, refused by name', () => {
  for (const coding of ['constructor', 'toString', '__proto__']) {
    assert.throws(
      () => decodeBody(Buffer.from('{"a":1}'), 1024, coding),
      (error: unknown) =>
        error instanceof UndecodableBodyError && error.message === `it is encoded as "${coding.toLowerCase()}", which the connector cannot decode (it asks for gzip)`,
      coding,
    );
  }
});
