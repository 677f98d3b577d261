/**
 * Client authentication: Basic credentials and static Bearer tokens as the original project had
 * them, and JWT bearer tokens; any valid one grants access. The API is open only when OPEN_API=1
 * and no CLIENT_AUTH is set; a missing or malformed CLIENT_AUTH otherwise closes it (503).
 * Sets the request's principal, which sessions are bound to: a hash of the credential.
 */
import { createMiddleware } from 'hono/factory';
import { principalId, type ClientAuth } from '../../shared/auth.ts';
import { GatewayError, unauthorized } from '../../shared/errors.ts';
import { secretsEqual } from '../../shared/secure.ts';
import type { AppEnv } from '../app.ts';
import { authSetupOf } from './client-auth-setup.ts';
import { verifyJwt } from './jwt.ts';
import { rememberedPrincipal, rememberPrincipal } from './principal-memo.ts';
import { authBlockedFor, MAX_AUTH_FAILURES, noteAuthFailure, WINDOW_SECONDS } from './auth-failures.ts';
import { signInSource } from '../oauth/sign-in-limit.ts';
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

/**
 * Who the credentials belong to (a name for sessions, never the secret itself), or undefined.
 * A static credential's header that passed this check before is found in a memo
 * (principal-memo.ts); anything else takes the full check, every candidate compared.
 */
export async function principalOf(auth: ClientAuth, header: string | undefined): Promise<string | undefined> {
  const remembered = rememberedPrincipal(auth, header);
  if (remembered !== undefined) return remembered;
  const token = bearerToken(header);
  if (token) {
    const index = await findSecret(token, auth.bearer);
    if (index >= 0) {
      const principal = await principalId.bearer(token);
      rememberPrincipal(auth, header, principal);
      return principal;
    }
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
    if (!checks.includes(true)) return undefined;
    const principal = await principalId.basic(basic.username, basic.password);
    rememberPrincipal(auth, header, principal);
    return principal;
  }
  return undefined;
}


/** The schemes a 401 names in WWW-Authenticate. */
function challenge(auth: ClientAuth, oauthParams: string | undefined): string {
  const schemes: string[] = [];
  if (auth.bearer.length || auth.jwt || oauthParams) schemes.push(`Bearer realm="mcp-gateway"${oauthParams ? `, ${oauthParams}` : ''}`);
  if (auth.basic.length) schemes.push('Basic realm="mcp-gateway", charset="UTF-8"');
  return schemes.join(', ');
}

/** Routes that need no client credentials, by exact method and path: liveness, and hosts (which have their own tokens). */
const OPEN_ROUTES = new Set(['GET /health', 'HEAD /health', 'GET /agent']);

export const clientAuth = createMiddleware<AppEnv>(async (c, next) => {
  c.set('principal', 'anonymous');
  if (OPEN_ROUTES.has(`${c.req.method} ${c.req.path}`) || c.req.method === 'OPTIONS') return next();
  const setup = authSetupOf(c.env.CLIENT_AUTH, c.env.OPEN_API);
  if (setup.kind === 'open') return next();
  if (setup.kind === 'broken') throw new GatewayError('MISCONFIGURED', 'the gateway is not configured to serve its API: its log says why');
  const auth = setup.auth;
  const header = c.req.header('authorization');
  let principal = rememberedPrincipal(auth, header);
  if (!principal) {
    // A source past the limit of refused credentials (auth-failures.ts) is not checked at all.
    const source = signInSource(c.req.header('cf-connecting-ip'));
    const waitSeconds = authBlockedFor(source);
    if (waitSeconds !== undefined) {
      throw new GatewayError('TOO_MANY_REQUESTS', `more than ${MAX_AUTH_FAILURES} requests from this address within ${WINDOW_SECONDS} seconds carried credentials that are not valid here: try again in ${waitSeconds} seconds`, waitSeconds);
    }
    principal = await principalOf(auth, header);
    if (!principal) {
      // OAuth access tokens (edge/oauth/), when enabled: the same principals, narrowed by scope.
      const oauth = await oauthAuthenticate(c.env, c.req.url, bearerToken(header));
      if (oauth && 'forbidden' in oauth) return oauth.forbidden;
      principal = oauth?.principal;
    }
    if (!principal) {
      if (header !== undefined) await noteAuthFailure(c.env, source);
      throw unauthorized('valid credentials are required', challenge(auth, oauthChallenge(c.env, c.req.url)));
    }
  }
  c.set('principal', principal);
  return next();
});
