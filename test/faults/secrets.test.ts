// Secrets against hostile answers: a server that echoes the key in an error body (at any offset, in any
// URL encoding), a storage host that redirects to a signed URL, and a key of one letter. No part of a
// secret may be printed, and masking may never corrupt a protocol message.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { catalogFor, errorsOf, MAIN, runConnector, writeTemp, type Message } from '../helpers/connector';
import { FullstoryMock } from '../mocks/fullstory';
import { PersistIqMock } from '../mocks/persistiq';

const KEY = 'piq-Leaky+Key/With=Chars-0123456789abcdef';

/** Every piece of the key of 6 characters or more that the text shows, raw or percent-encoded. */
function pieces(text: string, secret: string): string[] {
  const found = new Set<string>();
  const decoded = decodeURIComponent(text.replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
  for (let length = 6; length <= secret.length; length++) {
    for (let start = 0; start + length <= secret.length; start++) {
      const piece = secret.slice(start, start + length);
      if (text.includes(piece) || decoded.includes(piece)) found.add(piece);
    }
  }
  return [...found].filter((piece) => ![...found].some((other) => other !== piece && other.includes(piece)));
}

describe('secrets in hostile answers', () => {
  let mock: PersistIqMock;
  before(async () => {
    mock = await new PersistIqMock({ apiKey: KEY, rateLimit: false }).start();
  });
  after(() => mock.close());
  const config = () => mock.connectorConfig({ max_retries: 0 });

  test('a text error body that echoes the key past the 300 characters shown: masked before it is cut', async () => {
    // The key starts at character 290 and runs past 300, where the message is cut.
    const page = `error: ${'x'.repeat(273)} your key ${KEY} is not allowed here`;
    mock.inject({ path: '/v1/tags', kind: 'status', status: 400, body: page, headers: { 'Content-Type': 'text/plain' } });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    const [error] = errorsOf(result.messages);
    assert.match(error.message, /^Stream "tags": PersistIQ returned HTTP 400 for GET \/v1\/tags: error: x+ your key \*+/);
    assert.deepEqual(pieces(result.stdout + result.stderr, KEY), []);
  });

  test('an HTML error page that echoes the key within the 200 characters kept of it: masked there too', async () => {
    const page = `<html><body>${'x'.repeat(150)} your key ${KEY} is not allowed here</body></html>`;
    mock.inject({ path: '/v1/tags', kind: 'status', status: 400, body: page, headers: { 'Content-Type': 'text/html' } });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    const [error] = errorsOf(result.messages);
    assert.match(error.message, /^Stream "tags": .* answered GET \/v1\/tags with an HTML page, not PersistIQ's JSON \(HTTP 400\)\. Check api\.base_url/);
    assert.match(error.internal_message, /^body starts with: <html><body>x+ your key \*+/);
    assert.deepEqual(pieces(result.stdout + result.stderr, KEY), []);
  });

  test('the key echoed URL-encoded in lower case (%2b %2f %3d), and in a JSON error message: masked', async () => {
    const lower = encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
    mock.inject({
      path: '/v1/tags',
      kind: 'status',
      status: 400,
      body: { status: 'error', error: { reason: 'bad_request', message: `request /v1/tags?api_key=${lower} refused` } },
    });
    const result = await runConnector('read', { config: config(), catalog: catalogFor({ tags: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.match(errorsOf(result.messages)[0].message, /request \/v1\/tags\?api_key=\*{10} refused/);
    assert.deepEqual(pieces(result.stdout + result.stderr, KEY), []);
  });

  test('a one-letter key ("E") leaves every message type, status and state intact', async () => {
    // Spawned directly: the helper's leak check would find "E" in any output.
    const file = writeTemp('config.json', { api: { ...config().api, api_key: 'E' } });
    const child = spawn(process.execPath, [MAIN, 'check', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    await new Promise((resolve) => child.on('close', resolve));
    const messages = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Message);
    assert.deepEqual(
      messages.map((m) => m.type),
      ['TRACE', 'CONNECTION_STATUS'],
    );
    assert.equal(messages[1].connectionStatus.status, 'FAILED');
    assert.match(messages[1].connectionStatus.message, /^PersistIQ rejected the API key \(HTTP 401\)/);
    assert.equal(messages[0].trace.error.failure_type, 'config_error');
  });
});

describe('a pre-signed URL in a redirect', () => {
  let mock: FullstoryMock;
  before(async () => {
    mock = await new FullstoryMock().start();
  });
  after(() => mock.close());

  test('a 307 from the storage host to another signed URL: its query is never printed', async () => {
    const signed = 'https://storage.example.com/exports/x.ndjson.gz?X-Goog-Signature=TOPSECRETSIGNATURE&X-Goog-Date=20261130T000000Z';
    mock.storage.inject({ path: /^\/exports\//, kind: 'status', status: 307, times: 20, headers: { Location: signed }, body: '' });
    const result = await runConnector('read', { config: mock.connectorConfig({ max_retries: 1 }), catalog: catalogFor({ segment_individuals: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.match(
      errorsOf(result.messages)[0].message,
      /redirected GET http:\/\/127\.0\.0\.1:\d+\/exports\/\S+ \(HTTP 307\) to https:\/\/storage\.example\.com\/exports\/x\.ndjson\.gz\?…; check base_url$/,
    );
    assert.ok(!(result.stdout + result.stderr).includes('TOPSECRET'));
  });
});
