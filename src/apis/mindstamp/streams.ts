import { offsetPaginator, singlePage } from '../../core/paginate';
import { httpStream, type HttpApi, type JsonSchema } from '../../core/stream';
import interactions from './schemas/interactions.json';
import videos from './schemas/videos.json';
import viewers from './schemas/viewers.json';
import views from './schemas/views.json';

export interface MindstampApi extends HttpApi {
  /** `limit` of the paged lists (config page_size). */
  pageSize: number;
}

// Lists answer a bare JSON array (null items included) at the root. No evidence shows the server
// honours `since` or sorts by updated_at, so records are also filtered here and the stream is
// checkpointed once, at its end, with the newest updated_at seen.
const incremental = { cursor: 'updated_at', requestParam: 'since', sorted: false, clientFilter: true, whenMissing: 'ignore' } as const;

// videos and viewers are not paginated (seed, tap-mindstamp); views and interactions take limit + offset.
const list = (name: string, schema: JsonSchema, paged: boolean) =>
  httpStream<MindstampApi>({
    name,
    schema,
    path: `/${name}`,
    records: null,
    primaryKey: [['id']],
    paginator: paged ? (api) => offsetPaginator({ pageSize: api.pageSize }) : singlePage,
    incremental,
  });

// Parents before children: interactions carry video_id, views carry viewer_id and video_id.
export const streams = [list('videos', videos, false), list('viewers', viewers, false), list('views', views, true), list('interactions', interactions, true)];
