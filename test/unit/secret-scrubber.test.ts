import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logMessage } from '../../src/protocol/messages';
import { SecretScrubber } from '../../src/protocol/output';

describe('SecretScrubber', () => {
  test('masks a longer secret whole even when it contains a shorter one', () => {
    const scrubber = new SecretScrubber(['abc', 'abcdef']);
    assert.equal(scrubber.scrubText('x abcdef y abc'), 'x ********** y **********');
  });

  test('ignores empty secrets and leaves messages unchanged without secrets', () => {
    const message = logMessage('INFO', 'text');
    assert.equal(new SecretScrubber(['']).scrubMessage(message), message);
    assert.deepEqual(new SecretScrubber(['text']).scrubMessage(message), logMessage('INFO', '**********'));
  });

  test('a key is recognised however a URL re-encodes it: %2B %2F %3D in either case, base64 too', () => {
    const key = 'ab+c/d=e';
    const scrubber = new SecretScrubber([key]);
    for (const form of ['ab+c/d=e', 'ab%2Bc%2Fd%3De', 'ab%2bc%2fd%3de', 'ab%2Bc/d%3de', Buffer.from(key).toString('base64')]) {
      assert.equal(scrubber.scrubText(`<${form}>`), '<**********>', form);
    }
  });
});
