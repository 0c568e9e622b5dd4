// What describes a request, kept apart from the HTTP client so that commands which send no
// request (spec, discover) never load axios (a fifth of their start-up time).
import type { AxiosRequestConfig } from 'axios';

export type Params = Record<string, string | number | boolean | undefined>;
export type Logger = (level: 'INFO' | 'WARN' | 'ERROR' | 'DEBUG', message: string) => void;

/** "GET /v1/leads?page=2": method, path and query, never the host or headers. */
export function describeRequest(config: Pick<AxiosRequestConfig, 'url' | 'method' | 'params'> | undefined): string {
  if (!config?.url) return 'request';
  const url = new URL(config.url);
  for (const [key, value] of Object.entries(config.params ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return `${(config.method ?? 'get').toUpperCase()} ${url.pathname}${url.search}`;
}
