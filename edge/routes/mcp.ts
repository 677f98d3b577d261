/**
 * MCP over HTTP: Streamable HTTP at /{server}/mcp, and the 2024-11-05 HTTP+SSE transport at
 * the original project's paths (GET /{server}, POST /{server}?sessionId=…). The Worker checks
 * and parses; the Hub relays and owns the streams.
 */
import { Hono, type Context } from 'hono';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import { toResponse } from '../hub/answer.ts';
import { unwrap, type McpTarget } from '../hub/rpc.ts';
import { hubStub } from '../hub/stub.ts';
import { limitBody } from '../middleware/body-limit.ts';
import { answerMcpPost, checkProtocolVersion, messageOf } from './mcp-post.ts';

export const mcpRoutes = new Hono<AppEnv>();
const jsonRpc = errorsAs('jsonrpc');

mcpRoutes.post('/:server/mcp', jsonRpc, limitBody, async (c) => {
  const input = { headers: c.req.raw.headers, env: c.env, server: c.req.param('server'), principal: c.get('principal') };
  return answerMcpPost(input, await c.req.raw.text());
});

mcpRoutes.get('/:server/mcp', jsonRpc, async (c) => {
  checkProtocolVersion(c.req.header('mcp-protocol-version'));
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

/** The session the request names in Mcp-Session-Id (Streamable HTTP). */
function targetOf(c: Context<AppEnv>): McpTarget {
  return { server: c.req.param('server') ?? '', session: c.req.header('mcp-session-id') || null, principal: c.get('principal') };
}

function requireSession(c: Context<AppEnv>): void {
  if (!c.req.header('mcp-session-id')) throw new GatewayError('SESSION_REQUIRED', 'Mcp-Session-Id header is required');
}
