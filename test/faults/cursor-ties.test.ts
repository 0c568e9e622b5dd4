// Cursor edges. Ties: a record stamped with the saved state's very instant that appears after the
// previous sync read the list; with a strict bound it is dropped forever, so the bound is inclusive,
// on our side and (a millisecond earlier) on the server's. And a state written is a state read back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogFor, errorsOf, lastStates, recordsOf, runConnector } from '../helpers/connector';
import { FullstoryMock } from '../mocks/fullstory';
import { MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';

test("Mindstamp (filtered on our side): a video added at the state's instant after the first sync comes in the second", async () => {
  const mock = await new MindstampMock().start();
  try {
    const catalog = catalogFor({ videos: 'incremental' });
    const first = await runConnector('read', { config: mock.connectorConfig(), catalog });
    const state = lastStates(first.messages);
    const at = String(state[0].stream.stream_state.updated_at);
    mock.data.videos.push({ ...mock.records('videos')[0], id: 'vid_late', updated_at: at });
    const second = await runConnector('read', { config: mock.connectorConfig(), catalog, state });
    assert.ok(recordsOf(second.messages, 'videos').some((r) => r.id === 'vid_late'));
  } finally {
    await mock.close();
  }
});

test("PersistIQ (filtered by a strict updated_after on the server): a lead updated at the state's instant comes in the second sync", async () => {
  const mock = await new PersistIqMock({ rateLimit: false, counts: { leads: 30 } }).start();
  try {
    const catalog = catalogFor({ leads: 'incremental' });
    const first = await runConnector('read', { config: mock.connectorConfig(), catalog });
    const state = lastStates(first.messages);
    mock.addLead({ id: 'l_late', status: 'new', data: { email: 'late@example.org' } }, Date.parse(state[0].stream.stream_state.updated_at));
    const second = await runConnector('read', { config: mock.connectorConfig(), catalog, state });
    assert.ok(recordsOf(second.messages, 'leads').some((r) => r.id === 'l_late'));
  } finally {
    await mock.close();
  }
});

test('Fullstory bundles whose Stop has a fraction of a second: the state written is read back by the next sync', async () => {
  const mock = await new FullstoryMock({ bundles: 3, eventsPerBundle: 2 }).start();
  try {
    for (const bundle of mock.bundles) bundle.Stop += 0.25;
    const catalog = catalogFor({ events: 'incremental' });
    const first = await runConnector('read', { config: mock.connectorConfig({ start_date: undefined }), catalog });
    const state = lastStates(first.messages);
    assert.equal(state[0].stream.stream_state.ExportBundleStop, mock.bundles[2].Stop);
    const second = await runConnector('read', { config: mock.connectorConfig({ start_date: undefined }), catalog, state });
    assert.equal(second.code, 0, JSON.stringify(errorsOf(second.messages)));
    assert.deepEqual(recordsOf(second.messages, 'events'), []);
  } finally {
    await mock.close();
  }
});
