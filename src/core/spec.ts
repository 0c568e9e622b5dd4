import type { AnyApiDefinition } from './api';
import { ConfigError } from './errors';
import type { ConnectorSpecification } from './protocol';
import type { JsonSchema } from './stream';

/** The docs: an index of the three APIs, and a page per API (what a one-API image links to). */
export const DOCUMENTATION_URL = 'https://github.com/source-saas-trio/source-saas-trio/blob/main/docs/README.md';
export const apiDocumentationUrl = (api: string) => `https://github.com/source-saas-trio/source-saas-trio/blob/main/docs/${api}.md`;

export const START_DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z$';

interface OptionBasics {
  name: string;
  title: string;
  description: string;
  apiKeyDescription: string;
  defaultBaseUrl: string;
  startDateDescription: string;
  /** API-specific fields, ordered after the common ones. */
  extra?: Record<string, JsonSchema>;
}

/** The fields every API option shares: name (the discriminator), api_key, start_date, base_url. */
export function apiOption(basics: OptionBasics): JsonSchema {
  const properties: Record<string, JsonSchema> = {
    name: { type: 'string', const: basics.name, title: 'API', description: `Selects ${basics.title}.`, order: 0, default: basics.name, examples: [basics.name] },
    api_key: {
      type: 'string',
      title: 'API key',
      description: basics.apiKeyDescription,
      airbyte_secret: true,
      minLength: 1,
      order: 1,
      examples: ['<your API key>'],
    },
    start_date: {
      type: 'string',
      title: 'Start date',
      description: basics.startDateDescription,
      format: 'date-time',
      pattern: START_DATE_PATTERN,
      pattern_descriptor: 'YYYY-MM-DDTHH:mm:ssZ',
      order: 2,
      examples: ['2024-01-01T00:00:00Z'],
    },
    base_url: {
      type: 'string',
      title: 'API base URL',
      description: `Base URL of the ${basics.title} API. Change it only to go through a proxy or to test against a mock.`,
      format: 'uri',
      pattern: '^https?://',
      default: basics.defaultBaseUrl,
      order: 3,
      examples: [basics.defaultBaseUrl],
    },
  };
  let order = 4;
  for (const [key, schema] of Object.entries(basics.extra ?? {})) properties[key] = { ...schema, order: order++ };
  return { type: 'object', title: basics.title, description: basics.description, required: ['name', 'api_key'], properties };
}

/** AIRBYTE_SOURCE_API=<name> (a build argument of the image) narrows the connector to one API. */
export function selectApis(all: AnyApiDefinition[], narrowTo: string | undefined): AnyApiDefinition[] {
  if (!narrowTo) return all;
  const chosen = all.filter((api) => api.name === narrowTo);
  if (chosen.length === 0) {
    throw new ConfigError(`AIRBYTE_SOURCE_API is "${narrowTo}", which is not one of: ${all.map((api) => api.name).join(', ')}`);
  }
  return chosen;
}

export function buildSpec(apis: AnyApiDefinition[], defaultUserAgent: string): ConnectorSpecification {
  // An image built for one API (AIRBYTE_SOURCE_API) is that API's connector: its title, its page.
  const single = apis.length === 1 ? apis[0] : undefined;
  return {
    documentationUrl: single ? apiDocumentationUrl(single.name) : DOCUMENTATION_URL,
    connectionSpecification: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: single ? `${single.title} source` : 'Fullstory, Mindstamp and PersistIQ source',
      type: 'object',
      required: ['api'],
      additionalProperties: true,
      properties: {
        api: {
          type: 'object',
          title: 'API',
          description: 'The API to read from, and its credentials.',
          order: 0,
          display_type: 'dropdown',
          oneOf: apis.map((api) => api.specOption),
        },
        user_agent: {
          type: 'string',
          title: 'User-Agent',
          description: `Sent as the User-Agent header of every request. Default: ${defaultUserAgent}.`,
          order: 1,
          examples: [`${defaultUserAgent} (data-team@example.com)`],
        },
      },
    },
  };
}
