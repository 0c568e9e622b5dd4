// What Airbyte's acceptance tests (CAT) are given, built from the bundled mocks: the shipped
// acceptance-test-config.yml at the repository root, each API's sample config pointed at its mock.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FullstoryMock } from '../mocks/fullstory';
import { MindstampMock } from '../mocks/mindstamp';
import { PersistIqMock } from '../mocks/persistiq';
import { repoRoot } from './shared';

export interface CatMock {
  apiKey: string;
  baseUrl: string;
  url: string;
  requests: unknown[];
  close(): Promise<void>;
}

export interface CatApi {
  name: 'fullstory' | 'mindstamp' | 'persistiq';
  mock(): Promise<CatMock>;
  /** Config fields the mock needs beyond base_url (a second origin, quick polling). */
  overrides?(mock: CatMock): Record<string, unknown>;
  /** Records that depend on the sync itself (not on the mock's data): left out of the expected records. */
  ownRecord?: (stream: string, data: Record<string, unknown>) => boolean;
}

/**
 * The instant the Fullstory mock's clock is stopped at for CAT: its segment exports' data (relative
 * to the server's now), its operations' times and its Date header, from which the connector takes
 * the API's now, are then the same at any real time, so CAT can compare those streams' records too.
 */
export const CAT_CLOCK = Date.parse('2026-11-20T12:00:00Z');

/** The APIs with CAT files, each with a mock serving the dataset of its expected records. */
export const CAT_APIS: CatApi[] = [
  {
    name: 'fullstory',
    mock: () => new FullstoryMock({ pinnedNow: CAT_CLOCK }).start(),
    overrides: (mock) => ({ export_base_url: (mock as FullstoryMock).exportBaseUrl, legacy_downloads_per_minute: 6000, operation_poll_seconds: 0.01 }),
    // The export operations the sync itself creates, listed in whatever state they are in by then.
    ownRecord: (stream, data) => stream === 'operations' && !String(data.id).startsWith('op-past-'),
  },
  { name: 'mindstamp', mock: () => new MindstampMock().start() },
  { name: 'persistiq', mock: () => new PersistIqMock({ rateLimit: false }).start() },
];

export const readRepoJson = (path: string) => JSON.parse(readFileSync(join(repoRoot, path), 'utf8'));

/** The API's sample config with the mock's key and URLs: what `secrets/<api>_config.json` holds offline. */
export function catConfig(api: CatApi, mock: CatMock): { api: Record<string, unknown> } {
  const sample = readRepoJson(`integration_tests/${api.name}_sample_config.json`);
  return { api: { ...sample.api, api_key: mock.apiKey, base_url: mock.baseUrl, requests_per_minute: 6000, ...api.overrides?.(mock) } };
}

/**
 * The API's invalid config (a wrong key) pointed at its mock, so that an offline check fails on the
 * key the mock refuses (401), not on a host it cannot reach: what `secrets/<api>_invalid_config.json` holds offline.
 */
export function catInvalidConfig(api: CatApi, mock: CatMock): { api: Record<string, unknown> } {
  const invalid = readRepoJson(`integration_tests/${api.name}_invalid_config.json`);
  return { api: { ...invalid.api, base_url: mock.baseUrl, ...api.overrides?.(mock) } };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const acceptanceTestConfig = (): Record<string, any> => parseYaml(readFileSync(join(repoRoot, 'acceptance-test-config.yml'), 'utf8'));

/** The RECORD lines of a read as expected-records lines, `data` copied as printed (64-bit ids exact). */
export function expectedRecordLines(stdout: string, api: Pick<CatApi, 'ownRecord'>): string[] {
  const lines: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^\{"type":"RECORD","record":\{"stream":("(?:[^"\\]|\\.)*"),"data":(.*),"emitted_at":\d+\}\}$/.exec(line);
    if (!match || api.ownRecord?.(JSON.parse(match[1]) as string, JSON.parse(match[2]) as Record<string, unknown>)) continue;
    lines.push(`{"stream":${match[1]},"data":${match[2]},"emitted_at":1700000000000}`);
  }
  return lines;
}
