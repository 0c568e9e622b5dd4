import type { FailureType } from './messages';

/** An error that knows how the platform should treat it (retry the sync or ask the user to fix config). */
export class ConnectorError extends Error {
  /** The HTTP status behind the error, when an API answered with one. */
  httpStatus?: number;
  /** The cause is shared by every stream (a rejected key): the sync ends instead of meeting it again. */
  everyStream?: boolean;

  constructor(
    message: string,
    readonly failureType: FailureType,
    readonly internalMessage?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The user must change something: config, catalog, state, or the key's permissions. */
export class ConfigError extends ConnectorError {
  constructor(message: string, internalMessage?: string) {
    super(message, 'config_error', internalMessage);
  }
}

/** Worth retrying the sync later: rate limits, 5xx, network trouble, exhausted retries. */
export class TransientError extends ConnectorError {
  constructor(message: string, internalMessage?: string) {
    super(message, 'transient_error', internalMessage);
  }
}

/** The API or the connector did something unexpected. */
export class SystemError extends ConnectorError {
  constructor(message: string, internalMessage?: string) {
    super(message, 'system_error', internalMessage);
  }
}

export function asConnectorError(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SystemError(`Unexpected error: ${message}`, error instanceof Error ? error.stack : undefined);
}
