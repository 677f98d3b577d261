/**
 * MCP over HTTP: Streamable HTTP at /{server}/mcp, and the 2024-11-05 HTTP+SSE transport at
 * the original project's paths (GET /{server}, POST /{server}?sessionId=…). The Worker checks
 * and parses; the Hub relays and owns the streams.
 */
import { Hono, type Context } from 'hono';
import { MCP_DEFAULT_PROTOCOL_VERSION, MCP_PROTOCOL_VERSIONS } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import { RAW_MIN_CHARS } from '../../shared/json-spans.ts';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import { toResponse } from '../hub/answer.ts';
import { parseMessage } from '../hub/client-text.ts';
import { unwrap, type McpTarget } from '../hub/rpc.ts';
import type { JsonRpcMessage } from '../../shared/protocol.ts';
import { hubStub } from '../hub/stub.ts';
import { limitBody } from '../middleware/body-limit.ts';
import { serveModern } from '../mcp2026/route.ts';

export const mcpRoutes = new Hono<AppEnv>();
const jsonRpc = errorsAs('jsonrpc');

mcpRoutes.post('/:server/mcp', jsonRpc, limitBody, async (c) => {
  const text = await c.req.raw.text();
  // MCP 2026-07-28: stateless requests on the same endpoint, decided per request.
  const modern = serveModern(c, text);
  if (modern) return modern;
  checkProtocolVersion(c);
  const accept = c.req.header('accept') ?? '*/*';
  if (!/application\/json|text\/event-stream|\*\/\*/.test(accept)) {
    throw new GatewayError('BAD_REQUEST', 'Accept must include application/json and text/event-stream');
  }
  const wantsSse = accept.includes('text/event-stream');
  // A client that takes either gets JSON unless its request's stream is needed (see McpSessions).
  const jsonToo = /application\/json|\*\/\*/.test(accept);
  return toResponse(unwrap(await hubStub(c.env).mcpPost({ ...targetOf(c), ...messageOf(text), wantsSse, jsonToo })));
});

mcpRoutes.get('/:server/mcp', jsonRpc, async (c) => {
  checkProtocolVersion(c);
  if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
    throw new GatewayError('BAD_REQUEST', 'Accept must include text/event-stream to open the stream');
  }
  requireSession(c);
  return unwrap(await hubStub(c.env).mcpStream(targetOf(c), c.req.header('last-event-id') || null));
});

mcpRoutes.delete('/:server/mcp', jsonRpc, async (c) => {
  requireSession(c);
  return unwrap(await hubStub(c.env).mcpDelete(targetOf(c)));
});

// HTTP+SSE (2024-11-05), as the original served it.
mcpRoutes.get('/:server', jsonRpc, async (c) => {
  // The endpoint keeps the GET's other query parameters (a token, say) and adds the session id.
  const url = new URL(c.req.url);
  url.searchParams.delete('sessionId');
  return unwrap(await hubStub(c.env).sseOpen(c.req.param('server'), c.get('principal'), `${url.pathname}${url.search}`));
});

mcpRoutes.post('/:server', jsonRpc, limitBody, async (c) => {
  const sessionId = c.req.query('sessionId');
  if (!sessionId) throw new GatewayError('SESSION_REQUIRED', 'sessionId query parameter is required: use the endpoint the SSE stream announced');
  const body = messageOf(await c.req.raw.text());
  return toResponse(unwrap(await hubStub(c.env).ssePost({ server: c.req.param('server'), session: sessionId, principal: c.get('principal') }, body.message ?? null, body.messageText)));
});

/** The body for the Hub: parsed here, or a large one as its text, parsed by the Hub and sent on as it came (client-text.ts). */
function messageOf(text: string): { message: JsonRpcMessage; messageText?: undefined } | { message?: undefined; messageText: string } {
  return text.length >= RAW_MIN_CHARS ? { messageText: text } : { message: parseMessage(text) };
}

/** The session the request names in Mcp-Session-Id (Streamable HTTP). */
function targetOf(c: Context<AppEnv>): McpTarget {
  return { server: c.req.param('server') ?? '', session: c.req.header('mcp-session-id') || null, principal: c.get('principal') };
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
