import type { ApiClock, Logger, RequestReporter } from '../http';
import type { JsonSchema, StreamDefinition } from '../streams';

/** One option of the spec's `api` oneOf, after defaults from the spec are applied. */
export interface ApiConfig {
  name: string;
  api_key: string;
  start_date?: string;
  base_url: string;
  [field: string]: unknown;
}

export interface ConnectorConfig {
  api: ApiConfig;
  user_agent?: string;
}

export interface ConnectEnvironment {
  userAgent: string;
  log: Logger;
  /** Masks the configured secrets in free text. */
  mask: (text: string) => string;
  /** Hears of waits on an API's rate limit (reported as the running stream's status). */
  reporter?: RequestReporter;
  /** Set from the Date header of the API's answers. */
  clock?: ApiClock;
  /** DEBUG logs of each request. */
  debug?: boolean;
}

/**
 * Everything the core needs to know about one API. `Api` is the API's own context (its HTTP
 * clients and settings), built from config by `connect` and handed to its streams: no singletons.
 */
export interface ApiDefinition<Api = unknown> {
  name: string;
  title: string;
  /** The spec's oneOf option for this API (an object schema with a `name` const). */
  specOption: JsonSchema;
  connect(config: ApiConfig, environment: ConnectEnvironment): Api;
  /** A cheap authenticated request; throws a ConnectorError the user can act on. */
  check(api: Api): Promise<void>;
  streams: StreamDefinition<Api>[];
}

// Each API's streams take its own context type; the registry holds them side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyApiDefinition = ApiDefinition<any>;
