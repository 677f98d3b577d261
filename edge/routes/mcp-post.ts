/**
 * The Streamable HTTP POST to /{server}/mcp once the request has passed the Worker's checks:
 * the same code whether Hono's route runs it (routes/mcp.ts) or the direct dispatch of that one
 * request does (edge/direct-mcp-post.ts). It needs only the request's headers, the Worker's
 * bindings, the server named in the path and the principal the auth check found.
 */
import { MCP_DEFAULT_PROTOCOL_VERSION, MCP_PROTOCOL_VERSIONS } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import { RAW_MIN_CHARS } from '../../shared/json-spans.ts';
import type { JsonRpcMessage } from '../../shared/protocol.ts';
import type { EdgeEnv } from '../env.ts';
import { toResponse } from '../hub/answer.ts';
import { parseMessage } from '../hub/client-text.ts';
import { unwrap } from '../hub/rpc.ts';
import { hubStub } from '../hub/stub.ts';
import { serveModern } from '../mcp2026/route.ts';

export interface McpPostInput {
  headers: Headers;
  env: EdgeEnv;
  /** The server named in the path. */
  server: string;
  principal: string;
}

const ACCEPTABLE = /application\/json|text\/event-stream|\*\/\*/;
const JSON_TOO = /application\/json|\*\/\*/;

/** The answer to one POSTed message, `text` being the request's body (its size already checked). */
export async function answerMcpPost(input: McpPostInput, text: string): Promise<Response> {
  // MCP 2026-07-28: stateless requests on the same endpoint, decided per request.
  const modern = serveModern(input, text);
  if (modern) return modern;
  const { headers } = input;
  checkProtocolVersion(headers.get('mcp-protocol-version'));
  const accept = headers.get('accept') ?? '*/*';
  if (!ACCEPTABLE.test(accept)) {
    throw new GatewayError('BAD_REQUEST', 'Accept must include application/json and text/event-stream');
  }
  const wantsSse = accept.includes('text/event-stream');
  // A client that takes either gets JSON unless its request's stream is needed (see McpSessions).
  const jsonToo = JSON_TOO.test(accept);
  const session = headers.get('mcp-session-id') || null;
  const target = { server: input.server, session, principal: input.principal };
  return toResponse(unwrap(await hubStub(input.env).mcpPost({ ...target, ...messageOf(text), wantsSse, jsonToo })));
}

/** The body for the Hub: parsed here, or a large one as its text, parsed by the Hub and sent on as it came (client-text.ts). */
export function messageOf(text: string): { message: JsonRpcMessage; messageText?: undefined } | { message?: undefined; messageText: string } {
  return text.length >= RAW_MIN_CHARS ? { messageText: text } : { message: parseMessage(text) };
}

/** The MCP-Protocol-Version header's value (null when absent: the default version), or 400. */
export function checkProtocolVersion(header: string | null | undefined): void {
  const version = header ?? MCP_DEFAULT_PROTOCOL_VERSION;
  if (!MCP_PROTOCOL_VERSIONS.includes(version)) {
    throw new GatewayError('BAD_REQUEST', `unsupported MCP-Protocol-Version ${version}; supported: ${MCP_PROTOCOL_VERSIONS.join(', ')}`);
  }
}
