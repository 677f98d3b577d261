/**
 * MCP over HTTP: Streamable HTTP at /{server}/mcp, and the 2024-11-05 HTTP+SSE transport at
 * the original project's paths (GET /{server}, POST /{server}?sessionId=…). The Worker checks
 * and parses; the Hub relays and owns the streams.
 */
import { Hono, type Context } from 'hono';
import { MCP_DEFAULT_PROTOCOL_VERSION, MCP_PROTOCOL_VERSIONS } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { hubFetch } from '../hub/stub.ts';
import { limitBody } from '../middleware/body-limit.ts';
import { serveModern } from '../mcp2026/route.ts';

export const mcpRoutes = new Hono<AppEnv>();

mcpRoutes.post('/:server/mcp', limitBody, async (c) => {
  const text = await c.req.text();
  // MCP 2026-07-28: stateless requests on the same endpoint, decided per request.
  const modern = serveModern(c, text);
  if (modern) return modern;
  checkProtocolVersion(c);
  const accept = c.req.header('accept') ?? '*/*';
  if (!/application\/json|text\/event-stream|\*\/\*/.test(accept)) {
    throw new GatewayError('BAD_REQUEST', 'Accept must include application/json and text/event-stream');
  }
  const body = parseMessage(text);
  return toHub(c, '/mcp/post', { 'x-sse': accept.includes('text/event-stream') ? '1' : '0' }, body);
});

mcpRoutes.get('/:server/mcp', (c) => {
  checkProtocolVersion(c);
  if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
    throw new GatewayError('BAD_REQUEST', 'Accept must include text/event-stream to open the stream');
  }
  requireSession(c);
  return toHub(c, '/mcp/get', { 'x-last-event-id': c.req.header('last-event-id') ?? '' });
});

mcpRoutes.delete('/:server/mcp', (c) => {
  requireSession(c);
  return toHub(c, '/mcp/delete', {});
});

// HTTP+SSE (2024-11-05), as the original served it.
mcpRoutes.get('/:server', (c) => {
  // The endpoint keeps the GET's other query parameters (a token, say) and adds the session id.
  const url = new URL(c.req.url);
  url.searchParams.delete('sessionId');
  return toHub(c, '/sse/open', { 'x-endpoint': `${url.pathname}${url.search}` });
});

mcpRoutes.post('/:server', limitBody, async (c) => {
  const sessionId = c.req.query('sessionId');
  if (!sessionId) throw new GatewayError('SESSION_REQUIRED', 'sessionId query parameter is required: use the endpoint the SSE stream announced');
  const body = parseMessage(await c.req.text());
  return toHub(c, '/sse/post', { 'x-session': sessionId }, body);
});

function toHub(c: Context<AppEnv>, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
  const session = c.req.header('mcp-session-id');
  return hubFetch(c.env, path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      'x-server': c.req.param('server') ?? '',
      'x-principal': c.get('principal'),
      ...(session ? { 'x-session': session } : {}),
      ...headers,
    },
    body,
  });
}

function requireSession(c: Context<AppEnv>): void {
  if (!c.req.header('mcp-session-id')) throw new GatewayError('SESSION_REQUIRED', 'Mcp-Session-Id header is required');
}

function checkProtocolVersion(c: Context<AppEnv>): void {
  const version = c.req.header('mcp-protocol-version') ?? MCP_DEFAULT_PROTOCOL_VERSION;
  if (!MCP_PROTOCOL_VERSIONS.includes(version)) {
    throw new GatewayError('BAD_REQUEST', `unsupported MCP-Protocol-Version ${version}; supported: ${MCP_PROTOCOL_VERSIONS.join(', ')}`);
  }
}

/** One JSON-RPC message (no batches, since 2025-06-18), returned as JSON text. */
function parseMessage(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError('MALFORMED_JSON', 'body is not valid JSON');
  }
  if (Array.isArray(value)) throw new GatewayError('BAD_REQUEST', 'JSON-RPC batches are not supported: send one message per request');
  const message = value as { jsonrpc?: unknown; method?: unknown; id?: unknown; result?: unknown; error?: unknown } | null;
  const valid =
    message !== null &&
    typeof message === 'object' &&
    message.jsonrpc === '2.0' &&
    (typeof message.method === 'string' || ('id' in message && ('result' in message || 'error' in message)));
  if (!valid) throw new GatewayError('BAD_REQUEST', 'body is not a JSON-RPC 2.0 request, notification or response');
  return text;
}
