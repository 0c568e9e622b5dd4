import { type ApiConfig, clientFromConfig, type ConnectEnvironment } from '../../connector';
import type { HttpClient } from '../../http';
import { parseJsonLossless } from '../../json';
import type { HttpApi } from '../../streams';

export const title = 'Fullstory';

/** Everything Fullstory's streams need, built from config: three clients with different rules. */
export interface FullstoryApi extends HttpApi {
  exportBaseUrl: string;
  /** Legacy bundle downloads, paced to their own documented limit (2 per minute). */
  bundleDownloads: HttpClient;
  /** Pre-signed export locations on another host: no credentials, query strings never printed. */
  presignedDownloads: HttpClient;
  segmentId: string;
  sessionsPerUser: number;
  windowMs: number;
  /** segment_events windows whose exports are prepared at once. */
  exportsInFlight: number;
  settleMs: number;
  overlapMs: number;
  pollIntervalMs: number;
  operationTimeoutMs: number;
  /** Where segment exports start when there is neither state nor start_date. */
  defaultLookbackMs: number;
}

/** v2 errors are {"message", "code"}: both are shown. */
export function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 300) || undefined;
  const { message, code } = (body ?? {}) as { message?: unknown; code?: unknown };
  if (typeof message !== 'string' || message === '') return undefined;
  return code !== undefined && code !== null && code !== '' ? `${message} (code ${String(code)})` : message;
}

export function connectFullstory(config: ApiConfig, environment: ConnectEnvironment): FullstoryApi {
  const apiOrigin = new URL(config.base_url).origin;
  const exportBaseUrl = String(config.export_base_url);
  const exportOrigin = new URL(exportBaseUrl).origin;
  // Fullstory documents "Authorization: Basic <key>" with the key exactly as issued (not base64 of user:pass).
  const headers = { Authorization: `Basic ${config.api_key}` };
  const answers = { errorMessage, parseJson: parseJsonLossless, baseUrlExample: 'https://api.fullstory.com' };
  // No published limit for the v2 APIs: the pace follows what Fullstory accepts. Its limiter is set
  // "such that it should not be hit under realistic load", with a burst allowance on top
  // (developer.fullstory.com/overview/limits): slow start begins at 35 a second.
  const http = clientFromConfig(config, environment, {
    apiTitle: title,
    auth: { headers, credentialOrigins: [apiOrigin, exportOrigin] },
    answers,
    pace: { adaptive: true, adaptiveStartPerMinute: 2100 },
  });
  const bundleDownloads = clientFromConfig({ ...config, requests_per_minute: config.legacy_downloads_per_minute }, environment, {
    apiTitle: title,
    auth: { headers, credentialOrigins: [exportOrigin] },
    answers,
  });
  if (config.sessions_in_flight !== undefined) {
    environment.log('WARN', `${title}: sessions_in_flight is no longer used: requests in flight follow the pace and the latency over all streams, up to max_requests_in_flight`);
  }
  const presignedDownloads = clientFromConfig(config, environment, { apiTitle: title, auth: { headers: {}, credentialOrigins: [] }, answers, reporting: { hideQuery: true } });
  return {
    http,
    bundleDownloads,
    presignedDownloads,
    baseUrl: config.base_url,
    exportBaseUrl,
    apiTitle: title,
    segmentId: String(config.segment_id),
    sessionsPerUser: Number(config.sessions_per_user),
    windowMs: Number(config.segment_export_window_hours) * 3_600_000,
    exportsInFlight: Number(config.segment_exports_in_flight),
    settleMs: Number(config.segment_export_settle_minutes) * 60_000,
    overlapMs: Number(config.segment_export_overlap_hours) * 3_600_000,
    pollIntervalMs: Number(config.operation_poll_seconds) * 1000,
    operationTimeoutMs: Number(config.operation_timeout_minutes) * 60_000,
    defaultLookbackMs: 30 * 86_400_000,
  };
}
