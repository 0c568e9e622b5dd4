// `npm run demo`: a full sync of every stream of each API against its bundled mock (PersistIQ with
// its real 100 requests/minute limit scaled to a 1-second window; Mindstamp with null items, offset
// pages and unsorted updated_at; Fullstory with legacy bundles, segment exports polled to completion,
// settings and history), each followed by a per-stream summary table.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN, type Message } from './helpers/connector';
import { repoRoot } from './helpers/shared';
import { FullstoryMock } from './mocks/fullstory';
import { MindstampMock } from './mocks/mindstamp';
import { PersistIqMock } from './mocks/persistiq';
import type { MockServer } from './mocks/server';

interface DemoMock extends MockServer {
  apiKey: string;
  baseUrl: string;
}

async function sync(api: string, mock: DemoMock, extra: Record<string, unknown> = {}): Promise<number | null> {
  const config = { api: { name: api, api_key: mock.apiKey, base_url: mock.baseUrl, requests_per_minute: 6000, ...extra } };
  // Kept for a look afterwards, in one folder rewritten at each run.
  const dir = join(tmpdir(), 'source-saas-trio-demo');
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, `${api}_config.json`);
  const outputPath = join(dir, `${api}_output.jsonl`);
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  console.log(`\n== ${api}: mock on ${mock.url}; running: node dist/main.js read --config ${configPath} --catalog catalogs/${api}.json > ${outputPath}\n`);
  const started = Date.now();
  const child = spawn(process.execPath, [MAIN, 'read', '--config', configPath, '--catalog', join(repoRoot, 'catalogs', `${api}.json`)]);
  const output = createWriteStream(outputPath);
  child.stdout.pipe(output);
  let buffered = '';
  const summary = new Map<string, { records: number; states: number; status: string; lastState: unknown }>();
  const row = (name: string) => summary.get(name) ?? summary.set(name, { records: 0, states: 0, status: '', lastState: undefined }).get(name)!;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const message = JSON.parse(line) as Message;
      if (message.type === 'RECORD') row(message.record.stream).records++;
      if (message.type === 'STATE') {
        const entry = row(message.state.stream.stream_descriptor.name);
        entry.states++;
        entry.lastState = message.state.stream.stream_state;
      }
      if (message.type === 'TRACE' && message.trace.type === 'STREAM_STATUS') row(message.trace.stream_status.stream_descriptor.name).status = message.trace.stream_status.status;
      if (message.type === 'LOG' || (message.type === 'TRACE' && message.trace.type === 'ERROR')) console.log(line);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await mock.close();
  const table = [...summary].map(([stream, s]) => ({ stream, records: s.records, states: s.states, status: s.status, 'final state': JSON.stringify(s.lastState) }));
  console.table(table);
  console.log(`config: ${configPath}; output: ${outputPath}`);
  console.log(`exit code ${code}; ${mock.requests.length} requests, ${mock.rateLimited} answered 429; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return code;
}

async function fullstory(): Promise<number | null> {
  // The mock enforces a bundle download limit (Fullstory's 2 a minute, scaled up so the demo is
  // quick); the connector is told the same and spaces its downloads to stay under it.
  const mock = await new FullstoryMock({ downloadLimit: { limit: 600, windowMs: 60_000 } }).start();
  // No start_date: every bundle and settings version; segment exports cover the last 30 days in 10-day windows.
  return sync('fullstory', mock, { export_base_url: mock.exportBaseUrl, segment_export_window_hours: 240, legacy_downloads_per_minute: 600, operation_poll_seconds: 0.2 });
}

async function main(): Promise<void> {
  const codes = [
    await sync('persistiq', await new PersistIqMock({ rateLimit: { limit: 100, windowMs: 1_000 } }).start()),
    await sync('mindstamp', await new MindstampMock().start()),
    await fullstory(),
  ];
  process.exit(codes.every((code) => code === 0) ? 0 : 1);
}

void main();
