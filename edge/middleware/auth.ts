/**
 * Client authentication: Basic credentials and static Bearer tokens as the original project had
 * them, and JWT bearer tokens; any valid one grants access. Without CLIENT_AUTH the API is open
 * (local use). Sets the request's principal, which sessions are bound to.
 */
import { createMiddleware } from 'hono/factory';
import { ClientAuthSchema, type ClientAuth } from '../../shared/auth.ts';
import { GatewayError } from '../../shared/errors.ts';
import { secretsEqual } from '../../shared/secure.ts';
import type { AppEnv } from '../app.ts';
import { verifyJwt } from './jwt.ts';
import { oauthAuthenticate, oauthChallenge } from '../oauth/authenticate.ts';

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const match = header?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
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

/** Index of the first candidate that matches; every candidate is compared, always. */
async function findSecret(given: string, candidates: readonly string[]): Promise<number> {
  const matches = await Promise.all(candidates.map((c) => secretsEqual(given, c)));
  return matches.indexOf(true);
}

/** Who the credentials belong to (a name for sessions, never the secret itself), or undefined. */
export async function principalOf(auth: ClientAuth, header: string | undefined): Promise<string | undefined> {
  const token = bearerToken(header);
  if (token) {
    const index = await findSecret(token, auth.bearer);
    if (index >= 0) return `bearer:${index}`;
    if (auth.jwt) return verifyJwt(token, auth.jwt);
    return undefined;
  }
  const basic = basicCredentials(header);
  if (basic && auth.basic.length) {
    const checks = await Promise.all(
      auth.basic.map(async (c) => {
        const [user, pass] = await Promise.all([secretsEqual(basic.username, c.username), secretsEqual(basic.password, c.password)]);
        return user && pass;
      }),
    );
    const index = checks.indexOf(true);
    return index >= 0 ? `basic:${auth.basic[index]!.username}` : undefined;
  }
  return undefined;
}

let cached: { text: string; auth: ClientAuth } | undefined;
export function clientAuthOf(text: string): ClientAuth {
  if (cached?.text !== text) cached = { text, auth: ClientAuthSchema.parse(JSON.parse(text)) };
  return cached.auth;
}

/** The schemes a 401 names in WWW-Authenticate. */
function challenge(auth: ClientAuth, oauthParams: string | undefined): string {
  const schemes: string[] = [];
  if (auth.bearer.length || auth.jwt || oauthParams) schemes.push(`Bearer realm="mcp-gateway"${oauthParams ? `, ${oauthParams}` : ''}`);
  if (auth.basic.length) schemes.push('Basic realm="mcp-gateway", charset="UTF-8"');
  return schemes.join(', ');
}

/** Routes that need no client credentials: liveness, and hosts (which have their own tokens). */
const OPEN_PATHS = new Set(['/health', '/agent']);

export const clientAuth = createMiddleware<AppEnv>(async (c, next) => {
  c.set('principal', 'anonymous');
  if (OPEN_PATHS.has(c.req.path) || c.req.method === 'OPTIONS' || !c.env.CLIENT_AUTH) return next();
  const auth = clientAuthOf(c.env.CLIENT_AUTH);
  if (!auth.basic.length && !auth.bearer.length && !auth.jwt) return next();
  const header = c.req.header('authorization');
  let principal = await principalOf(auth, header);
  if (!principal) {
    // OAuth access tokens (edge/oauth/), when enabled: the same principals, narrowed by scope.
    const oauth = await oauthAuthenticate(c.env, c.req.url, bearerToken(header));
    if (oauth && 'forbidden' in oauth) return oauth.forbidden;
    principal = oauth?.principal;
  }
  if (!principal) {
    const err = new GatewayError('UNAUTHORIZED', 'valid credentials are required');
    return c.json(err.toJSON(), 401, { 'www-authenticate': challenge(auth, oauthChallenge(c.env, c.req.url)) });
  }
  c.set('principal', principal);
  return next();
});
