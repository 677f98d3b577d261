/**
 * Client authentication in the original project's terms: Basic credentials and Bearer tokens,
 * any valid one grants access. No client auth configured means the API is open (local use).
 */
import { createMiddleware } from 'hono/factory';
import { GatewayError } from '../../shared/errors.ts';
import { matchesAnySecret, secretsEqual } from '../../shared/secure.ts';
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

async function isAuthorized(auth: ClientAuth, header: string | undefined): Promise<boolean> {
  const token = bearerToken(header);
  if (token && auth.bearer?.length) return matchesAnySecret(token, auth.bearer);
  const basic = basicCredentials(header);
  if (basic && auth.basic?.length) {
    const checks = await Promise.all(
      auth.basic.map(async (c) => (await secretsEqual(basic.username, c.username)) && (await secretsEqual(basic.password, c.password))),
    );
    return checks.includes(true);
  }
  return false;
}

export const clientAuth = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.env.CLIENT_AUTH) return next();
  const auth = JSON.parse(c.env.CLIENT_AUTH) as ClientAuth;
  if (!auth.basic?.length && !auth.bearer?.length) return next();
  if (await isAuthorized(auth, c.req.header('authorization'))) return next();
  const schemes = [auth.bearer?.length ? 'Bearer realm="mcp-gateway"' : '', auth.basic?.length ? 'Basic realm="mcp-gateway"' : '']
    .filter(Boolean)
    .join(', ');
  const body = new GatewayError('UNAUTHORIZED', 'valid credentials are required').toJSON();
  return c.json(body, 401, { 'www-authenticate': schemes });
});
