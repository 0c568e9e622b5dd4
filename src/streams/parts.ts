// An endpoint read in parts, one request list per filter value (PersistIQ events, once per `group`),
// where one record may come in several parts: each is written once, in the first part it came in,
// also when a resumed full refresh starts in a later part (the keys written before are read again).
// A record without a key value is a copy only of the same content in an earlier part: within a
// part, two of them are two records.
import type { Params } from '../http';
import { valueAt } from './cursor';

type JsonRecord = Record<string, unknown>;

export interface Part {
  params: Params;
  /** Fields that name the part in its records (a field the record has keeps its value). */
  fields: JsonRecord;
}

/** A part's name in messages: its query ("group=campaign"), or "no filter" for the part without one. */
const describePart = (part: Part): string => new URLSearchParams(part.params as Record<string, string>).toString() || 'no filter';

export class PartCopies {
  private readonly written = new Set<string>();
  /** Records without a key value, by content, and the first part each came in. */
  private readonly keyless = new Map<string, number>();
  /** The fields the parts add to their records: not part of a record's content. */
  private readonly partFields: Set<string>;
  /** Records dropped as copies of a record written in an earlier part. */
  private repeated = 0;
  /** Records written, per part. */
  private readonly writtenPerPart: number[];

  constructor(
    private readonly parts: Part[],
    private readonly primaryKey: string[][],
  ) {
    this.writtenPerPart = parts.map(() => 0);
    this.partFields = new Set(parts.flatMap((p) => Object.keys(p.fields)));
  }

  /** Whether to write `record` of part `part`: false for a copy (without a key value: the same content in an earlier part). */
  admit(record: JsonRecord, part: number): boolean {
    if (this.seenBefore(record, part)) {
      this.repeated++;
      return false;
    }
    this.writtenPerPart[part]++;
    return true;
  }

  /** Remembers a record an earlier attempt wrote (read again on a resume, not written). */
  remember(record: JsonRecord, part: number): void {
    this.seenBefore(record, part);
  }

  /** Whether the record came in an earlier part (or, with a key, anywhere before); it is remembered. */
  private seenBefore(record: JsonRecord, part: number): boolean {
    const key = this.keyOf(record);
    if (key === undefined) {
      const content = JSON.stringify(Object.entries(record).filter(([name]) => !this.partFields.has(name)));
      const first = this.keyless.get(content);
      if (first === undefined) this.keyless.set(content, part);
      return first !== undefined && first < part;
    }
    if (this.written.has(key)) return true;
    this.written.add(key);
    return false;
  }

  /** What the parts added, for the stream's INFO: copies dropped, and records each part alone brought. */
  summary(): string | undefined {
    const unfiltered = this.parts.some((part, i) => Object.keys(part.params).length === 0 && this.writtenPerPart[i] > 0);
    if (this.repeated === 0 && !unfiltered) return undefined;
    const perPart = this.parts.map((part, i) => `${describePart(part)}: ${this.writtenPerPart[i]}`).join(', ');
    return `${this.repeated} record(s) came in more than one part; each was written once, in the first part it came in (records written per part: ${perPart})`;
  }

  private keyOf(record: JsonRecord): string | undefined {
    const values = this.primaryKey.map((path) => valueAt(record, path));
    return values.every((value) => value !== null && value !== undefined) ? JSON.stringify(values) : undefined;
  }
}
