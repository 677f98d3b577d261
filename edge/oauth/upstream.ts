/**
 * Signing in through an upstream OpenID Connect provider (`auth.oauth.upstream`) instead of with a
 * gateway credential: the page's "Sign in with …" sends the browser there (authorization code with
 * PKCE, a nonce, and a state bound to the browser by a cookie); `/oauth/callback` exchanges the
 * code, verifies the ID token against the provider's keys, admits only the listed subjects or
 * verified e-mail addresses, and grants as the principal a JWT from that provider with that `sub`
 * would have.
 */
import { authorizationErrorRedirect } from '@cloudflare/workers-oauth-provider';
import type { Context } from 'hono';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { OAuthUpstream } from '../../shared/oauth.ts';
import { principalId } from '../../shared/auth.ts';
import { randomId, secretsEqual } from '../../shared/secure.ts';
import type { AppEnv } from '../app.ts';
import { edgeLog } from '../log.ts';
import { errorPage } from './page.ts';
import { grant, page, parseAuthorization } from './flow.ts';
import type { GatewayOAuth } from './server.ts';

export const CALLBACK_PATH = '/oauth/callback';
const COOKIE = 'mcp_gateway_upstream';
const STATE_TTL_SECONDS = 600;
const FETCH_TIMEOUT_MS = 10_000;
const MAX_DOCUMENT_BYTES = 64 * 1024;

const DiscoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
});
type Discovery = z.infer<typeof DiscoverySchema>;

const discovered = new Map<string, { at: number; doc: Discovery; keys: JWTVerifyGetKey }>();

/** The provider's endpoints and keys, from its discovery document (kept 10 minutes). */
async function provider(upstream: OAuthUpstream): Promise<{ doc: Discovery; keys: JWTVerifyGetKey }> {
  const cached = discovered.get(upstream.issuer);
  if (cached && Date.now() - cached.at < 600_000) return cached;
  const doc = DiscoverySchema.parse(await fetchJson(`${upstream.issuer}/.well-known/openid-configuration`));
  if (doc.issuer.replace(/\/$/, '') !== upstream.issuer) throw new Error(`the provider's discovery document names another issuer (${doc.issuer})`);
  const entry = { at: Date.now(), doc, keys: createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: FETCH_TIMEOUT_MS }) };
  discovered.set(upstream.issuer, entry);
  return entry;
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json', ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url} answered more than ${MAX_DOCUMENT_BYTES} bytes`);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return JSON.parse(text);
}

async function sha256Base64url(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

interface Pending {
  query: string;
  nonce: string;
  verifier: string;
}

const stateKey = async (state: string) => `upstream-state:${await sha256Base64url(state)}`;

/** From the sign-in page: remember the authorization request, and send the browser to the provider. */
export async function beginUpstream(oauth: GatewayOAuth, upstream: OAuthUpstream, query: string): Promise<Response> {
  let doc: Discovery;
  try {
    doc = (await provider(upstream)).doc;
  } catch (err) {
    edgeLog('warn', 'upstream sign-in unavailable', { issuer: upstream.issuer, reason: err instanceof Error ? err.message : String(err) });
    return page(errorPage('Sign-in unavailable', `${upstream.name} could not be reached. Try again, or sign in with a gateway credential.`), 502);
  }
  const state = randomId() + randomId();
  const pending: Pending = { query, nonce: randomId(), verifier: randomId() + randomId() };
  await oauth.env.OAUTH_KV.put(await stateKey(state), JSON.stringify(pending), { expirationTtl: STATE_TTL_SECONDS });
  const url = new URL(doc.authorization_endpoint);
  const params = {
    response_type: 'code',
    client_id: upstream.clientId,
    redirect_uri: `${oauth.issuer}${CALLBACK_PATH}`,
    scope: 'openid email',
    state,
    nonce: pending.nonce,
    code_challenge: await sha256Base64url(pending.verifier),
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const secure = oauth.issuer.startsWith('https:') ? '; Secure' : '';
  return new Response(null, {
    status: 302,
    headers: { location: url.toString(), 'set-cookie': `${COOKIE}=${state}; Path=${CALLBACK_PATH}; Max-Age=${STATE_TTL_SECONDS}; HttpOnly; SameSite=Lax${secure}`, 'cache-control': 'no-store' },
  });
}

function cookieOf(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
}

/** GET /oauth/callback: the provider sent the browser back. */
export async function finishUpstream(c: Context<AppEnv>, oauth: GatewayOAuth): Promise<Response> {
  const upstream = oauth.settings.upstream;
  if (!upstream) return c.notFound();
  const url = new URL(c.req.url);
  const state = url.searchParams.get('state') ?? '';
  const cookie = cookieOf(c.req.header('cookie'));
  const clear = `${COOKIE}=; Path=${CALLBACK_PATH}; Max-Age=0; HttpOnly; SameSite=Lax`;
  const refuse = (title: string, detail: string, status = 400) => {
    const res = page(errorPage(title, detail), status);
    res.headers.set('set-cookie', clear);
    return res;
  };
  // The state must be the one this browser was given (not a code from someone else's sign-in).
  if (!state || state.length > 128 || !cookie || !(await secretsEqual(state, cookie))) return refuse('This sign-in cannot be finished here', 'It was started in another browser, or it expired.');
  const key = await stateKey(state);
  const text = (await oauth.env.OAUTH_KV.get(key)) as string | null;
  if (!text) return refuse('This sign-in cannot be finished here', 'It expired, or it was already used.');
  await oauth.env.OAUTH_KV.delete(key);
  const pending = JSON.parse(text) as Pending;
  const request = await parseAuthorization(oauth, pending.query);
  if (request instanceof Response) return request;
  if (url.searchParams.has('error')) return Response.redirect(authorizationErrorRedirect(request, 'access_denied', `${upstream.name} did not sign you in`), 302);

  let principal: string;
  try {
    const { doc, keys } = await provider(upstream);
    const basic = btoa(`${encodeURIComponent(upstream.clientId)}:${encodeURIComponent(upstream.clientSecret)}`);
    const tokens = z.object({ id_token: z.string() }).parse(
      await fetchJson(doc.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: url.searchParams.get('code') ?? '', redirect_uri: `${oauth.issuer}${CALLBACK_PATH}`, code_verifier: pending.verifier }),
      }),
    );
    const { payload } = await jwtVerify(tokens.id_token, keys, { issuer: doc.issuer, audience: upstream.clientId, requiredClaims: ['sub', 'exp'] });
    if (payload.nonce !== pending.nonce) throw new Error('the ID token carries another nonce');
    const email = typeof payload.email === 'string' && payload.email_verified === true ? payload.email.toLowerCase() : undefined;
    const allowed = upstream.allow.subjects.includes(payload.sub!) || (email !== undefined && upstream.allow.emails.some((e) => e.toLowerCase() === email));
    if (!allowed) return refuse('Not allowed here', `Your ${upstream.name} account is not one this gateway lets in. Nothing was approved.`, 403);
    // The principal a JWT of this provider for this subject has (as edge/middleware/jwt.ts gives it).
    principal = await principalId.jwt(doc.issuer, payload.sub!);
  } catch (err) {
    edgeLog('warn', 'upstream sign-in failed', { issuer: upstream.issuer, reason: err instanceof Error ? err.message : String(err) });
    return refuse('Sign-in failed', `${upstream.name} did not confirm who you are. Nothing was approved.`, 502);
  }
  const res = await grant(oauth, request, principal);
  const headers = new Headers(res.headers);
  headers.set('set-cookie', clear);
  return new Response(null, { status: res.status, headers });
}
