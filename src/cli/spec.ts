import type { AnyApiDefinition } from '../connector';
import { ConfigError, type ConnectorSpecification } from '../protocol';

/** The docs: an index of the three APIs, and a page per API (what a one-API image links to). */
export const DOCUMENTATION_URL = 'https://github.com/source-saas-trio/source-saas-trio/blob/main/docs/README.md';
export const apiDocumentationUrl = (api: string) => `https://github.com/source-saas-trio/source-saas-trio/blob/main/docs/${api}.md`;

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
