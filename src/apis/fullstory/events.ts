import { ObjectStreamShaper } from '../../json';
import type { JsonSchema } from '../../streams';

/** Where every top-level key an events schema does not declare goes (custom user_*, evt_*, page_* vars). */
export const CUSTOM_VARS = 'custom_vars';

/**
 * Events have no id: "Use PageId, SessionId, and UserId together as a compound key to uniquely identify
 * pages" (Fullstory's Data Export dictionary); the event within its page is its time and type.
 */
export const EVENT_KEY = [['UserId'], ['SessionId'], ['PageId'], ['EventStart'], ['EventType']];

/**
 * Events pass through as bytes: declared keys stay, the rest move unchanged into `custom_vars`, so
 * the platform (which drops undeclared top-level keys) loses nothing and 64-bit ids keep every digit.
 * `added` holds members the connector adds to every event (name → JSON text); an event's own key of
 * that name moves into `custom_vars`. Returns a factory: each download gets a fresh shaper.
 */
export function eventShaper(schema: JsonSchema, format: 'array' | 'ndjson', added: Record<string, string> = {}): (maxItemBytes: number) => ObjectStreamShaper {
  const declared = new Set(Object.keys((schema.properties ?? {}) as Record<string, unknown>).filter((key) => !(key in added)));
  const members = Object.entries(added)
    .map(([key, json]) => `${JSON.stringify(key)}:${json}`)
    .join(',');
  return (maxItemBytes) => new ObjectStreamShaper(format, declared, CUSTOM_VARS, members, maxItemBytes);
}
