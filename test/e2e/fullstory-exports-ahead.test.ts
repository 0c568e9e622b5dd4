import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catalogFor, errorsOf, lastStates, runConnector, statesOf } from '../helpers/connector';
import { expectedEvent, losslessMessages, recordsIn } from '../helpers/fullstory';
import { FullstoryMock } from '../mocks/fullstory';

describe('Fullstory segment exports prepared ahead', () => {
  test('a sync stopped while Fullstory prepares its exports resumes the same operations: none requested again, every event once', async () => {
    // Each export takes 1.5 s to prepare; the first sync gives up after 0.3 s (operation_timeout_minutes).
    const mock = await new FullstoryMock({ prepareMs: 1500 }).start();
    try {
      const catalog = catalogFor({ segment_events: 'incremental' });
      const first = await runConnector('read', { config: mock.connectorConfig({ segment_export_settle_minutes: undefined, operation_timeout_minutes: 0.005 }), catalog });
      assert.equal(first.code, 1);
      assert.deepEqual(
        errorsOf(first.messages).map((e) => e.failure_type),
        ['transient_error'],
      );
      const saved = statesOf(first.messages, 'segment_events').at(-1)!.stream.stream_state;
      const pending = saved.exports as { start: string; end: string; operationId: string }[];
      // Every daily window since start_date (four days ago, to now less a day: 3 and a sliver) at once.
      assert.equal(pending.length, 4, 'the windows were requested at once');
      assert.equal(mock.exportRequests.length, 4);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      const second = await runConnector('read', { config: mock.connectorConfig({ segment_export_settle_minutes: undefined }), catalog, state: lastStates(first.messages) });
      assert.equal(second.code, 0, JSON.stringify(errorsOf(second.messages)));
      // The three full days are resumed; the sliver ends later now (its end is now less a day), so it is a new range.
      assert.equal(mock.exportRequests.length, 5, 'only the changed window requested again');
      const renewed = mock.exportRequests[4].timeRange as { start: string; end: string };
      assert.equal(renewed.start, pending[3].start);
      assert.ok(renewed.end > pending[3].end);
      const resumed = second.messages.filter((m) => m.type === 'LOG' && /^Resuming export operation op-\d+ of events/.test(m.log.message));
      assert.equal(resumed.length, 3);
      const from = Date.parse(String(saved.EventStart));
      const until = Date.parse(statesOf(second.messages, 'segment_events').at(-1)!.stream.stream_state.EventStart);
      const covered = mock.segmentEvents.filter((e) => e.at >= from && e.at < until);
      assert.deepEqual(
        recordsIn(losslessMessages(second.stdout), 'segment_events'),
        covered.map((e) => expectedEvent(e.text, 'segment_events')),
      );
      assert.deepEqual(statesOf(second.messages, 'segment_events').at(-1)!.stream.stream_state, { EventStart: renewed.end });
    } finally {
      await mock.close();
    }
  });
});
