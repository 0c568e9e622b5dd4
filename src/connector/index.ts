// connector/: what an API folder fills in. The API definition (its spec option, how to connect,
// check and its streams), the option fields every API shares, and the tuning fields from which its
// HTTP client is built. Imports streams/, http/ and protocol/.
export type { AnyApiDefinition, ApiConfig, ApiDefinition, ConnectEnvironment, ConnectorConfig } from './api';
export { apiOption, START_DATE_PATTERN } from './options';
export { clientFromConfig, tuningFields, type ClientSpecifics, type TuningDefaults } from './tuning';
