import { SystemError } from '../protocol';
import { describeRequest, type Params } from '../http';

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
  /**
   * Offset paging: the parameter that moves, and the records asked per page. Pages further on can
   * then be asked for before the one before them is read (fetchPages reads ahead).
   */
  readonly offsets?: { param: string; pageSize: number };
  /**
   * The query parameters that say where in the list a request reads (a page number, an offset, a
   * token): a full refresh keeps them in its STATE and a retried attempt resumes there. None: the
   * list cannot resume (one request).
   */
  readonly position?: string[];
}

/** The records of a page (`index`: 0 for the first page of a list). */
export type RecordSelector = (body: unknown, request: PageRequest, index?: number) => unknown[];

const field = (body: unknown, name: string): unknown => (body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined);

/**
 * Follows a next-page URL from the envelope (`next_page`), stopping on `hasMore: false`, a null URL
 * or an empty page. The URL is followed only on the origin we are talking to: credentials never go
 * to another host. For a URL on another origin, its page number is requested from our own origin.
 */
export function nextUrlPaginator(options: { urlField: string; hasMoreField?: string; pageParam: string }): Paginator {
  return {
    position: [options.pageParam],
    next(page) {
      if (page.items.length === 0) return undefined;
      if (options.hasMoreField && field(page.body, options.hasMoreField) === false) return undefined;
      const next = field(page.body, options.urlField);
      if (next === null || next === undefined || next === '') {
        // More pages promised but none named: read on by the documented page parameter (PersistIQ
        // OpenAPI: `page`, from 1) rather than end the list as if it were whole.
        if (!options.hasMoreField || field(page.body, options.hasMoreField) !== true) return undefined;
        const url = new URL(page.request.url);
        const stated = page.request.params[options.pageParam] ?? url.searchParams.get(options.pageParam) ?? 1;
        const current = Number(stated);
        // Ending here would pass the list off as whole while the API says more pages exist.
        if (!Number.isInteger(current)) {
          throw new SystemError(
            `The response to ${describeRequest(page.request)} says ${options.hasMoreField}: true but names no next page, and this page's "${options.pageParam}" (${JSON.stringify(stated)}) is no number to count on from; stopping instead of ending the list as if it were whole`,
          );
        }
        url.searchParams.delete(options.pageParam);
        return { url: url.toString(), params: { ...page.request.params, [options.pageParam]: current + 1 } };
      }
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
    offsets: { param: offsetParam, pageSize: options.pageSize },
    position: [offsetParam],
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
    position: [options.param],
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
    const message = field(body, 'message');
    // An error's shape ({code, message}) with HTTP 200 is not an empty list (Fullstory's errors carry both).
    if (absentIsEmpty && items === undefined && typeof message === 'string' && field(body, 'code') !== undefined) {
      throw new SystemError(`${apiTitle} answered ${describeRequest(request)} with an error instead of "${name}": ${message} (code ${JSON.stringify(field(body, 'code'))})`);
    }
    if (absentIsEmpty && index === 0 && items === undefined && body !== null && typeof body === 'object' && !Array.isArray(body)) return [];
    const where = name === null ? 'the response body' : `"${name}"`;
    const got = items === undefined ? 'nothing' : items === null ? 'null' : typeof items;
    throw new SystemError(`${apiTitle} returned an unexpected response to ${describeRequest(request)}: expected a list of records at ${where}, got ${got}`);
  };
}
