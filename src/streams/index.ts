// streams/: what a stream is and how it reads. The stream contract and the declarative httpStream,
// paginator strategies and the record selector, pages read in turn or ahead, the datetime cursor,
// fan-out in order (parent → children), and the schema-drift catch-all. Imports http/, json/ and
// protocol/.
export { DatetimeCursor, type DatetimeCursorOptions, isoInstantMs, rfc2822AsIso } from './cursor';
export { inOrder, type Settled } from './in-order';
export { fetchPages } from './page-reader';
export { fromPositionOrStart, logResuming } from './list-position';
export { nextTokenPaginator, nextUrlPaginator, offsetPaginator, recordsAt, singlePage, type Page, type PageRequest, type Paginator, type RecordSelector } from './paginate';
export { ADDITIONAL_PROPERTIES, SchemaDrift, withCatchAll } from './schema-drift';
export {
  catalogSchema,
  catchAllField,
  httpStream,
  joinUrl,
  recordObjects,
  renamedStateKey,
  type HttpApi,
  type HttpStreamOptions,
  type RecordRewrite,
  type JsonRecord,
  type JsonSchema,
  type ReadContext,
  type StreamDefinition,
  type StreamItem,
} from './stream';
