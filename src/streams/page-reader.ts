// Reading a list's pages: one after the other as each page names the next, or, for offset paging,
// several ahead at once, so that at real latencies (100-300 ms an answer) a list is read at the pace
// its API allows rather than one page per round trip.
import { SystemError } from '../protocol';
import { describeRequest, type HttpClient, type SendOptions } from '../http';
import type { Page, PageRequest, Paginator, RecordSelector } from './paginate';

const requestKey = (request: PageRequest): string =>
  `${request.url} ${JSON.stringify(
    Object.entries(request.params)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  )}`;

/** Empty pages in a row, each pointing to another, after which a list is taken to make no progress. */
const MAX_EMPTY_PAGES = 5;

/**
 * What keeps a server that ignores a paging parameter from producing endless duplicates or
 * requests: the same next page twice, a page holding the same items as the one before (an ignored
 * offset or token), or empty pages that keep pointing to more, are reported as errors.
 */
class PagingGuard {
  private readonly seen = new Set<string>();
  private previous: string | undefined;
  private empty = 0;

  /** Before a request goes. */
  asking(request: PageRequest): void {
    const key = requestKey(request);
    if (this.seen.has(key)) {
      throw new SystemError(`Pagination loop: the API pointed to ${describeRequest(request)} a second time; stopping instead of reading the same pages forever`);
    }
    this.seen.add(key);
  }

  /** Each page in list order, before it is yielded. */
  read(page: Page): void {
    const signature = page.items.some((item) => item !== null) ? JSON.stringify([page.items.length, page.items[0], page.items.at(-1)]) : undefined;
    if (signature !== undefined && signature === this.previous) {
      throw new SystemError(
        `${describeRequest(page.request)} answered the same items as the page before it; stopping instead of looping (does the server ignore a paging parameter?)`,
      );
    }
    this.previous = signature;
    this.empty = page.items.length === 0 ? this.empty + 1 : 0;
  }

  /** After a page pointed to `next`. */
  following(page: Page, next: PageRequest | undefined): void {
    if (next && this.empty >= MAX_EMPTY_PAGES) {
      throw new SystemError(`${MAX_EMPTY_PAGES} empty pages in a row still pointed to more (last: ${describeRequest(page.request)}); stopping instead of paging forever`);
    }
  }
}

/** Requests one page and selects its records. */
async function fetchPage(http: HttpClient, request: PageRequest, select: RecordSelector, index: number, sending?: SendOptions): Promise<Page> {
  const { body } = await http.getJson(request.url, request.params, sending);
  return { request, body, items: select(body, request, index) };
}

/**
 * Reads a list's pages, in order, each checked by a PagingGuard. Offset pages are read ahead, several
 * in flight (readAhead, below); the others one after the other, as each page names the next.
 */
export async function* fetchPages(http: HttpClient, first: PageRequest, paginator: Paginator, select: RecordSelector): AsyncGenerator<Page> {
  const request = { url: first.url, params: { ...paginator.initialParams, ...first.params } };
  const guard = new PagingGuard();
  if (paginator.offsets !== undefined) yield* readAhead(http, request, paginator, select, guard);
  else yield* pagesInTurn(http, request, paginator, select, guard);
}

/**
 * Reads pages one after another from `request`. The next page is asked
 * for as soon as the one before names it, while the reader is still busy with that one (a fan-out
 * stream sends a request per record of it): at 100-300 ms an answer, a reader that asked only once
 * done would wait that long for every page.
 */
async function* pagesInTurn(http: HttpClient, request: PageRequest, paginator: Paginator, select: RecordSelector, guard: PagingGuard): AsyncGenerator<Page> {
  let index = 0;
  guard.asking(request);
  let coming: Promise<Page> | undefined = fetchPage(http, request, select, index);
  while (coming) {
    const page: Page = await coming;
    guard.read(page);
    const next = paginator.next(page);
    guard.following(page, next);
    coming = undefined;
    let refused: unknown;
    if (next) {
      try {
        guard.asking(next);
        coming = fetchPage(http, next, select, ++index);
        // Handled when its turn comes; never left unhandled if the reader stops first.
        coming.catch(() => undefined);
      } catch (error) {
        refused = error;
      }
    }
    yield page;
    // A loop is reported after the page that pointed back, as when pages were read one by one.
    if (refused) throw refused;
  }
}

/**
 * Offset pages, read ahead. Pages are read in turn until one shows how many records the server
 * really gives per page: a full page, or two in a row holding as many (a server may cap its pages
 * below the limit asked, and a short first page may also be the whole list). Then the next offsets,
 * by that step, are asked for as many at once as the client keeps in flight (HttpClient.parallelism)
 * and yielded in order. A page that does not hold exactly one step (shorter, longer or empty) means
 * the offsets asked ahead may skip or repeat records: they are dropped, and the list goes on in turn
 * from where that page ended, as the paginator says. So nothing is skipped or read twice whatever
 * cap the server applies; what it costs is the requests dropped, at most one window of them.
 */
async function* readAhead(http: HttpClient, first: PageRequest, paginator: Paginator, select: RecordSelector, guard: PagingGuard): AsyncGenerator<Page> {
  let request: PageRequest | undefined = first;
  let index = 0;
  let lastCount: number | undefined;
  while (request) {
    guard.asking(request);
    const page = await fetchPage(http, request, select, index++);
    guard.read(page);
    yield page;
    const next = paginator.next(page);
    guard.following(page, next);
    const count = page.items.length;
    const stepShown = count > 0 && (count >= paginator.offsets!.pageSize || count === lastCount);
    lastCount = count;
    request = next;
    if (!request || !stepShown) continue;
    const stopped: AheadStop = yield* pagesAhead(http, request, count, paginator, select, guard, index);
    ({ next: request, index, count: lastCount } = stopped);
  }
}

/** Where reading ahead stopped: the page after the one that broke the step, its count, the index of that page. */
interface AheadStop {
  next: PageRequest | undefined;
  count: number;
  index: number;
}

/** Reads from `start` by `step`, several pages in flight, until a page does not hold exactly `step` records. */
async function* pagesAhead(
  http: HttpClient,
  start: PageRequest,
  step: number,
  paginator: Paginator,
  select: RecordSelector,
  guard: PagingGuard,
  index: number,
): AsyncGenerator<Page, AheadStop> {
  const param = paginator.offsets!.param;
  const base = Number(start.params[param] ?? 0);
  const pending: Promise<Page>[] = [];
  // Pages asked ahead and dropped: those not sent yet never are, those in flight are not waited for.
  const dropped = new AbortController();
  // A page that came back short or empty, while pages before it are still on their way: the list
  // ends there or the step broke, so no more pages are asked ahead.
  let stepBroken = false;
  // How far ahead: one more page for each full page read (twice as far each round trip), up to the
  // client's parallelism, so a short list is not followed by a whole window of empty pages.
  let depth = 2;
  let asked = 0;
  try {
    for (;;) {
      while (!stepBroken && pending.length < Math.max(1, Math.min(depth, http.parallelism))) {
        const request = { url: start.url, params: { ...start.params, [param]: base + asked * step } };
        const page = fetchPage(http, request, select, index + asked++, { signal: dropped.signal, bulk: true });
        // A page dropped (or after a failure before it) is never awaited.
        page.then((read) => (stepBroken ||= read.items.length !== step)).catch(() => undefined);
        pending.push(page);
      }
      const page = await pending.shift()!;
      index++;
      // Pages are registered as they are read, not as they are asked: one dropped may be asked again in turn.
      guard.asking(page.request);
      guard.read(page);
      yield page;
      if (page.items.length === step) {
        depth++;
        continue;
      }
      const next = paginator.next(page);
      guard.following(page, next);
      return { next, count: page.items.length, index };
    }
  } finally {
    dropped.abort();
  }
}
