/**
 * The Worker's side of 2026-07-28 on /{server}/mcp: a POST whose body claims the stateless era
 * (or whose headers name it) is classified and checked here, then served by the Hub without a
 * session; anything else is left to the 2025-era path unchanged.
 */
import { isModernVersion, META_PROTOCOL_VERSION } from '../../shared/mcp2026.ts';
import type { McpPostInput } from '../routes/mcp-post.ts';
import { unwrap } from '../hub/rpc.ts';
import { hubStub } from '../hub/stub.ts';
import { classify } from './classify.ts';
import { rpcError } from './shape.ts';

/** The response to a 2026-07-28 POST, or undefined when the request belongs to the 2025 era. */
export function serveModern(input: McpPostInput, text: string): Promise<Response> | Response | undefined {
  const header = (name: string) => input.headers.get(name) ?? undefined;
  const protocolVersion = header('mcp-protocol-version');
  // Cheap test first, so 2025-era traffic pays nothing for the second era.
  if (!text.includes(META_PROTOCOL_VERSION) && !(protocolVersion && isModernVersion(protocolVersion.trim()))) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined; // the 2025-era path answers -32700
  }
  const era = classify(body, { protocolVersion, method: header('mcp-method'), name: header('mcp-name') });
  if (era.kind === 'legacy') return undefined;
  if (era.kind === 'reject') return rpcError(era.status, era.id, era.code, era.message, era.data);
  if (era.notification) return new Response(null, { status: 202 });
  const wantsSse = (header('accept') ?? '').includes('text/event-stream');
  const stub = hubStub(input.env);
  const request = { server: input.server, principal: input.principal, message: era.message, meta: era.meta, wantsSse };
  return (async () => unwrap(await stub.modernPost(request)))();
}
