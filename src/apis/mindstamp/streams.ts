import { type HttpApi, httpStream, type JsonRecord, type JsonSchema, offsetPaginator, type RecordRewrite, rfc2822AsIso, singlePage } from '../../streams';
import interactions from './schemas/interactions.json';
import videos from './schemas/videos.json';
import viewers from './schemas/viewers.json';
import views from './schemas/views.json';

export interface MindstampApi extends HttpApi {
  /** `limit` of the paged lists (config page_size). */
  pageSize: number;
}

// Lists answer a bare JSON array (null items included) at the root. No source documents a filter
// or a sort (tap-mindstamp sends only limit and offset), so every sync reads the lists whole, keeps
// the records updated after the state, and checkpoints once, at the end, with the newest updated_at.
const incremental = { cursor: 'updated_at', sorted: false, clientFilter: true, whenMissing: 'ignore' } as const;

/**
 * Mindstamp documents its times as "Sat, 1 Jan 2022 05:12:32 UTC +00:00" (api-fidelity-audit #13),
 * while the schemas declare `format: date-time`, which Airbyte's destinations read as RFC 3339
 * ("2022-11-22T01:23:45.123456+05:00": docs.airbyte.com/understanding-airbyte/supported-data-types):
 * a typed column would be null. Such a value is written as ISO 8601, the same instant in UTC, and
 * counted; a value in any other form is left as it came (the drift report counts it).
 */
const TIME_FIELDS = ['created_at', 'updated_at'];
const documentedTimesAsIso = (): RecordRewrite => {
  const rewritten = new Map<string, number>();
  return {
    apply(record: JsonRecord): JsonRecord {
      let copy: JsonRecord | undefined;
      for (const field of TIME_FIELDS) {
        const iso = rfc2822AsIso(record[field]);
        if (iso === undefined) continue;
        copy ??= { ...record };
        copy[field] = iso;
        rewritten.set(field, (rewritten.get(field) ?? 0) + 1);
      }
      return copy ?? record;
    },
    report: () =>
      rewritten.size === 0
        ? undefined
        : `${[...rewritten].map(([field, count]) => `${count} ${field}`).join(', ')} value(s) came in Mindstamp's documented form ("Sat, 1 Jan 2022 05:12:32 UTC +00:00") and were written as ISO 8601, the same instant, so that a destination reads them as timestamps`,
  };
};

// videos and viewers are not paginated (seed, tap-mindstamp); views and interactions take limit +
// offset, and end on an empty page only: the server's largest limit is not documented, and a page
// shorter than asked may just be its cap (tap-mindstamp stops on an empty page too).
const list = (name: string, schema: JsonSchema, paged: boolean) =>
  httpStream<MindstampApi>({
    name,
    schema,
    path: `/${name}`,
    records: null,
    primaryKey: [['id']],
    paginator: paged ? (api) => offsetPaginator({ pageSize: api.pageSize, endsOn: 'empty_page' }) : singlePage,
    incremental,
    rewrite: documentedTimesAsIso,
  });

// Parents before children: interactions carry video_id, views carry viewer_id and video_id.
export const streams = [list('videos', videos, false), list('viewers', viewers, false), list('views', views, true), list('interactions', interactions, true)];
