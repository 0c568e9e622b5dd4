import { SystemError } from './errors';
import type { HttpClient, Params } from './http';
import { describeRequest } from './request';

export interface PageRequest {
  url: string;
  params: Params;
}

export interface Page {
  request: PageRequest;
  body: unknown;
  /** The page's raw items, before null items are dropped (a short page is judged on these). */
  items: unknown[];
}

/** Given the page just read, says which request reads the next one (undefined: no more pages). */
export interface Paginator {
  /** Parameters of the first request (e.g. limit and offset 0). */
  readonly initialParams?: Params;
  next(page: Page): PageRequest | undefined;
}

/** The records of a page (`index`: 0 for the first page of a list). */
export type RecordSelector = (body: unknown, request: PageRequest, index?: number) => unknown[];

const field = (body: unknown, name: string): unknown =>
  body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined;

/**
 * Follows a next-page URL from the envelope (`next_page`), stopping on `hasMore: false`, a null URL
 * or an empty page. The URL is followed only on the origin we are talking to: credentials never go
 * to another host. For a URL on another origin, its page number is requested from our own origin.
 */
export function nextUrlPaginator(options: { urlField: string; hasMoreField?: string; pageParam: string }): Paginator {
  return {
    next(page) {
      if (page.items.length === 0) return undefined;
      if (options.hasMoreField && field(page.body, options.hasMoreField) === false) return undefined;
      const next = field(page.body, options.urlField);
      if (next === null || next === undefined || next === '') return undefined;
      if (typeof next !== 'string') {
        throw new SystemError(`Unexpected "${options.urlField}" in the response to ${describeRequest(page.request)}: ${JSON.stringify(next)}`);
      }
      const current = new URL(page.request.url);
      const nextUrl = new URL(next, current);
      if (nextUrl.origin === current.origin) {
        // Keep our own filters (e.g. updated_after) unless the URL restates them.
        const params = Object.fromEntries(Object.entries(page.request.params).filter(([key]) => !nextUrl.searchParams.has(key)));
        return { url: nextUrl.toString(), params };
      }
      const pageNumber = nextUrl.searchParams.get(options.pageParam);
      if (!pageNumber || !/^\d+$/.test(pageNumber)) {
        throw new SystemError(
          `The next page URL in the response to ${describeRequest(page.request)} points to another host (${nextUrl.origin}) and carries no "${options.pageParam}" number; it was not followed, so the API key is not sent there`,
        );
      }
      const ours = new URL(page.request.url);
      ours.searchParams.delete(options.pageParam);
      return { url: ours.toString(), params: { ...page.request.params, [options.pageParam]: Number(pageNumber) } };
    },
  };
}

/**
 * limit + offset, the offset moved by the items a page held. Ends on a short page, or, where the
 * server may hold pages below the limit asked for, only on an empty one.
 */
export function offsetPaginator(options: { pageSize: number; limitParam?: string; offsetParam?: string; endsOn?: 'short_page' | 'empty_page' }): Paginator {
  const limitParam = options.limitParam ?? 'limit';
  const offsetParam = options.offsetParam ?? 'offset';
  return {
    initialParams: { [limitParam]: options.pageSize, [offsetParam]: 0 },
    next(page) {
      if (page.items.length === 0 || (options.endsOn !== 'empty_page' && page.items.length < options.pageSize)) return undefined;
      const offset = Number(page.request.params[offsetParam] ?? 0) + page.items.length;
      return { url: page.request.url, params: { ...page.request.params, [offsetParam]: offset } };
    },
  };
}

/** An opaque token in the body (first non-empty of `tokenFields`) sent back as `param`. */
export function nextTokenPaginator(options: { tokenFields: string[]; param: string; initialParams?: Params }): Paginator {
  return {
    initialParams: options.initialParams,
    next(page) {
      for (const name of options.tokenFields) {
        const token = field(page.body, name);
        if (typeof token === 'string' && token !== '') return { url: page.request.url, params: { ...page.request.params, [options.param]: token } };
      }
      return undefined;
    },
  };
}

/** One request, no pages. */
export const singlePage: Paginator = { next: () => undefined };

/**
 * Reads the records under `name` in an envelope; `null` means the body itself is the list. With
 * `absentIsEmpty`, a first page without the key is an empty list (proto3 JSON leaves out an empty
 * list); a later page without it is an error, as a page promised by the one before is not empty.
 */
export function recordsAt(name: string | null, apiTitle: string, absentIsEmpty = false): RecordSelector {
  return (body, request, index = 0) => {
    const items = name === null ? body : field(body, name);
    if (Array.isArray(items)) return items;
    if (absentIsEmpty && index === 0 && items === undefined && body !== null && typeof body === 'object' && !Array.isArray(body)) return [];
    const where = name === null ? 'the response body' : `"${name}"`;
    const got = items === undefined ? 'nothing' : items === null ? 'null' : typeof items;
    throw new SystemError(`${apiTitle} returned an unexpected response to ${describeRequest(request)}: expected a list of records at ${where}, got ${got}`);
  };
}

const requestKey = (request: PageRequest): string =>
  `${request.url} ${JSON.stringify(Object.entries(request.params).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)))}`;

/** Empty pages in a row, each pointing to another, after which a list is taken to make no progress. */
const MAX_EMPTY_PAGES = 5;

/**
 * Reads pages one after another. A server that ignores a paging parameter must not produce endless
 * duplicates or requests: the same next page twice, a page holding the same items as the one before
 * (an ignored offset or token), or empty pages that keep pointing to more, are reported as errors.
 */
export async function* fetchPages(
  http: HttpClient,
  first: PageRequest,
  paginator: Paginator,
  select: RecordSelector,
): AsyncGenerator<Page> {
  const seen = new Set<string>();
  let request: PageRequest | undefined = { url: first.url, params: { ...paginator.initialParams, ...first.params } };
  let previous: string | undefined;
  let empty = 0;
  for (let index = 0; request; index++) {
    const key = requestKey(request);
    if (seen.has(key)) {
      throw new SystemError(`Pagination loop: the API pointed to ${describeRequest(request)} a second time; stopping instead of reading the same pages forever`);
    }
    seen.add(key);
    const { body } = await http.getJson(request.url, request.params);
    const page: Page = { request, body, items: select(body, request, index) };
    const signature = page.items.some((item) => item !== null) ? JSON.stringify([page.items.length, page.items[0], page.items.at(-1)]) : undefined;
    if (signature !== undefined && signature === previous) {
      throw new SystemError(`${describeRequest(request)} answered the same items as the page before it; stopping instead of looping (does the server ignore a paging parameter?)`);
    }
    previous = signature;
    yield page;
    request = paginator.next(page);
    empty = page.items.length === 0 ? empty + 1 : 0;
    if (request && empty >= MAX_EMPTY_PAGES) {
      throw new SystemError(`${MAX_EMPTY_PAGES} empty pages in a row still pointed to more (last: ${describeRequest(page.request)}); stopping instead of paging forever`);
    }
  }
}
