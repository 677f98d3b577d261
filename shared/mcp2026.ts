/**
 * MCP 2026-07-28 vocabulary shared by the edge and the host: the per-request `_meta` keys, the
 * revisions of the stateless era, and the JSON-RPC error codes it adds.
 */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'];
/** Revisions are ISO dates: anything from this one on is the stateless era. */
export const FIRST_MODERN_PROTOCOL_VERSION = '2026-07-28';

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

export const HEADER_MISMATCH = -32020;
export const MISSING_CLIENT_CAPABILITY = -32021;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

export function isModernVersion(version: string): boolean {
  return version >= FIRST_MODERN_PROTOCOL_VERSION;
}

/** Methods whose results carry `ttlMs` and `cacheScope` on 2026-07-28. */
export const CACHEABLE_METHODS = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read', 'server/discover']);

/** Methods a 2026-07-28 client may not call any more: 404 with -32601. */
export const REMOVED_METHODS = new Set(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

/** Methods whose result may be `input_required`. */
export const INPUT_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Server-to-client requests of the 2025 era that become input requests, and the client capability each needs. */
export const INPUT_REQUEST_CAPABILITY: Record<string, string> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** Syslog order of MCP log levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
