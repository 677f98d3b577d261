/**
 * The OpenAPI 3.1 document of the REST API: one operation per tool of every connected server
 * (POST /api/{server}/{tool}, literal paths), the session endpoint, and each server's tool,
 * resource and prompt endpoints. The caller serializes it (JSON or YAML).
 *
 * Names (operationIds, component names) depend only on the server and tool they belong to, so
 * adding a server leaves the others' names as they were; `buildServerOpenApi` uses the same ones.
 */
import type { OpenAPIV3_1 } from 'openapi-types';
import { GatewayError } from './errors.ts';
import { errorResponses, ref, SHARED_SCHEMA_NAMES, sharedComponents } from './openapi-components.ts';
import { claimName, clip, fitOperationId, MAX_OPERATION_ID, oneLine, toolOperationId } from './openapi-names.ts';
import { convertToolSchema, isObject, type Json, type SchemaSink } from './openapi-schema.ts';
import type { Tool } from './protocol.ts';

export interface OpenApiInput {
  servers: { name: string; tools: Tool[] }[];
  /** Absolute URL the API is reached at, such as https://gw.example.com. */
  serverUrl: string;
  auth: {
    basic: boolean;
    bearer: boolean;
    jwt: boolean;
    /** OAuth sign-in (auth.oauth): its endpoints and the scopes it grants, with what each allows. */
    oauth?: { authorizationUrl: string; tokenUrl: string; scopes: Record<string, string> };
  };
  title?: string;
  version?: string;
}

export const MAX_SUMMARY = 300;
export const MAX_DESCRIPTION = 300;
export const MAX_PARAMETER_DESCRIPTION = 700;

type Operation = OpenAPIV3_1.OperationObject<Record<string, unknown>>;
/** openapi-types' PathItemObject also demands 3.0 operations, so paths are built as this and cast once. */
type Paths = Record<string, Record<string, Operation>>;
type Schema = OpenAPIV3_1.SchemaObject;

const SESSION_TAG = 'Gateway session';
const TOOL_ERRORS = [400, 404, 409, 413, 422, 429, 502, 503, 504];
const SERVER_ERRORS = [400, 404, 429, 502, 503, 504];

interface ServerPart {
  name: string;
  paths: Paths;
  schemas: Record<string, Json>;
}

/** The document for every server in `input.servers`. */
export function buildOpenApi(input: OpenApiInput): OpenAPIV3_1.Document {
  return assemble(input, buildParts(input));
}

/** The same document restricted to one server's paths and components (same names). */
export function buildServerOpenApi(input: OpenApiInput, serverName: string): OpenAPIV3_1.Document {
  const part = buildParts(input).find((p) => p.name === serverName);
  if (!part) throw new GatewayError('SERVER_NOT_FOUND', `no server named ${JSON.stringify(serverName)}`);
  return assemble(input, [part], serverName);
}

function buildParts(input: OpenApiInput): ServerPart[] {
  const auth = input.auth.basic || input.auth.bearer || input.auth.jwt;
  const servers = input.servers.filter((s, i) => input.servers.findIndex((o) => o.name === s.name) === i);
  const taken = new Set(SHARED_SCHEMA_NAMES);
  const operationIds = new Set(['getSessionId']);
  // Tools claim their operationIds first, so a tool's id never depends on the other endpoints.
  const toolsByServer = servers.map((server) => {
    const seen = new Set<string>();
    return server.tools
      .filter((tool) => !seen.has(tool.name) && seen.add(tool.name))
      .map((tool) => ({ tool, operationId: claimName(toolOperationId(server.name, tool.name), operationIds, MAX_OPERATION_ID) }));
  });
  return servers.map((server, i) => {
    const sink: SchemaSink = { schemas: {}, taken };
    const paths: Paths = {};
    for (const { tool, operationId } of toolsByServer[i] ?? []) {
      const path = `/api/${server.name}/${encodePathSegment(tool.name)}`;
      paths[path] = { ...paths[path], post: toolOperation(server.name, tool, operationId, sink, auth) };
    }
    addServerEndpoints(paths, server.name, operationIds, auth);
    return { name: server.name, paths, schemas: sink.schemas };
  });
}

function toolOperation(server: string, tool: Tool, operationId: string, sink: SchemaSink, auth: boolean): Operation {
  const fields = tool as Record<string, unknown>;
  const annotations = isObject(fields.annotations) ? fields.annotations : {};
  const title = [fields.title, annotations.title].find((t): t is string => typeof t === 'string' && oneLine(t) !== '');
  const description = typeof tool.description === 'string' && tool.description.trim() !== '' ? tool.description.trim() : `Calls the MCP tool ${tool.name} of the server ${server}.`;
  const input = convertToolSchema(tool.inputSchema ?? { type: 'object' }, [server, tool.name], sink);
  const required = isObject(tool.inputSchema) && Array.isArray(tool.inputSchema.required) && tool.inputSchema.required.length > 0;
  const result: Schema = fields.outputSchema === undefined
    ? ref('CallToolResult')
    : { allOf: [ref('CallToolResult'), { type: 'object', properties: { structuredContent: convertToolSchema(fields.outputSchema, [server, tool.name, 'output'], sink) as Schema } }] };
  return {
    operationId,
    summary: clip(oneLine(title ?? tool.name), MAX_SUMMARY),
    description: clip(description, MAX_DESCRIPTION),
    tags: [server],
    parameters: [sessionIdParameter('call')],
    requestBody: { required, description: "The tool's arguments.", content: { 'application/json': { schema: input as Schema } } },
    responses: {
      '200': { description: "The tool's result (isError true when the tool itself failed).", content: { 'application/json': { schema: result } } },
      ...errorResponses(TOOL_ERRORS, auth),
    },
    'x-openai-isConsequential': annotations.readOnlyHint !== true,
  };
}

function addServerEndpoints(paths: Paths, server: string, operationIds: Set<string>, auth: boolean): void {
  const op = (id: string, summary: string, schema: string, errors: number[], extra: Partial<Operation> = {}): Operation => ({
    operationId: claimName(fitOperationId(`${id}_${server}`), operationIds, MAX_OPERATION_ID),
    summary: clip(`${summary} of ${server}`, MAX_SUMMARY),
    tags: [server],
    ...extra,
    responses: { '200': { description: 'The MCP result.', content: { 'application/json': { schema: ref(schema) } } }, ...errorResponses(errors, auth) },
  });
  const get = (path: string, operation: Operation) => (paths[path] = { ...paths[path], get: operation });
  get(`/api/${server}/tools`, op('listTools', 'List the tools', 'ListToolsResult', SERVER_ERRORS));
  get(`/api/${server}/resources`, op('listResources', 'List the resources', 'ListResourcesResult', SERVER_ERRORS));
  get(`/api/${server}/resources/read`, op('readResource', 'Read a resource', 'ReadResourceResult', [...SERVER_ERRORS, 409, 422], {
    parameters: [
      { name: 'uri', in: 'query', required: true, schema: { type: 'string', minLength: 1 }, description: 'URI of the resource, as listed by GET /api/{server}/resources.' },
      sessionIdParameter('read'),
    ],
  }));
  get(`/api/${server}/prompts`, op('listPrompts', 'List the prompts', 'ListPromptsResult', SERVER_ERRORS));
  paths[`/api/${server}/prompts/{name}`] = {
    post: op('getPrompt', 'Get a prompt', 'GetPromptResult', [...SERVER_ERRORS, 409, 413, 422], {
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'Name of the prompt, as listed by GET /api/{server}/prompts.' }, sessionIdParameter('get')],
      requestBody: {
        required: false,
        description: "The prompt's arguments, all strings.",
        content: { 'application/json': { schema: { type: 'object', additionalProperties: { type: 'string' } } } },
      },
      'x-openai-isConsequential': false,
    }),
  };
}

function sessionIdParameter(what: 'call' | 'read' | 'get'): OpenAPIV3_1.ParameterObject {
  const action = { call: 'the call runs', read: 'the resource is read', get: 'the prompt is got' }[what];
  return {
    name: 'sessionId',
    in: 'query',
    required: false,
    schema: { type: 'string', minLength: 1, maxLength: 128 },
    description: clip(
      `Optional session id from GET /api/sessionid. With it, ${action} on this session's own instance of the server, ` +
        'started on first use and kept with its state between calls (stopped when idle). Without it, ' +
        `${action} on a fresh instance that is stopped afterwards, so nothing carries over.`,
      MAX_PARAMETER_DESCRIPTION,
    ),
  };
}

function assemble(input: OpenApiInput, parts: ServerPart[], only?: string): OpenAPIV3_1.Document {
  new URL(input.serverUrl); // throws unless absolute
  const auth = input.auth.basic || input.auth.bearer || input.auth.jwt;
  const securitySchemes: Record<string, OpenAPIV3_1.SecuritySchemeObject> = {};
  if (input.auth.basic) securitySchemes.basicAuth = { type: 'http', scheme: 'basic', description: 'A configured user name and password.' };
  if (input.auth.bearer || input.auth.jwt) {
    securitySchemes.bearerAuth = {
      type: 'http',
      scheme: 'bearer',
      ...(input.auth.jwt && { bearerFormat: 'JWT' }),
      description: `Authorization: Bearer with ${[input.auth.bearer && 'a configured API token', input.auth.jwt && 'a JWT'].filter(Boolean).join(' or ')}.`,
    };
  }
  if (input.auth.oauth) {
    const { authorizationUrl, tokenUrl, scopes } = input.auth.oauth;
    securitySchemes.oauth2 = {
      type: 'oauth2',
      description: "Sign in on the gateway's own page with one of its credentials (authorization code with PKCE S256; confidential clients may use their secret instead).",
      flows: { authorizationCode: { authorizationUrl, tokenUrl, refreshUrl: tokenUrl, scopes } },
    };
  }
  const shared = sharedComponents(auth);
  const title = input.title ?? 'MCP gateway';
  const paths: Paths = {
    '/api/sessionid': {
      get: {
        operationId: 'getSessionId',
        summary: 'Get a new session id',
        description:
          'A session id keeps one instance of each server (and its state) across calls that pass it as sessionId. ' +
          'A client holding its maximum of sessions still gets a new one: its least recently used session ends.',
        tags: [SESSION_TAG],
        responses: { '200': { description: 'A new session id.', content: { 'application/json': { schema: ref('SessionId') } } }, ...errorResponses([], auth) },
      },
    },
    '/api/sessionid/{sessionId}': {
      delete: {
        operationId: 'deleteSessionId',
        summary: 'End a session',
        description: "Ends the session and stops its server instances. Another client's session, or an unknown one, is 404.",
        tags: [SESSION_TAG],
        parameters: [{ name: 'sessionId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 128 }, description: 'A session id from GET /api/sessionid.' }],
        responses: { '204': { description: 'The session ended.' }, ...errorResponses([404], auth) },
      },
    },
  };
  const schemas: Record<string, Schema> = { ...shared.schemas };
  for (const part of parts) {
    Object.assign(paths, part.paths);
    Object.assign(schemas, part.schemas);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: only === undefined ? title : `${title}: ${only}`,
      version: input.version ?? '1.0.0',
      description: 'MCP servers over REST: POST /api/{server}/{tool} with the tool arguments as the JSON body calls a tool.',
    },
    servers: [{ url: input.serverUrl.replace(/\/+$/, '') }],
    ...(Object.keys(securitySchemes).length > 0 && { security: Object.keys(securitySchemes).map((name) => ({ [name]: [] })) }),
    tags: [
      { name: SESSION_TAG, description: 'Session ids, which keep server instances between calls.' },
      ...parts.map((p) => ({ name: p.name, description: `Tools, resources and prompts of the MCP server ${p.name}.` })),
    ],
    paths: paths as unknown as OpenAPIV3_1.PathsObject,
    components: {
      schemas,
      responses: shared.responses,
      ...(Object.keys(securitySchemes).length > 0 && { securitySchemes }),
    },
  };
}

/** A tool name as one path segment (`.` and `..` escaped too, or clients would resolve them). */
function encodePathSegment(name: string): string {
  return name === '.' || name === '..' ? name.replaceAll('.', '%2E') : encodeURIComponent(name);
}
