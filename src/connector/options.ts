// What an API folder fills in for the spec: its option of the config's oneOf, with the fields every
// API shares (name, api_key, start_date, base_url) and its own.
import type { JsonSchema } from '../streams';

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
