import { type HttpApi, httpStream, type JsonSchema, offsetPaginator, singlePage } from '../../streams';
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
  });

// Parents before children: interactions carry video_id, views carry viewer_id and video_id.
export const streams = [list('videos', videos, false), list('viewers', viewers, false), list('views', views, true), list('interactions', interactions, true)];
