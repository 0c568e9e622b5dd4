import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { catalogFor, errorsOf, lastStates, logsOf, recordsOf, runConnector, statesOf, statusesOf, type Message } from '../helpers/connector';
import { MINDSTAMP_STREAMS, MindstampMock, mindstampDocumentedTime, type MindstampStream } from '../mocks/mindstamp';
import type { MockRequest } from '../mocks/server';

const all = (mode: 'full_refresh' | 'incremental') => catalogFor(Object.fromEntries(MINDSTAMP_STREAMS.map((s) => [s, mode])));
const ids = (records: Record<string, unknown>[]) => records.map((r) => String(r.id));
const maxUpdatedAt = (records: Record<string, unknown>[]) =>
  records
    .map((r) => r.updated_at)
    .filter((v): v is string => typeof v === 'string')
    .sort()
    .at(-1);

/**
 * Each offset of a paged list asked once, with `limit` 100: every page up to the first empty one
 * (offsets count raw items, nulls included; only an empty page ends a list, as a short one may be a
 * server cap), and beyond it only pages asked ahead before the end was seen.
 */
function assertPagesRead(requests: MockRequest[], stream: MindstampStream, total: number, step: number): void {
  const asked = requests.filter((r) => r.path === `/api/v1/${stream}`);
  assert.ok(
    asked.every((r) => r.query.get('limit') === '100'),
    stream,
  );
  const offsets = asked.map((r) => Number(r.query.get('offset')));
  assert.equal(new Set(offsets).size, offsets.length, `${stream}: an offset asked twice: ${offsets.join(', ')}`);
  const pages = pageOffsets(total, step);
  assert.deepEqual(
    pages.filter((offset) => !offsets.includes(offset)),
    [],
    `${stream}: pages not read`,
  );
  const ahead = offsets.filter((offset) => !pages.includes(offset));
  assert.ok(
    ahead.every((offset) => offset > total && offset % step === 0),
    `${stream}: offsets neither pages nor read ahead: ${ahead.join(', ')}`,
  );
}

/** The offsets a reader asks for over `total` items served `perPage` at a time, up to the empty page. */
const pageOffsets = (total: number, perPage: number): number[] => {
  const offsets = [];
  for (let offset = 0; ; offset += perPage) {
    offsets.push(Math.min(offset, total));
    if (offset >= total) return offsets;
  }
};

/**
 * A paged list's full-refresh states: after each page the offset of the next (with the records it
 * held, nulls left out), then, after the empty page that ends the list, that the stream is complete.
 */
function offsetStates(items: unknown[], pageSize: number): [Record<string, unknown>, number][] {
  const states: [Record<string, unknown>, number][] = [];
  for (let offset = 0; offset < items.length; offset += pageSize) {
    const page = items.slice(offset, offset + pageSize);
    states.push([{ offset: offset + page.length }, page.filter((item) => item !== null).length]);
  }
  return [...states, [{ __ab_full_refresh_sync_complete: true }, 0]];
}

describe('Mindstamp through the CLI', () => {
  let mock: MindstampMock;
  before(async () => {
    mock = await new MindstampMock().start();
  });
  after(() => mock.close());

  test('check sends the token as Bearer and reads one view', async () => {
    const result = await runConnector('check', { config: mock.connectorConfig() });
    assert.equal(result.code, 0);
    assert.deepEqual(result.messages.at(-1), { type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } });
    const request = mock.requests.at(-1)!;
    assert.equal(`${request.path}?${request.query}`, '/api/v1/views?limit=1&offset=0');
    assert.equal(request.headers.authorization, `Bearer ${mock.apiKey}`);
  });

  test('check with a bad token fails with the API message, exit 0, one request', async () => {
    const before = mock.requests.length;
    const result = await runConnector('check', { config: mock.connectorConfig({ api_key: 'not-a-token' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(result.messages.at(-1)!.connectionStatus, { status: 'FAILED', message: 'Mindstamp rejected the API key (HTTP 401): Unauthorized: invalid API token' });
    assert.equal(mock.requests.length - before, 1);
  });

  test('discover: four streams, parents first, id keys, updated_at cursors', async () => {
    const result = await runConnector('discover', { config: mock.connectorConfig() });
    const streams = result.messages.find((m) => m.type === 'CATALOG')!.catalog.streams as Message[];
    assert.deepEqual(
      streams.map((s) => [s.name, s.source_defined_primary_key, s.default_cursor_field, s.supported_sync_modes]),
      MINDSTAMP_STREAMS.map((name) => [name, [['id']], ['updated_at'], ['full_refresh', 'incremental']]),
    );
    const answers = streams.find((s) => s.name === 'interactions')!.json_schema.properties.answers;
    assert.deepEqual(answers, { type: ['array', 'null'], items: { type: ['string', 'number', 'boolean', 'null'] } });
    // User-defined variables hold whatever users store: never typed narrower than that.
    assert.deepEqual(streams.find((s) => s.name === 'views')!.json_schema.properties.variables.properties, {});
    assert.deepEqual(
      Object.keys(streams.find((s) => s.name === 'views')!.json_schema.properties).filter((k) => k.endsWith('_point')),
      ['last_point', 'furthest_point'],
    );
  });

  test('full refresh: exact records of all four streams, nulls dropped, offset pages until an empty one', async () => {
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: all('full_refresh') });
    assert.equal(result.code, 0, result.stdout.slice(-1500));
    for (const stream of MINDSTAMP_STREAMS) {
      assert.deepEqual(recordsOf(result.messages, stream), mock.records(stream), stream);
      assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'RUNNING', 'COMPLETE'], stream);
      assert.deepEqual(
        statesOf(result.messages, stream).map((s) => [s.stream.stream_state, s.sourceStats.recordCount]),
        stream === 'videos' || stream === 'viewers' ? [[{}, mock.records(stream).length]] : offsetStates(mock.data[stream], 100),
        stream,
      );
    }
    const requests = mock.requests.slice(start);
    assert.deepEqual(
      requests
        .filter((r) => /videos|viewers/.test(r.path))
        .map((r) => `${r.path}?${r.query}`)
        .sort(),
      ['/api/v1/videos?', '/api/v1/viewers?'],
    );
    assert.equal(mock.data.interactions.length, 1200);
    for (const stream of ['views', 'interactions'] as const) assertPagesRead(requests, stream, mock.data[stream].length, 100);
    // The streams are read at the same time: each logs at its own end, in no set order.
    const nullLogs = result.messages.filter((m) => m.type === 'LOG' && / null item/.test(m.log.message)).map((m) => m.log.message);
    assert.deepEqual(
      nullLogs.sort(),
      MINDSTAMP_STREAMS.map((s) => `Stream "${s}": skipped ${mock.data[s].length - mock.records(s).length} null item(s) in the responses of GET /api/v1/${s}`).sort(),
    );
  });

  test('page_size is configurable; a page exactly full is followed by one empty page', async () => {
    const exact = mock.data.views.length;
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig({ page_size: exact }), catalog: catalogFor({ views: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(recordsOf(result.messages, 'views'), mock.records('views'));
    const asked = mock.requests.slice(start).map((r) => r.query.toString());
    assert.deepEqual(asked.slice(0, 2), [`limit=${exact}&offset=0`, `limit=${exact}&offset=${exact}`]);
    // A full page shows the step: the next two pages are asked ahead, and the one after the empty
    // page goes out too if the empty page's answer is late (a busy machine); it is dropped unread.
    assert.ok(asked.slice(2).every((query) => query === `limit=${exact}&offset=${2 * exact}`) && asked.length <= 3, asked.join(', '));
  });

  test('page_size above the documented 1000 is a config error naming the field', async () => {
    const result = await runConnector('read', { config: mock.connectorConfig({ page_size: 5000 }), catalog: catalogFor({ views: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['config_error', 'Invalid config: config.api.page_size must be <= 1000, got 5000']],
    );
  });

  test('a server that caps limit below page_size (its cap is undocumented): pages continue until an empty one, every record read', async () => {
    const capped = await new MindstampMock({ limitCap: 40 }).start();
    try {
      const result = await runConnector('read', { config: capped.connectorConfig(), catalog: catalogFor({ views: 'full_refresh' }) });
      assert.equal(result.code, 0);
      assert.deepEqual(recordsOf(result.messages, 'views'), capped.records('views'));
      // The first two pages (40, when 100 were asked) show the server's step; the next ones are read ahead by it.
      assertPagesRead(capped.requests, 'views', capped.data.views.length, 40);
      assert.deepEqual(
        capped.requests.slice(0, 2).map((r) => r.query.get('offset')),
        ['0', '40'],
      );
    } finally {
      await capped.close();
    }
  });

  test('a server that ignores offset (the same page again) fails the stream instead of looping', async () => {
    mock.inject({ path: '/api/v1/views', query: { offset: '100' }, kind: 'rewrite', rewrite: () => mock.data.views.slice(0, 100) });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ views: 'full_refresh' }) });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [
        [
          'system_error',
          'Stream "views": GET /api/v1/views?limit=100&offset=100 answered the same items as the page before it; stopping instead of looping (does the server ignore a paging parameter?)',
        ],
      ],
    );
  });

  test('start_date: applied on our side, no undocumented filter sent', async () => {
    const startDate = '2024-05-01T03:00:00Z';
    const start = mock.requests.length;
    const result = await runConnector('read', { config: mock.connectorConfig({ start_date: startDate }), catalog: all('incremental') });
    assert.equal(result.code, 0);
    for (const stream of MINDSTAMP_STREAMS) {
      const expected = mock.records(stream).filter((r) => r.updated_at === null || Date.parse(String(r.updated_at)) >= Date.parse(startDate));
      assert.deepEqual(recordsOf(result.messages, stream), expected, stream);
    }
    assert.ok(mock.requests.slice(start).every((r) => !r.query.has('since')));
  });

  test('a 503 burst on a views page and a 500 on videos are retried: exact records', async () => {
    mock.inject(
      { path: '/api/v1/views', query: { offset: '200' }, kind: 'status', status: 503, times: 2, body: 'Service Unavailable' },
      { path: '/api/v1/videos', kind: 'status', status: 500 },
    );
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ videos: 'full_refresh', views: 'full_refresh' }) });
    assert.equal(result.code, 0);
    assert.deepEqual(recordsOf(result.messages, 'views'), mock.records('views'));
    assert.deepEqual(recordsOf(result.messages, 'videos'), mock.records('videos'));
  });

  test('403 on one stream: that stream fails with config_error, the others complete', async () => {
    mock.inject({ path: '/api/v1/viewers', kind: 'status', status: 403, body: { error: 'Forbidden: plan does not include viewers' } });
    const result = await runConnector('read', { config: mock.connectorConfig(), catalog: all('full_refresh') });
    assert.equal(result.code, 1);
    assert.deepEqual(
      errorsOf(result.messages).map((e) => [e.failure_type, e.message]),
      [['config_error', `Stream "viewers": Mindstamp denied access to GET /api/v1/viewers (HTTP 403): Forbidden: plan does not include viewers. Check the API key's permissions.`]],
    );
    for (const stream of ['videos', 'views', 'interactions'] as MindstampStream[]) assert.deepEqual(statusesOf(result.messages, stream), ['STARTED', 'RUNNING', 'COMPLETE']);
    assert.deepEqual(statusesOf(result.messages, 'viewers'), ['STARTED', 'RUNNING', 'INCOMPLETE']);
  });
});

{
  describe('Mindstamp incremental', () => {
    let mock: MindstampMock;
    beforeEach(async () => {
      mock = await new MindstampMock().start();
    });
    const done = () => mock.close();

    test('the second sync yields only records updated since (plus any without updated_at)', async (t) => {
      t.after(done);
      const first = await runConnector('read', { config: mock.connectorConfig(), catalog: all('incremental') });
      assert.equal(first.code, 0);
      const state = lastStates(first.messages);
      for (const stream of MINDSTAMP_STREAMS) {
        assert.deepEqual(recordsOf(first.messages, stream), mock.records(stream), stream);
        // One checkpoint per stream, at its end: the order of updated_at is unknown.
        assert.deepEqual(
          statesOf(first.messages, stream).map((s) => s.stream.stream_state),
          [{ updated_at: maxUpdatedAt(mock.records(stream)) }],
          stream,
        );
      }

      const later = Date.parse(maxUpdatedAt(mock.records('interactions'))!) + 60_000;
      mock.touch('videos', ['vid_00003'], later);
      mock.touch('views', ['view_00010', 'view_00399'], later + 1000);
      mock.touch('interactions', ['int_00001', 'int_01100'], later + 2000);
      const start = mock.requests.length;
      const second = await runConnector('read', { config: mock.connectorConfig(), catalog: all('incremental'), state });
      assert.equal(second.code, 0);
      const undated = (stream: MindstampStream) => ids(mock.records(stream).filter((r) => r.updated_at === null));
      const touched: Record<MindstampStream, string[]> = { videos: ['vid_00003'], viewers: [], views: ['view_00010', 'view_00399'], interactions: ['int_00001', 'int_01100'] };
      // The records at each state's very instant come again (the bound is inclusive).
      const stateOf = new Map(state.map((s: Message) => [s.stream.stream_descriptor.name, s.stream.stream_state.updated_at]));
      const atState = (stream: MindstampStream) => ids(mock.records(stream).filter((r) => r.updated_at === stateOf.get(stream)));
      for (const stream of MINDSTAMP_STREAMS) {
        const expected = ids(mock.records(stream)).filter((id) => touched[stream].includes(id) || undated(stream).includes(id) || atState(stream).includes(id));
        assert.deepEqual(ids(recordsOf(second.messages, stream)), expected, stream);
      }
      assert.ok(
        mock.requests.slice(start).every((r) => !r.query.has('since')),
        'no undocumented filter',
      );
      assert.deepEqual(statesOf(second.messages, 'viewers').at(-1)!.stream.stream_state, { updated_at: maxUpdatedAt(mock.records('viewers')) }, 'no new viewers: state unchanged');
      assert.deepEqual(statesOf(second.messages, 'interactions').at(-1)!.stream.stream_state, { updated_at: new Date(later + 2000).toISOString() });
    });

    test('resuming from each STATE the first sync printed loses no record', async (t) => {
      t.after(done);
      const full = await runConnector('read', { config: mock.connectorConfig(), catalog: all('incremental') });
      const stateIndexes = full.messages.flatMap((m, i) => (m.type === 'STATE' ? [i] : []));
      assert.equal(stateIndexes.length, MINDSTAMP_STREAMS.length);
      for (const cut of stateIndexes) {
        // A crash right after this STATE: the platform keeps the records and states printed so far.
        const printed = full.messages.slice(0, cut + 1);
        const resumed = await runConnector('read', { config: mock.connectorConfig(), catalog: all('incremental'), state: lastStates(printed) });
        assert.equal(resumed.code, 0);
        for (const stream of MINDSTAMP_STREAMS) {
          const delivered = new Set([...ids(recordsOf(printed, stream)), ...ids(recordsOf(resumed.messages, stream))]);
          assert.deepEqual([...delivered].sort(), ids(mock.records(stream)).sort(), `${stream} after a crash at message ${cut}`);
        }
      }
    });
  });
}

describe('Mindstamp times in the documented rendering ("Sat, 1 Jan 2022 05:12:32 UTC +00:00")', () => {
  test('are written as ISO 8601, the same instant, and counted; a time in another form is kept and reported as format drift', async () => {
    const mock = await new MindstampMock({ counts: { videos: 6, viewers: 3, views: 0, interactions: 0 } }).start();
    try {
      const asIso = mock.records('videos').map((v) => ({ ...v }));
      for (const video of mock.records('videos')) {
        video.created_at = mindstampDocumentedTime(String(video.created_at));
        if (typeof video.updated_at === 'string') video.updated_at = mindstampDocumentedTime(video.updated_at);
      }
      mock.records('viewers')[0].created_at = '2024/05/01 10:00';
      const result = await runConnector('read', { config: mock.connectorConfig(), catalog: catalogFor({ videos: 'incremental', viewers: 'full_refresh' }) });
      assert.equal(result.code, 0);
      const videos = recordsOf(result.messages, 'videos');
      assert.deepEqual(
        videos.map((v) => [v.created_at, v.updated_at]),
        asIso.map((v) => [new Date(String(v.created_at)).toISOString(), v.updated_at === null ? null : new Date(String(v.updated_at)).toISOString()]),
      );
      assert.deepEqual(lastStates(result.messages).find((s) => s.stream.stream_descriptor.name === 'videos')!.stream.stream_state, {
        updated_at: new Date(String(maxUpdatedAt(asIso))).toISOString(),
      });
      const updated = asIso.filter((v) => v.updated_at !== null).length;
      assert.ok(
        logsOf(result.messages, 'INFO').includes(
          `Stream "videos": 6 created_at, ${updated} updated_at value(s) came in Mindstamp's documented form ("Sat, 1 Jan 2022 05:12:32 UTC +00:00") and were written as ISO 8601, the same instant, so that a destination reads them as timestamps`,
        ),
      );
      assert.equal(recordsOf(result.messages, 'viewers')[0].created_at, '2024/05/01 10:00');
      assert.deepEqual(logsOf(result.messages, 'WARN'), [
        'Stream "viewers": the data held what its schema does not describe; strings not in their declared format, which a typed destination reads as null (field: format): created_at: date-time ×1; e.g. created_at "2024/05/01 10:00"',
      ]);
    } finally {
      await mock.close();
    }
  });
});
