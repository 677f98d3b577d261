/**
 * The components every gateway OpenAPI document shares: MCP results (CallToolResult and its
 * content blocks, tool/resource/prompt lists) and the gateway's error bodies and responses.
 * MCP results are open objects: servers may add fields, so no `additionalProperties: false`.
 */
import type { OpenAPIV3_1 } from 'openapi-types';

type Schema = OpenAPIV3_1.SchemaObject;
type Response = OpenAPIV3_1.ResponseObject;

export const ref = (name: string): OpenAPIV3_1.ReferenceObject => ({ $ref: `#/components/schemas/${name}` });
export const responseRef = (name: string): OpenAPIV3_1.ReferenceObject => ({ $ref: `#/components/responses/${name}` });

const str = (description: string): Schema => ({ type: 'string', description });
const meta: Schema = { type: 'object', description: 'Metadata reserved by MCP.' };
const base64 = (description: string): Schema => ({ type: 'string', contentEncoding: 'base64', description } as Schema);
const kind = (value: string): Schema => ({ type: 'string', const: value });
const list = (items: string, key: string): Schema => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'array', items: ref(items) }, nextCursor: str('Set when there are more items (not paged by this API).') },
});

const schemas: Record<string, Schema> = {
  ContentAnnotations: {
    type: 'object',
    description: 'Hints about how a content block is meant to be used.',
    properties: {
      audience: { type: 'array', items: { type: 'string', enum: ['user', 'assistant'] } },
      priority: { type: 'number', minimum: 0, maximum: 1 },
      lastModified: str('ISO 8601 time of the last change.'),
    },
  },
  TextContent: {
    type: 'object',
    required: ['type', 'text'],
    properties: { type: kind('text'), text: str('The text.'), annotations: ref('ContentAnnotations'), _meta: meta },
  },
  ImageContent: {
    type: 'object',
    required: ['type', 'data', 'mimeType'],
    properties: { type: kind('image'), data: base64('The image, base64-encoded.'), mimeType: str('Such as image/png.'), annotations: ref('ContentAnnotations'), _meta: meta },
  },
  AudioContent: {
    type: 'object',
    required: ['type', 'data', 'mimeType'],
    properties: { type: kind('audio'), data: base64('The audio, base64-encoded.'), mimeType: str('Such as audio/wav.'), annotations: ref('ContentAnnotations'), _meta: meta },
  },
  ResourceLink: {
    type: 'object',
    required: ['type', 'uri', 'name'],
    properties: {
      type: kind('resource_link'),
      uri: { type: 'string', format: 'uri', description: 'Read it with GET /api/{server}/resources/read?uri=…' },
      name: str('Programmatic name.'),
      title: str('Display name.'),
      description: str('What the resource is.'),
      mimeType: str('Media type, when known.'),
      size: { type: 'integer', minimum: 0, description: 'Size in bytes, when known.' },
      annotations: ref('ContentAnnotations'),
      _meta: meta,
    },
  },
  TextResourceContents: {
    type: 'object',
    required: ['uri', 'text'],
    properties: { uri: { type: 'string', format: 'uri' }, mimeType: str('Media type, when known.'), text: str('The contents, as text.'), _meta: meta },
  },
  BlobResourceContents: {
    type: 'object',
    required: ['uri', 'blob'],
    properties: { uri: { type: 'string', format: 'uri' }, mimeType: str('Media type, when known.'), blob: base64('The contents, base64-encoded.'), _meta: meta },
  },
  ResourceContents: { anyOf: [ref('TextResourceContents'), ref('BlobResourceContents')] },
  EmbeddedResource: {
    type: 'object',
    required: ['type', 'resource'],
    properties: { type: kind('resource'), resource: ref('ResourceContents'), annotations: ref('ContentAnnotations'), _meta: meta },
  },
  ContentBlock: {
    oneOf: [ref('TextContent'), ref('ImageContent'), ref('AudioContent'), ref('ResourceLink'), ref('EmbeddedResource')],
    discriminator: {
      propertyName: 'type',
      mapping: {
        text: '#/components/schemas/TextContent',
        image: '#/components/schemas/ImageContent',
        audio: '#/components/schemas/AudioContent',
        resource_link: '#/components/schemas/ResourceLink',
        resource: '#/components/schemas/EmbeddedResource',
      },
    },
  },
  CallToolResult: {
    type: 'object',
    description: "The tool's MCP result. A tool that fails reports it here with isError true (still HTTP 200).",
    required: ['content', 'isError'],
    properties: {
      content: { type: 'array', items: ref('ContentBlock'), description: 'What the tool returned, for a reader.' },
      structuredContent: { type: 'object', description: "The result as data (follows the tool's output schema when it has one)." },
      isError: { type: 'boolean', description: 'True when the tool reports a failure.' },
      _meta: meta,
    },
  },
  Tool: {
    type: 'object',
    required: ['name', 'inputSchema'],
    properties: {
      name: str('Call it with POST /api/{server}/{name}.'),
      title: str('Display name.'),
      description: str('What the tool does.'),
      inputSchema: { type: 'object', description: 'JSON Schema of the arguments.' },
      outputSchema: { type: 'object', description: 'JSON Schema of structuredContent.' },
      annotations: { type: 'object', description: 'Hints: readOnlyHint, destructiveHint, idempotentHint, openWorldHint, title.' },
      _meta: meta,
    },
  },
  ListToolsResult: list('Tool', 'tools'),
  Resource: {
    type: 'object',
    required: ['uri', 'name'],
    properties: {
      uri: { type: 'string', format: 'uri' },
      name: str('Programmatic name.'),
      title: str('Display name.'),
      description: str('What the resource is.'),
      mimeType: str('Media type, when known.'),
      size: { type: 'integer', minimum: 0 },
      annotations: ref('ContentAnnotations'),
      _meta: meta,
    },
  },
  ListResourcesResult: list('Resource', 'resources'),
  ReadResourceResult: {
    type: 'object',
    required: ['contents'],
    properties: { contents: { type: 'array', items: ref('ResourceContents') }, _meta: meta },
  },
  Prompt: {
    type: 'object',
    required: ['name'],
    properties: {
      name: str('Get it with POST /api/{server}/prompts/{name}.'),
      title: str('Display name.'),
      description: str('What the prompt is for.'),
      arguments: {
        type: 'array',
        items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, description: { type: 'string' }, required: { type: 'boolean' } } },
      },
      _meta: meta,
    },
  },
  ListPromptsResult: list('Prompt', 'prompts'),
  GetPromptResult: {
    type: 'object',
    required: ['messages'],
    properties: {
      description: str('What the prompt is for.'),
      messages: {
        type: 'array',
        items: { type: 'object', required: ['role', 'content'], properties: { role: { type: 'string', enum: ['user', 'assistant'] }, content: ref('ContentBlock') } },
      },
      _meta: meta,
    },
  },
  SessionId: {
    type: 'object',
    required: ['sessionId'],
    properties: { sessionId: str('Pass it as the sessionId query parameter. Forgotten after 24 hours without use.') },
  },
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: str('Machine-readable, such as SERVER_NOT_FOUND, SESSION_NOT_FOUND, HOST_OFFLINE, REQUEST_TIMEOUT.'),
          message: str('For a person.'),
        },
      },
    },
  },
  ValidationError: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', const: 'INVALID_ARGUMENTS' },
          message: str('For a person.'),
          fields: {
            type: 'array',
            description: 'One entry per argument that does not match the input schema (absent when the MCP server itself rejected the arguments).',
            items: { type: 'object', required: ['path', 'message'], properties: { path: str('Where, such as /items/0/name.'), message: str('What is wrong.') } },
          },
        },
      },
    },
  },
};

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' as const, minimum: 0 } } };
const error = (description: string, schema = 'Error', headers?: Response['headers']): Response => ({
  description,
  ...(headers && { headers }),
  content: { 'application/json': { schema: ref(schema) } },
});

const responses: Record<string, Response> = {
  BadRequest: error('Bad request: the body is not JSON or not a JSON object, or a parameter is wrong.'),
  Unauthorized: error('Credentials missing or wrong.'),
  NotFound: error('Unknown server, tool, prompt or session id.'),
  PayloadTooLarge: error('The body is too large.'),
  InvalidArguments: error('The arguments do not match the input schema, or the MCP server rejected them.', 'ValidationError'),
  InputRequired: error('The MCP server asked its client for input (elicitation, sampling or roots) during the call, which a REST call cannot answer; the message says what. Call it over MCP at /{server}/mcp instead.'),
  TooManyRequests: error('Too many sessions or requests.', 'Error', retryAfter),
  BadGateway: error('The MCP server exited, could not start, or answered with an error.'),
  Unavailable: error('No connected host offers this server right now.', 'Error', retryAfter),
  Timeout: error('The MCP server did not answer in time.'),
};

/** Names of the shared components, which no tool's schema may take. */
export const SHARED_SCHEMA_NAMES: readonly string[] = Object.keys(schemas);

/** Fresh copies of the shared components (`Unauthorized` only when some authentication is on). */
export function sharedComponents(auth: boolean): { schemas: Record<string, Schema>; responses: Record<string, Response> } {
  const copy = structuredClone({ schemas, responses });
  if (!auth) delete copy.responses.Unauthorized;
  return copy;
}

/** The error responses of an operation, by status, for the codes it can fail with. */
export function errorResponses(statuses: readonly number[], auth: boolean): Record<string, OpenAPIV3_1.ReferenceObject> {
  const byStatus: Record<number, string> = {
    400: 'BadRequest', 401: 'Unauthorized', 404: 'NotFound', 409: 'InputRequired', 413: 'PayloadTooLarge', 422: 'InvalidArguments',
    429: 'TooManyRequests', 502: 'BadGateway', 503: 'Unavailable', 504: 'Timeout',
  };
  const out: Record<string, OpenAPIV3_1.ReferenceObject> = {};
  for (const status of [...statuses, ...(auth ? [401] : [])].sort((a, b) => a - b)) {
    const name = byStatus[status];
    if (name) out[String(status)] = responseRef(name);
  }
  return out;
}
