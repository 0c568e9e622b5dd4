// Airbyte protocol v0.3 message types (the subset this source emits) and their constructors.
// Schema: airbyte_protocol.yaml (AirbyteMessage and its definitions).

export type FailureType = 'system_error' | 'config_error' | 'transient_error';
export type StreamStatus = 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE';
export type LogLevel = 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
export type SyncMode = 'full_refresh' | 'incremental';
export type StreamState = Record<string, unknown>;

/**
 * The state of a full-refresh stream that has read everything: a retried attempt of the same sync
 * given it reads nothing more of the stream (airbyte-python-cdk checkpoint_reader.py
 * FULL_REFRESH_COMPLETE_STATE; the platform clears full-refresh state when a new sync starts).
 */
export const FULL_REFRESH_COMPLETE: StreamState = { __ab_full_refresh_sync_complete: true };
export const isFullRefreshComplete = (state: StreamState | undefined): boolean => state?.__ab_full_refresh_sync_complete === true;
/** The final state of a full refresh that cannot resume (airbyte-python-cdk core.py NO_CURSOR_STATE_KEY): on input, no state. */
export const NO_CURSOR_STATE_KEY = '__ab_no_cursor_state_message';

export interface StreamDescriptor {
  name: string;
  namespace?: string;
}

export interface AirbyteStream {
  name: string;
  json_schema: Record<string, unknown>;
  supported_sync_modes: SyncMode[];
  source_defined_cursor?: boolean;
  default_cursor_field?: string[];
  source_defined_primary_key?: string[][];
  is_resumable?: boolean;
}

export interface ConfiguredStream {
  stream: { name: string; namespace?: string; [key: string]: unknown };
  sync_mode: SyncMode;
  cursor_field?: string[];
  destination_sync_mode?: string;
  primary_key?: string[][];
}

export interface ConnectorSpecification {
  documentationUrl: string;
  connectionSpecification: Record<string, unknown>;
  supportsIncremental?: boolean;
  protocol_version?: string;
}

export interface StateMessage {
  type: 'STREAM';
  stream: { stream_descriptor: StreamDescriptor; stream_state: StreamState };
  sourceStats: { recordCount: number };
}

export interface ErrorTrace {
  message: string;
  internal_message?: string;
  stack_trace?: string;
  failure_type: FailureType;
  stream_descriptor?: StreamDescriptor;
}

export type AirbyteMessage =
  | { type: 'RECORD'; record: { stream: string; data: Record<string, unknown>; emitted_at: number } }
  | { type: 'STATE'; state: StateMessage }
  | { type: 'LOG'; log: { level: LogLevel; message: string } }
  | { type: 'SPEC'; spec: ConnectorSpecification }
  | { type: 'CATALOG'; catalog: { streams: AirbyteStream[] } }
  | { type: 'CONNECTION_STATUS'; connectionStatus: { status: 'SUCCEEDED' | 'FAILED'; message?: string } }
  | { type: 'TRACE'; trace: TraceBody };

export type TraceBody =
  | { type: 'ERROR'; emitted_at: number; error: ErrorTrace }
  | {
      type: 'STREAM_STATUS';
      emitted_at: number;
      stream_status: { stream_descriptor: StreamDescriptor; status: StreamStatus };
    }
  | {
      type: 'ESTIMATE';
      emitted_at: number;
      estimate: { name: string; type: 'STREAM'; row_estimate?: number; byte_estimate?: number };
    };

export const logMessage = (level: LogLevel, message: string): AirbyteMessage => ({
  type: 'LOG',
  log: { level, message },
});

export const stateMessage = (stream: string, state: StreamState, recordCount: number): AirbyteMessage => ({
  type: 'STATE',
  state: {
    type: 'STREAM',
    stream: { stream_descriptor: { name: stream }, stream_state: state },
    sourceStats: { recordCount },
  },
});

/** Why a RUNNING stream is slow: it waits on the API's rate limit, until `quota_reset` (epoch ms) when known. */
export interface StreamStatusReason {
  type: 'RATE_LIMITED';
  rate_limited?: { quota_reset?: number };
}

export const streamStatus = (stream: string, status: StreamStatus, reasons?: StreamStatusReason[]): AirbyteMessage => ({
  type: 'TRACE',
  trace: {
    type: 'STREAM_STATUS',
    emitted_at: Date.now(),
    stream_status: { stream_descriptor: { name: stream }, status, ...(reasons ? { reasons } : {}) },
  },
});

export const errorTrace = (error: ErrorTrace): AirbyteMessage => ({
  type: 'TRACE',
  trace: { type: 'ERROR', emitted_at: Date.now(), error },
});

export const rowEstimate = (stream: string, rows: number): AirbyteMessage => ({
  type: 'TRACE',
  trace: { type: 'ESTIMATE', emitted_at: Date.now(), estimate: { name: stream, type: 'STREAM', row_estimate: rows } },
});

export const connectionStatus = (succeeded: boolean, message?: string): AirbyteMessage => ({
  type: 'CONNECTION_STATUS',
  connectionStatus: { status: succeeded ? 'SUCCEEDED' : 'FAILED', ...(message ? { message } : {}) },
});
