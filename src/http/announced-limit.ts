// A limit the API announces for the key (PersistIQ's X-RateLimit-Limit), followed by the rate limiter
// within the documented floor and the user's cap, and said in a LOG when it changes.
import type { RateLimiter } from './rate-limit';

const LOGGED_ANNOUNCEMENTS = 5;

/**
 * Follows the key's limit as the API announces it (requests per window), never below `floor` (the
 * documented limit) nor above `cap` (the user's). Returns what changed, for a LOG, when it is new.
 */
export function followAnnouncement(limiter: RateLimiter, announced: number, cap?: number, floor = 0): string | undefined {
  const limit = Math.max(floor, announced);
  if (!limiter.announce(limit, cap) || limiter.announcements > LOGGED_ANNOUNCEMENTS + 1) return undefined;
  // A server whose announcement changes at every answer must not fill the log.
  if (limiter.announcements > LOGGED_ANNOUNCEMENTS) return `changed the limit it announces ${LOGGED_ANNOUNCEMENTS} times; the pace keeps following it, without further LOGs`;
  const why = cap !== undefined && cap < limit ? ` (capped by requests_per_minute ${cap})` : announced < floor ? ` (the documented ${floor} is the floor)` : '';
  return `announces ${announced} requests/minute for this key; pacing at ${Math.round(limiter.currentRate)}${why}`;
}
