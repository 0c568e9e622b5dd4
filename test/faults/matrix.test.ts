// The fault matrix: every fault switch of the mocks against every API. Each case asserts the exact
// records delivered, the STATE sequence, the TRACE errors, the exit code, and that no retry waited
// longer than the cap (max_wait_seconds: 5).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { catalogFor, errorsOf, lastStates, runConnector, statesOf, statusesOf, type Message, type RunResult } from '../helpers/connector';
import { losslessMessages, recordsIn } from '../helpers/fullstory';
import type { Fault } from '../mocks/server';
import { FULL_REFRESH_COMPLETE } from '../../src/protocol/messages';
import { FAULT_TUNING, TARGETS, type TargetMock } from './targets';

const CAP_SECONDS = 5;

/** Every retry wait the connector announced, per request; each and their sum stay within the cap. */
function assertWaitsWithinCap(result: RunResult): number {
  const perRequest = new Map<string, number>();
  let retries = 0;
  for (const m of result.messages) {
    const match = m.type === 'LOG' ? /^\w+: (.+) failed \(.+\); retry \d+\/\d+ in ([\d.]+) s$/.exec(m.log.message) : null;
    if (!match) continue;
    retries++;
    const wait = Number(match[2]);
    assert.ok(wait <= CAP_SECONDS, `a retry waited ${wait} s`);
    perRequest.set(match[1], (perRequest.get(match[1]) ?? 0) + wait);
  }
  for (const [request, total] of perRequest) assert.ok(total <= CAP_SECONDS, `${request} waited ${total} s in all`);
  return retries;
}

for (const target of TARGETS) {
  describe(`fault matrix: ${target.api}`, () => {
    let mock: TargetMock;
    const config = (overrides: Record<string, unknown> = {}) => mock.connectorConfig({ ...FAULT_TUNING, ...overrides });
    const on = (fault: Omit<Fault, 'path' | 'query'> & Partial<Fault>) => ({ path: target.path, query: target.secondPage, ...fault }) as Fault;
    const catalog = () => catalogFor({ [target.stream]: target.mode, [target.bystander]: 'full_refresh' });
    const read = async (overrides: Record<string, unknown> = {}, state?: unknown) => {
      const result = await runConnector('read', { config: config(overrides), catalog: catalog(), state });
      return { result, messages: losslessMessages(result.stdout) };
    };
    /** `rateLimitedWaits`: each wait on a 429 shows as RUNNING with reason RATE_LIMITED, then RUNNING. */
    const expectAll = (messages: Message[], rateLimitedWaits = 0) => {
      assert.deepEqual(recordsIn(messages, target.stream), target.expected(mock, target.stream));
      assert.deepEqual(recordsIn(messages, target.bystander), target.expected(mock, target.bystander));
      const waits = Array.from({ length: rateLimitedWaits }, () => ['RUNNING', 'RUNNING']).flat();
      assert.deepEqual(statusesOf(messages, target.stream), ['STARTED', 'RUNNING', ...waits, 'COMPLETE']);
    };
    /** The stream failed with one ERROR trace; the bystander completed; the records before the bad page were delivered. */
    const expectFailed = (result: RunResult, messages: Message[], failureType: string, message: string, delivered = target.firstPageSize) => {
      assert.equal(result.code, 1);
      assert.deepEqual(
        errorsOf(messages).map((e) => [e.failure_type, e.message, e.stream_descriptor?.name]),
        [[failureType, `Stream "${target.stream}": ${message}`, target.stream]],
      );
      assert.deepEqual(statusesOf(messages, target.stream), ['STARTED', 'RUNNING', 'INCOMPLETE']);
      assert.deepEqual(statusesOf(messages, target.bystander), ['STARTED', 'RUNNING', 'COMPLETE']);
      assert.deepEqual(recordsIn(messages, target.stream), target.expected(mock, target.stream).slice(0, delivered));
      // A full refresh checkpoints the page it read (a retried attempt resumes at the next); an
      // incremental stream of unsorted pages only at its end.
      assert.deepEqual(
        statesOf(messages, target.stream).map((s) => [s.stream.stream_state, s.sourceStats.recordCount]),
        target.mode === 'full_refresh' ? [[target.secondPage, target.firstPageSize]] : [],
      );
    };
    /** The stream's STATEs in a run that read it whole: the page after the first and the end, or its cursor at the end. */
    const expectStatesOfWhole = (messages: Message[]) => {
      const states = statesOf(messages, target.stream).map((s) => s.stream.stream_state);
      if (target.mode === 'full_refresh') assert.deepEqual(states, [target.secondPage, FULL_REFRESH_COMPLETE]);
      else assert.equal(states.length, 1);
    };

    before(async () => {
      mock = await target.start();
    });
    beforeEach(() => {
      mock.faults.length = 0;
    });
    after(() => mock.close());

    test('429 with Retry-After in seconds and as an HTTP-date: waits as told, exact records', async () => {
      mock.inject(on({ kind: 'status', status: 429, body: target.tooManyRequests, headers: { 'Retry-After': '1' } }));
      mock.inject({ path: target.path, kind: 'status', status: 429, body: target.tooManyRequests, headers: { 'Retry-After': new Date(Date.now() + 2000).toUTCString() } });
      const started = Date.now();
      const { result, messages } = await read();
      assert.equal(result.code, 0);
      expectAll(messages, 2);
      assert.ok(Date.now() - started >= 1000);
      assert.equal(assertWaitsWithinCap(result), 2);
    });

    test('a 500/502/503 burst shorter than the retry budget: exact records, one STATE', async () => {
      mock.inject(on({ kind: 'status', status: 500 }), on({ kind: 'status', status: 502 }), on({ kind: 'status', status: 503 }));
      const { result, messages } = await read();
      assert.equal(result.code, 0);
      expectAll(messages);
      expectStatesOfWhole(messages);
      assert.equal(assertWaitsWithinCap(result), 3);
    });

    test("a 504 burst longer than the budget: INCOMPLETE + transient_error, bystander completes, exit 1; the retried attempt, given the failed one's STATEs, reads the rest", async () => {
      mock.inject(on({ kind: 'status', status: 504, times: 20 }));
      const { result, messages } = await read();
      expectFailed(result, messages, 'transient_error', `${target.title} failed 4 times on ${target.request} (last: HTTP 504): ${target.injectedDetail}`);
      assertWaitsWithinCap(result);
      mock.faults.length = 0;
      const next = await read({}, lastStates(messages));
      assert.equal(next.result.code, 0);
      // A full refresh goes on from the page that failed; an incremental stream of unsorted pages,
      // never checkpointed, is read whole again.
      const all = target.expected(mock, target.stream);
      assert.deepEqual(recordsIn(next.messages, target.stream), target.mode === 'full_refresh' ? all.slice(target.firstPageSize) : all);
      assert.deepEqual(statusesOf(next.messages, target.stream), ['STARTED', 'RUNNING', 'COMPLETE']);
      // The bystander, read whole by the failed attempt, is not read again if its state says so.
      const bystanderDone = statesOf(messages, target.bystander).at(-1)!.stream.stream_state;
      const readWhole = JSON.stringify(bystanderDone) === JSON.stringify(FULL_REFRESH_COMPLETE);
      assert.deepEqual(recordsIn(next.messages, target.bystander), readWhole ? [] : target.expected(mock, target.bystander));
    });

    test('connection reset before headers, reset mid-body, truncated gzip and a response that never ends: retried, exact records', async () => {
      mock.inject(on({ kind: 'reset' }), on({ kind: 'reset_mid_body' }), on({ kind: 'truncate' }), on({ kind: 'hang' }), on({ kind: 'hang_mid_body' }));
      const { result, messages } = await read({ max_retries: 6 });
      assert.equal(result.code, 0, result.stdout.slice(-800));
      expectAll(messages);
      assert.equal(assertWaitsWithinCap(result), 5);
    });

    test('a malformed JSON page: system_error naming the stream and the request', async () => {
      mock.inject(on({ kind: 'malformed' }));
      const { result, messages } = await read();
      const message = errorsOf(messages)[0]?.message.replace(`Stream "${target.stream}": `, '') ?? '';
      assert.match(message, new RegExp(`^${target.title} returned invalid JSON for ${target.request.replace(/[?]/g, '\\?')} \\(HTTP 200\\): `));
      expectFailed(result, messages, 'system_error', message);
    });

    test('a missing envelope and a string where a record should be: system_error naming stream and path', async () => {
      mock.inject(on({ kind: 'rewrite', rewrite: () => target.noEnvelope }));
      const first = await read();
      expectFailed(first.result, first.messages, 'system_error', target.noEnvelopeMessage);
      mock.inject(on({ kind: 'rewrite', rewrite: () => target.stringItem }));
      const second = await read();
      expectFailed(second.result, second.messages, 'system_error', target.stringItemMessage);
    });

    if (target.loop) {
      const loop = target.loop;
      test('a page that repeats the same next page: loop detected, clear error', async () => {
        mock.inject(loop(mock));
        const { result, messages } = await read();
        const message = errorsOf(messages)[0]?.message.replace(`Stream "${target.stream}": `, '') ?? '';
        assert.match(message, /^Pagination loop: the API pointed to .+ a second time; stopping instead of reading the same pages forever$/);
        assert.equal(result.code, 1);
        assert.equal(recordsIn(messages, target.stream).length, target.api === 'fullstory' ? 130 : 200);
      });
    }

    test('401: config_error, one request, no retry', async () => {
      const before = mock.requests.length;
      const result = await runConnector('read', { config: config({ api_key: 'revoked-key-0000' }), catalog: catalogFor({ [target.bystander]: 'full_refresh' }) });
      assert.equal(result.code, 1);
      assert.equal(mock.requests.length - before, 1);
      const [error] = errorsOf(result.messages);
      assert.equal(error.failure_type, 'config_error');
      assert.match(error.message, /rejected the API key \(HTTP 401\)/);
    });
  });
}
