// Time against the connector: a server that drips one byte at a time, a destination that stops
// reading, a cancel while nobody reads, a host that refuses connections, and an API whose clock is
// behind the connector's. Nothing hangs, nothing is downloaded twice for the destination's
// slowness, and no state lands in the API's future.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { assertStatesCountTheirRecords, catalogFor, errorsOf, MAIN, recordsOf, runConnector, statesOf, statusesOf, writeTemp, type Message } from '../helpers/connector';
import { assertProtocolLine } from '../helpers/shared';
import { FullstoryMock } from '../mocks/fullstory';
import { PersistIqMock } from '../mocks/persistiq';
import { closedPort } from '../mocks/server';
import { FAULT_TUNING } from './targets';

const logsOf = (messages: Message[]) => messages.filter((m) => m.type === 'LOG').map((m) => `${m.log.level} ${m.log.message}`);

/** A 200 that sends its body one byte every `everyMs` (each byte resets an idle timer; the whole never comes). */
const drip =
  (body: string, everyMs = 100) =>
  (res: ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
    let at = 0;
    const timer = setInterval(() => (at < body.length ? res.write(body[at++]) : (clearInterval(timer), res.end())), everyMs);
    res.on('close', () => clearInterval(timer));
  };

/** Runs `read` with stdout under the test's control; resolves with every byte and the exit. */
function readWithStdout(args: { config: unknown; catalog: unknown }, control: (stdout: NodeJS.ReadableStream, kill: (signal: NodeJS.Signals) => void) => void) {
  const child = spawn(process.execPath, [MAIN, 'read', '--config', writeTemp('config.json', args.config), '--catalog', writeTemp('catalog.json', args.catalog)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.resume();
  // A connector that ignores the signal is killed 15 s later (the test then fails on the exit time).
  let killer: NodeJS.Timeout | undefined;
  control(child.stdout, (signal) => {
    child.kill(signal);
    killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; exitedAt: number }>((resolve) => {
    let exitedAt = 0;
    child.on('exit', () => {
      exitedAt = Date.now();
      clearTimeout(killer);
      child.stdout.resume();
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(chunks).toString('utf8'), exitedAt }));
  });
}

describe('a server that sends one byte at a time', () => {
  test('read: each attempt ends at request_deadline_seconds; the stream fails (transient_error) instead of hanging', async () => {
    const mock = await new PersistIqMock({ rateLimit: false }).start();
    try {
      const page = JSON.stringify({ status: 'success', has_more: false, next_page: null, tags: mock.data.tags });
      mock.inject({ path: '/v1/tags', kind: 'handle', handle: drip(page), times: 10 });
      const config = mock.connectorConfig({ ...FAULT_TUNING, max_retries: 1, request_deadline_seconds: 1 });
      const result = await runConnector('read', { config, catalog: catalogFor({ tags: 'full_refresh' }), timeoutMs: 20_000 });
      assert.equal(result.code, 1);
      assert.deepEqual(
        errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
        [['transient_error', 'Stream "tags": PersistIQ could not be reached: GET /v1/tags gave no complete answer within 1 s (request_deadline_seconds) (2 attempts)']],
      );
    } finally {
      await mock.close();
    }
  });

  test('check: FAILED within seconds, naming the deadline', async () => {
    const mock = await new PersistIqMock({ rateLimit: false }).start();
    try {
      mock.inject({ path: '/v1/users', kind: 'handle', handle: drip(JSON.stringify({ status: 'success', users: [] })), times: 10 });
      const started = Date.now();
      const result = await runConnector('check', { config: mock.connectorConfig({ ...FAULT_TUNING, request_deadline_seconds: 1 }), timeoutMs: 20_000 });
      const status = result.messages.find((m) => m.type === 'CONNECTION_STATUS')?.connectionStatus;
      assert.equal(status?.status, 'FAILED');
      assert.match(status?.message, /gave no complete answer within 1 s \(request_deadline_seconds\) \(3 attempts\)$/);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await mock.close();
    }
  });
});

describe('a destination that stops reading for a while', () => {
  test("the pauses are not the server's silence: each bundle downloaded once, every event delivered once", async () => {
    // Bundles of a few MB, so each is still arriving when the destination pauses.
    const mock = await new FullstoryMock({ bundles: 2, eventsPerBundle: 4000 }).start();
    try {
      const config = mock.connectorConfig({ start_date: undefined, request_timeout_seconds: 1 });
      let pauses = 0;
      const result = await readWithStdout({ config, catalog: catalogFor({ events: 'incremental' }) }, (stdout) => {
        // Pauses of 1.6 s, each longer than the idle timeout, in the middle of the downloads.
        stdout.on('data', () => {
          if (pauses >= 4) return;
          pauses++;
          stdout.pause();
          setTimeout(() => stdout.resume(), 1600);
        });
      });
      const messages = result.stdout.split('\n').filter(Boolean).map(assertProtocolLine) as Message[];
      assert.equal(result.code, 0);
      assert.equal(pauses, 4);
      assert.deepEqual(
        logsOf(messages).filter((line) => /broke off/.test(line)),
        [],
      );
      assert.equal(
        recordsOf(messages, 'events').length,
        mock.bundles.reduce((sum, b) => sum + b.events.length, 0),
      );
      assert.equal(mock.downloads, 2);
    } finally {
      await mock.close();
    }
  });

  test('SIGTERM while nobody reads stdout: exit 143 within 10 s, and what was written has no STATE ahead of its records', async () => {
    const mock = await new FullstoryMock({ bundles: 6, eventsPerBundle: 600 }).start();
    try {
      const config = mock.connectorConfig({ start_date: undefined });
      let signalledAt = 0;
      const result = await readWithStdout({ config, catalog: catalogFor({ events: 'incremental' }) }, (stdout, kill) => {
        stdout.pause();
        setTimeout(() => {
          signalledAt = Date.now();
          kill('SIGTERM');
        }, 2000);
      });
      assert.equal(result.code, 143);
      assert.ok(result.exitedAt - signalledAt < 10_000, `exited ${result.exitedAt - signalledAt} ms after SIGTERM`);
      const lines = result.stdout.split('\n');
      // A cancelled write may end mid-line; every complete line is a message.
      const messages = lines.slice(0, -1).map(assertProtocolLine) as Message[];
      assertStatesCountTheirRecords(messages);
      assert.ok(recordsOf(messages, 'events').length > 0);
    } finally {
      await mock.close();
    }
  });
});

describe('a host that refuses connections', () => {
  test('the sync ends after the first stream: one ERROR trace after 2 retries (it never answered), the other streams INCOMPLETE without their own', async () => {
    const port = await closedPort();
    const mock = await new PersistIqMock({ rateLimit: false }).start();
    await mock.close();
    const streams = ['tags', 'users', 'campaigns', 'dnc_domains'];
    const config = mock.connectorConfig({ ...FAULT_TUNING, base_url: `http://127.0.0.1:${port}/v1` });
    const result = await runConnector('read', { config, catalog: catalogFor(Object.fromEntries(streams.map((s) => [s, 'full_refresh']))) });
    assert.equal(result.code, 1);
    const errors = errorsOf(result.messages);
    assert.deepEqual(
      errors.map((e) => [e.failure_type, e.stream_descriptor?.name]),
      [['transient_error', 'tags']],
    );
    assert.match(errors[0].message, /^Stream "tags": PersistIQ could not be reached: GET \/v1\/tags ECONNREFUSED .* \(3 attempts\); check api\.base_url's host /);
    for (const stream of streams.slice(1)) assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'INCOMPLETE'], stream);
    assert.equal(logsOf(result.messages).filter((line) => /retry \d\/2 in [\d.]+ s \(the host has not answered once yet\)$/.test(line)).length, 2);
  });
});

describe("an API whose clock is an hour behind the connector's", () => {
  const HOUR = 3_600_000;

  test("PersistIQ leads: the state is the API's now, so a lead updated right after the sync is read by the next one", async () => {
    const mock = await new PersistIqMock({ rateLimit: false, leadsHaveUpdatedAt: false }).start();
    mock.clockSkewMs = -HOUR;
    try {
      const catalog = catalogFor({ leads: 'incremental' });
      const first = await runConnector('read', { config: mock.connectorConfig(), catalog });
      assert.equal(first.code, 0);
      const state = statesOf(first.messages, 'leads').at(-1)!;
      assert.ok(Date.parse(state.stream.stream_state.updated_at) <= mock.now(), `state ${state.stream.stream_state.updated_at} is in the API's future`);
      mock.touchLeads([7], mock.now());
      const second = await runConnector('read', { config: mock.connectorConfig(), catalog, state: [state] });
      assert.deepEqual(recordsOf(second.messages, 'leads'), [mock.data.leads[7]]);
    } finally {
      await mock.close();
    }
  });

  test("Fullstory segment exports end at the API's now, not in its future", async () => {
    const mock = await new FullstoryMock().start();
    mock.clockSkewMs = -HOUR;
    try {
      const result = await runConnector('read', { config: mock.connectorConfig({ segment_id: 'everyone' }), catalog: catalogFor({ segment_individuals: 'incremental' }) });
      assert.equal(result.code, 0, JSON.stringify(errorsOf(result.messages)));
      const end = String((mock.exportRequests[0].timeRange as { end: string }).end);
      assert.ok(Date.parse(end) <= mock.now(), `the export ends at ${end}, after the API's now`);
      assert.deepEqual(statesOf(result.messages, 'segment_individuals').at(-1)!.stream.stream_state, { LastEventStart: end });
    } finally {
      await mock.close();
    }
  });

  test("a record dated in 2100 is written but does not move the state past the API's now; one WARN", async () => {
    const mock = await new PersistIqMock({ rateLimit: false }).start();
    try {
      mock.touchLeads([3], Date.parse('2100-01-01T00:00:00Z'));
      const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ leads: 'incremental' }) });
      assert.equal(result.code, 0);
      assert.equal(recordsOf(result.messages, 'leads').length, mock.data.leads.length);
      const state = statesOf(result.messages, 'leads').at(-1)!.stream.stream_state;
      const latestReal = Math.max(...mock.data.leads.filter((_, i) => i !== 3).map((lead) => Date.parse(String(lead.updated_at))));
      assert.deepEqual(state, { updated_at: new Date(latestReal).toISOString() });
      assert.deepEqual(
        logsOf(result.messages).filter((line) => /dated after/.test(line)),
        [
          `WARN Stream "leads": 1 record(s) dated after the API's current time (the latest 2100-01-01T00:00:00.000Z) were written but do not move the state, which stays at or before now`,
        ],
      );
    } finally {
      await mock.close();
    }
  });
});
