// Case 9: segment exports that take Fullstory time to prepare. 30 daily windows, each export ready
// `prepareMs` after it is requested; the connector requests several windows ahead and reads them in
// order. Measured: the wall time against the sequential 30 × prepareMs, every event exactly once.
import { catalogFor, writeTemp } from '../helpers/connector';
import { FullstoryMock } from '../mocks/fullstory';
import { measure } from './measure';

export interface ExportsResult {
  records: number;
  expected: number;
  windows: number;
  seconds: number;
  /** Wall time as a share of preparing every window one after the other. */
  shareOfSequential: number;
}

export async function preparedExports(windows: number, prepareMs: number, events: number, main: string): Promise<ExportsResult> {
  const day = 86_400_000;
  const now = Date.now();
  const mock = await new FullstoryMock({
    bundles: 0,
    users: 0,
    individuals: 0,
    segmentEvents: events,
    segmentSpanMs: (windows - 1) * day,
    segmentEnd: now - day / 2,
    lateEvents: false,
    prepareMs,
  }).start();
  try {
    const startDate = new Date(now - windows * day).toISOString().replace(/\.\d+Z$/, 'Z');
    // Windows of a day from start_date to now (no settle delay): `windows` full days and a sliver.
    const config = mock.connectorConfig({ start_date: startDate, segment_export_settle_minutes: 0, operation_poll_seconds: 0.05 });
    const measured = await measure([
      main,
      'read',
      '--config',
      writeTemp('config.json', config),
      '--catalog',
      writeTemp('catalog.json', catalogFor({ segment_events: 'incremental' })),
    ]);
    const seconds = measured.wallMs / 1000;
    return {
      records: measured.records,
      expected: mock.segmentEvents.length,
      windows: mock.exportRequests.length,
      seconds,
      shareOfSequential: measured.wallMs / (mock.exportRequests.length * prepareMs),
    };
  } finally {
    await mock.close();
  }
}
