// The platform keeps only the top-level keys a stream's schema declares and drops the others without a
// word (airbyte-platform.md §2.6). So every record's undeclared top-level keys move, unchanged, into one
// declared object field, and what the data held beyond its schema is counted and reported once per stream.
import type { JsonBatch } from '../protocol';
import { isExactInteger } from '../json';

/** The field that carries undeclared top-level keys (the name Airbyte's file-based sources use). */
export const ADDITIONAL_PROPERTIES = '_ab_additional_properties';

type Schema = Record<string, unknown>;
type JsonRecord = Record<string, unknown>;

/** The schema with its catch-all field declared (a stream that names its own, as exports do, keeps it). */
export function withCatchAll(schema: Schema, field: string): Schema {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  if (field in properties) return schema;
  const catchAll = {
    type: ['object', 'null'],
    additionalProperties: true,
    description: 'Added by the connector: top-level fields the API sent that this schema does not declare, unchanged.',
  };
  return { ...schema, properties: { ...properties, [field]: catchAll } };
}

const jsonType = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'array'
      : typeof value === 'number'
        ? Number.isInteger(value)
          ? 'integer'
          : 'number'
        : isExactInteger(value)
          ? 'integer'
          : typeof value;

const accepts = (declared: string[], seen: string): boolean => declared.includes(seen) || (seen === 'integer' && declared.includes('number'));

/**
 * The forms destinations read for the declared formats: RFC 3339 for `date-time` (a zone required),
 * a full date for `date` (docs.airbyte.com/understanding-airbyte/supported-data-types). A value in
 * another form is a string all the same, but a typed column gets null for it.
 */
const FORMATS = new Map<unknown, RegExp>([
  ['date-time', /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/],
  ['date', /^\d{4}-\d{2}-\d{2}$/],
]);

const MAX_LISTED = 20;

/** Exports are checked on a sample: the first records of a stream, then one in this many. */
const SAMPLE_FIRST = 200;
const SAMPLE_EVERY = 1000;

/**
 * Sets a member, even one named "__proto__": JSON.parse makes that an own member, but assigning it
 * sets the object's prototype instead, and the member would be lost.
 */
const setOwn = (target: JsonRecord, key: string, value: unknown): void => {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
};

/**
 * One stream's records against its schema: moves undeclared top-level keys into the catch-all field,
 * counts them, and counts values whose JSON type the schema does not allow (nested declared
 * properties and array items included).
 */
export class SchemaDrift {
  private readonly declared: Set<string>;
  private readonly undeclared = new Map<string, number>();
  private readonly mistyped = new Map<string, number>();
  private readonly misformatted = new Map<string, number>();
  /** The first value seen of each misformatted field, for the report. */
  private readonly misformattedExample = new Map<string, string>();
  private rawSeen = 0;
  private rawObserved = 0;

  constructor(
    private readonly schema: Schema,
    private readonly catchAll: string,
  ) {
    this.declared = new Set(Object.keys((schema.properties ?? {}) as Schema).filter((key) => key !== catchAll));
  }

  /** The record with its undeclared keys (a key named like the catch-all field too) moved into it; observed. */
  shape(record: JsonRecord): JsonRecord {
    let complete = true;
    for (const key in record) {
      if (!this.declared.has(key)) {
        complete = false;
        break;
      }
    }
    const shaped = complete ? record : this.split(record);
    this.observe(shaped);
    return shaped;
  }

  /** Records already shaped as bytes (exports): a sample is parsed and observed. */
  observeBatch(batch: JsonBatch): void {
    const { bytes, ends } = batch;
    for (let i = 0; i < ends.length; i++, this.rawSeen++) {
      if (this.rawSeen >= SAMPLE_FIRST && this.rawSeen % SAMPLE_EVERY !== 0) continue;
      this.rawObserved++;
      this.observe(JSON.parse(bytes.toString('utf8', i === 0 ? 0 : ends[i - 1], ends[i])) as JsonRecord);
    }
  }

  /**
   * What the data held that the schema does not describe, or undefined when nothing: a WARN when
   * values have a type the schema does not allow (a typed destination nulls them), else INFO.
   */
  report(stream: string): { level: 'INFO' | 'WARN'; message: string } | undefined {
    if (this.undeclared.size === 0 && this.mistyped.size === 0 && this.misformatted.size === 0) return undefined;
    const list = (counts: Map<string, number>) => {
      const entries = [...counts].sort((a, b) => b[1] - a[1]);
      const shown = entries.slice(0, MAX_LISTED).map(([what, count]) => `${what} ×${count}`);
      return entries.length > MAX_LISTED ? `${shown.join(', ')} and ${entries.length - MAX_LISTED} more` : shown.join(', ');
    };
    const sampled = this.rawSeen > this.rawObserved ? ` (in a sample of ${this.rawObserved} of ${this.rawSeen} records)` : '';
    const parts = [];
    if (this.undeclared.size > 0) parts.push(`top-level keys the schema does not declare, kept in ${this.catchAll}: ${list(this.undeclared)}`);
    if (this.mistyped.size > 0) parts.push(`values of a type the schema does not declare (field: declared → seen): ${list(this.mistyped)}`);
    if (this.misformatted.size > 0) {
      const examples = [...this.misformattedExample].map(([what, value]) => `${what.split(':')[0]} ${JSON.stringify(value.slice(0, 40))}`).join(', ');
      parts.push(`strings not in their declared format, which a typed destination reads as null (field: format): ${list(this.misformatted)}; e.g. ${examples}`);
    }
    return {
      level: this.mistyped.size > 0 || this.misformatted.size > 0 ? 'WARN' : 'INFO',
      message: `Stream "${stream}": the data held what its schema does not describe${sampled}; ${parts.join('; ')}`,
    };
  }

  private split(record: JsonRecord): JsonRecord {
    const kept: JsonRecord = {};
    const moved: JsonRecord = {};
    for (const [key, value] of Object.entries(record)) setOwn(this.declared.has(key) ? kept : moved, key, value);
    kept[this.catchAll] = moved;
    return kept;
  }

  private observe(record: JsonRecord): void {
    const extra = record[this.catchAll];
    if (extra && typeof extra === 'object') for (const key of Object.keys(extra)) this.count(this.undeclared, key);
    const properties = this.schema.properties as Record<string, Schema>;
    for (const key of this.declared) if (key in record) this.check(record[key], properties[key], key);
  }

  private check(value: unknown, schema: Schema | undefined, path: string): void {
    if (!schema || schema.type === undefined) return;
    const declared = [schema.type as string | string[]].flat();
    const seen = jsonType(value);
    if (!accepts(declared, seen)) {
      this.count(this.mistyped, `${path}: ${declared.join('|')} → ${seen}`);
      return;
    }
    // A Map: a format named like an Object member ("constructor") is no pattern.
    const format = FORMATS.get(schema.format);
    if (seen === 'string' && format && !format.test(value as string)) {
      const what = `${path}: ${String(schema.format)}`;
      this.count(this.misformatted, what);
      if (!this.misformattedExample.has(what)) this.misformattedExample.set(what, value as string);
    } else if (seen === 'object' && schema.properties) {
      const properties = schema.properties as Record<string, Schema>;
      for (const key in properties) if (key in (value as JsonRecord)) this.check((value as JsonRecord)[key], properties[key], `${path}.${key}`);
    } else if (seen === 'array' && schema.items) {
      for (const item of value as unknown[]) this.check(item, schema.items as Schema, `${path}[]`);
    }
  }

  private count(counts: Map<string, number>, what: string): void {
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
}
