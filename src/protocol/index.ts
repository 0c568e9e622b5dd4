// protocol/: what the connector says to the platform. The Airbyte messages and their builders, the
// errors that end a command with a failure type, the batched stdout writer (secrets masked, STATE
// never ahead of its records) and the byte batches of records it writes. Imports nothing of src/.
export { asConnectorError, ConfigError, ConnectorError, SystemError, TransientError } from './errors';
export { copyRange, JsonBatch } from './json-batch';
export {
  connectionStatus,
  errorTrace,
  FULL_REFRESH_COMPLETE,
  isFullRefreshComplete,
  NO_CURSOR_STATE_KEY,
  logMessage,
  rowEstimate,
  stateMessage,
  streamStatus,
  type AirbyteMessage,
  type AirbyteStream,
  type ConfiguredStream,
  type ConnectorSpecification,
  type FailureType,
  type StreamState,
  type StreamStatusReason,
  type SyncMode,
} from './messages';
export { OutputWriter, SecretScrubber } from './output';
