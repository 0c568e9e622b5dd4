// Oracles for Fullstory tests, independent of the connector's text handling: events parsed with
// big integers kept as strings, custom keys partitioned by the schema's declared names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonLossless } from '../../src/json/text';
import { sessionCount, type FullstoryMock } from '../mocks/fullstory';
import { recordsOf, type Message } from './connector';
import { repoRoot } from './shared';

const declared = (schema: string) => new Set(Object.keys(JSON.parse(readFileSync(join(repoRoot, 'src', 'apis', 'fullstory', 'schemas', `${schema}.json`), 'utf8')).properties));

/** What the record for one exported event must be: declared keys kept, the rest under custom_vars. */
export function expectedEvent(text: string, schema: 'events' | 'segment_events' | 'segment_individuals', added: Record<string, unknown> = {}): Record<string, unknown> {
  const keys = declared(schema);
  keys.delete('custom_vars');
  for (const key of Object.keys(added)) keys.delete(key);
  const event = parseJsonLossless(text) as Record<string, unknown>;
  const kept = Object.fromEntries(Object.entries(event).filter(([key]) => keys.has(key)));
  const moved = Object.fromEntries(Object.entries(event).filter(([key]) => !keys.has(key)));
  return { ...kept, ...(Object.keys(moved).length > 0 ? { custom_vars: moved } : {}), ...added };
}

/** Every legacy export event, with the bundle it came from (the connector adds ExportBundleId and ExportBundleStop). */
export const legacyEvents = (mock: FullstoryMock): Record<string, unknown>[] =>
  mock.bundles.flatMap((b) => b.events.map((e) => expectedEvent(e, 'events', { ExportBundleId: b.Id, ExportBundleStop: b.Stop })));

/** A settings history version as the connector emits it: metadata.lastUpdated copied to the top level (the cursor). */
export const historyRecord = (version: Record<string, unknown>): Record<string, unknown> => ({
  ...version,
  lastUpdated: (version.metadata as Record<string, unknown>).lastUpdated,
});

/** stdout parsed without losing digits (the connector's own messages use JSON.parse). */
export const losslessMessages = (stdout: string): Message[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => parseJsonLossless(line) as Message);

export const recordsIn = (messages: Message[], stream: string) => messages.filter((m) => m.type === 'RECORD' && m.record.stream === stream).map((m) => m.record.data);

/** Every user of the mock, in its order, and as many sessions as its identified users have. */
export function expectUsersAndSessions(messages: Message[], mock: FullstoryMock): void {
  assert.deepEqual(
    recordsOf(messages, 'users').map((u) => u.id),
    mock.users.map((u) => u.id),
  );
  assert.equal(
    recordsOf(messages, 'sessions').length,
    mock.users.reduce((sum, u, i) => sum + (u.uid ? sessionCount(i) : 0), 0),
  );
}
