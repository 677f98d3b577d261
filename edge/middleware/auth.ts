/**
 * Client authentication in the original project's terms: Basic credentials and Bearer tokens,
 * any valid one grants access. No client auth configured means the API is open (local use).
 */
import { createMiddleware } from 'hono/factory';
import { GatewayError } from '../../shared/errors.ts';
import { secretsEqual } from '../../shared/secure.ts';
import type { AppEnv } from '../app.ts';

interface ClientAuth {
  basic?: { username: string; password: string }[];
  bearer?: string[];
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(.+)$/i);
  return match?.[1]?.trim();
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=]+)$/i);
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(match[1]), (ch) => ch.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':'); // the password may itself contain ':'
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Who the credentials belong to (a name for sessions, never the secret), or undefined. */
async function principalOf(auth: ClientAuth, header: string | undefined): Promise<string | undefined> {
  const token = bearerToken(header);
  if (token && auth.bearer?.length) {
    for (const [i, candidate] of auth.bearer.entries()) if (await secretsEqual(token, candidate)) return `bearer:${i}`;
    return undefined;
  }
  const basic = basicCredentials(header);
  if (basic && auth.basic?.length) {
    let found: string | undefined;
    for (const c of auth.basic) {
      const user = await secretsEqual(basic.username, c.username);
      const pass = await secretsEqual(basic.password, c.password);
      if (user && pass) found ??= `basic:${c.username}`;
    }
    return found;
  }
  return undefined;
}

/** Routes that need no client credentials. */
const OPEN_PATHS = new Set(['/health', '/agent']);

export const clientAuth = createMiddleware<AppEnv>(async (c, next) => {
  c.set('principal', 'anonymous');
  if (OPEN_PATHS.has(c.req.path) || c.req.method === 'OPTIONS' || !c.env.CLIENT_AUTH) return next();
  const auth = JSON.parse(c.env.CLIENT_AUTH) as ClientAuth;
  if (!auth.basic?.length && !auth.bearer?.length) return next();
  const principal = await principalOf(auth, c.req.header('authorization'));
  if (principal) {
    c.set('principal', principal);
    return next();
  }
  const schemes = [auth.bearer?.length ? 'Bearer realm="mcp-gateway"' : '', auth.basic?.length ? 'Basic realm="mcp-gateway"' : '']
    .filter(Boolean)
    .join(', ');
  const body = new GatewayError('UNAUTHORIZED', 'valid credentials are required').toJSON();
  return c.json(body, 401, { 'www-authenticate': schemes });
});
