// What a server says about waiting: Retry-After and X-RateLimit-* headers, read as milliseconds.

/**
 * The server's now, from the Date header of the same answer: an instant it names (an HTTP-date
 * Retry-After, an epoch X-RateLimit-Reset) is on its clock, which may be an hour off ours. Without a
 * Date header, our clock.
 */
const answeredAt = (headers: Record<string, unknown> | undefined): number => {
  const date = typeof headers?.date === 'string' ? Date.parse(headers.date) : NaN;
  return Number.isFinite(date) ? date : Date.now();
};

/** Wait the server asks for: Retry-After (seconds or HTTP-date), else X-RateLimit-Reset. */
export function serverWaitMs(headers: Record<string, unknown> | undefined, now = answeredAt(headers)): number | undefined {
  const retryAfter = headers?.['retry-after'];
  if (typeof retryAfter === 'string' && retryAfter.trim() !== '') {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return rateLimitResetMs(headers, now);
}

/**
 * X-RateLimit-Reset as a wait: epoch seconds, epoch milliseconds, or seconds to wait (APIs differ;
 * an epoch is always far larger than a wait).
 */
function rateLimitResetMs(headers: Record<string, unknown> | undefined, now: number): number | undefined {
  const reset = Number(headers?.['x-ratelimit-reset']);
  if (headers?.['x-ratelimit-reset'] === undefined || headers['x-ratelimit-reset'] === '' || !Number.isFinite(reset)) return undefined;
  if (reset > 1e12) return Math.max(0, reset - now);
  return reset > 1e9 ? Math.max(0, reset * 1000 - now) : Math.max(0, reset * 1000);
}

/** The server says its budget is spent: a 429, or X-RateLimit-Remaining: 0. */
export const limitSpent = (status: number | undefined, headers: Record<string, unknown> | undefined): boolean =>
  status === 429 || String(headers?.['x-ratelimit-remaining']) === '0';

/**
 * How long the server asks a retry to wait: Retry-After whenever sent; X-RateLimit-Reset only when
 * the limit is spent. PersistIQ sends its reset on every answer: a 5xx under it is backed off, not
 * waited out until the window ends.
 */
export function retryWaitMs(status: number | undefined, headers: Record<string, unknown> | undefined, now = answeredAt(headers)): number | undefined {
  const retryAfter = serverWaitMs({ 'retry-after': headers?.['retry-after'] }, now);
  if (retryAfter !== undefined) return retryAfter;
  return limitSpent(status, headers) ? rateLimitResetMs(headers, now) : undefined;
}
