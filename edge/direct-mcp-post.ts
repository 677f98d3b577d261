/**
 * The direct dispatch of the Worker's most frequent request, a Streamable HTTP POST to
 * /{server}/mcp, ahead of Hono's router and middleware chain (which cost about a tenth of
 * workerd's CPU per such call). It takes a request only when every check the chain makes
 * before the route is certain to pass, and passes it the way the chain would:
 *
 * - CORS (middleware/cors.ts): no `Origin` header, so no CORS headers, only `Vary: Origin`;
 * - input (middleware/input.ts): session and event ids of visible ASCII, and a URL with no
 *   query and nothing to decode (`decodesToItself`), so no path or query check can fail;
 * - Host and Origin (middleware/origin.ts): the URL names a host the gateway serves (or the
 *   list is empty), and there is no Origin to check;
 * - client auth (middleware/auth.ts): an open API, or an Authorization header the full
 *   constant-time check already passed (principal-memo.ts; the same memo the middleware looks
 *   in first, before the refused-credential limit);
 * - body limit (middleware/body-limit.ts): a declared Content-Length within MAX_BODY_BYTES and
 *   no Transfer-Encoding.
 *
 * Anything else (another method or path, an Origin, a query, percent-encoding, an unknown or
 * new credential, a JWT or OAuth token, a missing or excessive length) goes to Hono, which makes
 * every check from the start in its order, with its answers. So does any request these checks
 * would refuse: only passing requests are answered here. The route's handler is the same code
 * either way (routes/mcp-post.ts), and its errors take the route's JSON-RPC shape, as Hono's
 * onError gives them, with `Vary: Origin` added as the CORS middleware adds it.
 */
import type { EdgeEnv } from './env.ts';
import { thrownResponseAs } from './error-response.ts';
import { rememberedPrincipal } from './middleware/principal-memo.ts';
import { authSetupOf } from './middleware/client-auth-setup.ts';
import { TOKEN } from './middleware/input.ts';
import { listOf } from './middleware/origin.ts';
import { decodesToItself, hostnameOf } from './middleware/request-url.ts';
import { answerMcpPost, type McpPostInput } from './routes/mcp-post.ts';
import { edgeLimits } from './settings.ts';

/** The answer to a POST /{server}/mcp that passes every check, or undefined for Hono to handle the request. */
export function directMcpPost(request: Request, env: EdgeEnv | undefined): Promise<Response> | undefined {
  const input = env === undefined ? undefined : directInput(request, env);
  return input && answer(request, input);
}

/** What the route's handler needs, when every check before it is certain to pass; undefined otherwise. */
export function directInput(request: Request, env: EdgeEnv): McpPostInput | undefined {
  if (request.method !== 'POST') return undefined;
  const url = request.url;
  const server = mcpPostServer(url);
  if (server === undefined) return undefined;
  const headers = request.headers;
  // CORS: nothing to add for a request without Origin (and no Origin to check below).
  if (headers.get('origin') !== null) return undefined;
  // Input: the ids; the URL (no query, nothing to decode) was checked above.
  const session = headers.get('mcp-session-id');
  if (session !== null && !TOKEN.test(session)) return undefined;
  const eventId = headers.get('last-event-id');
  if (eventId !== null && !TOKEN.test(eventId)) return undefined;
  // Host.
  const hosts = listOf(env.ALLOWED_HOSTS);
  if (hosts.length && !hosts.includes(hostnameOf(url))) return undefined;
  // Client auth.
  const principal = knownPrincipal(env, headers.get('authorization'));
  if (principal === undefined) return undefined;
  // Body limit.
  const length = headers.get('content-length');
  if (length === null || headers.has('transfer-encoding') || Number.parseInt(length, 10) > edgeLimits(env).maxBodyBytes) return undefined;
  return { headers, env, server, principal };
}

/**
 * The server of a URL `scheme://authority/{server}/mcp` with no query or fragment, of visible ASCII with
 * nothing to decode; undefined for any other URL. No route but POST /:server/mcp matches such
 * a path (direct-mcp-post.test.ts checks this against the app's routes).
 */
export function mcpPostServer(url: string): string | undefined {
  if (url.includes('?') || url.includes('#') || !url.endsWith('/mcp') || !decodesToItself(url)) return undefined;
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const end = url.length - 4;
  if (start < 0 || end <= start + 1) return undefined;
  const server = url.slice(start + 1, end);
  return server.includes('/') ? undefined : server;
}

/** The principal the auth middleware would set without checking anything anew; undefined when it has to. */
function knownPrincipal(env: EdgeEnv, header: string | null): string | undefined {
  const setup = authSetupOf(env.CLIENT_AUTH, env.OPEN_API);
  if (setup.kind === 'open') return 'anonymous';
  if (setup.kind === 'broken' || header === null) return undefined;
  return rememberedPrincipal(setup.auth, header);
}

async function answer(request: Request, input: McpPostInput): Promise<Response> {
  let response: Response;
  try {
    response = await answerMcpPost(input, await request.text());
  } catch (err) {
    response = thrownResponseAs('jsonrpc', err);
  }
  return withVaryOrigin(response);
}

/** `Vary: Origin` added to a response, as the CORS middleware adds it to a request without Origin. */
function withVaryOrigin(response: Response): Response {
  try {
    response.headers.append('Vary', 'Origin');
    return response;
  } catch {
    // Immutable headers (a Response from elsewhere): copied once, as Hono's c.header does.
    const copy = new Response(response.body, response);
    copy.headers.append('Vary', 'Origin');
    return copy;
  }
}
