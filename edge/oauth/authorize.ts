/**
 * GET and POST /authorize: the sign-in and consent step, which the OAuth library leaves to the
 * application. The library validates the request (client, exact redirect URI, S256 PKCE,
 * resource); the owner signs in with a configured credential; the grant's principal is that
 * credential's, so OAuth sessions belong to the same principal as Basic or Bearer ones.
 */
import { authorizationErrorRedirect, type AuthRequest } from '@cloudflare/workers-oauth-provider';
import type { Context } from 'hono';
import type { AppEnv } from '../app.ts';
import { principalOf } from '../middleware/auth.ts';
import { authSetupOf } from '../middleware/client-auth-setup.ts';
import type { ClientAuth } from '../../shared/auth.ts';
import { grant, page, parseAuthorization } from './flow.ts';
import { consentPage, errorPage } from './page.ts';
import { grantedScopes } from './scopes.ts';
import { beginUpstream } from './upstream.ts';
import { noteFailedSignIn, signInBlockedFor, signInSource, WINDOW_SECONDS, MAX_FAILURES } from './sign-in-limit.ts';
import type { GatewayOAuth } from './server.ts';

/** Largest sign-in form accepted. */
const MAX_FORM_BYTES = 16 * 1024;

type Ctx = Context<AppEnv>;

async function render(c: Ctx, oauth: GatewayOAuth, request: AuthRequest, query: string, status: number, error?: string): Promise<Response> {
  const client = await oauth.server.getOAuthApi(oauth.env).lookupClient(request.clientId);
  const auth = clientAuthOf(c);
  const configured = oauth.settings.clients.find((cl) => cl.id === request.clientId);
  return page(
    consentPage({
      clientName: client?.clientName || request.clientId,
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      scopes: grantedScopes(request.scope, configured),
      request: query,
      basic: auth.basic.length > 0,
      bearer: auth.bearer.length > 0 || Boolean(auth.jwt),
      ...(oauth.settings.upstream ? { upstreamName: oauth.settings.upstream.name } : {}),
      ...(error ? { error } : {}),
    }),
    status,
  );
}

export async function showAuthorize(c: Ctx, oauth: GatewayOAuth): Promise<Response> {
  const query = new URL(c.req.url).search.slice(1);
  const request = await parseAuthorization(oauth, query);
  if (request instanceof Response) return request;
  return render(c, oauth, request, query, 200);
}

export async function submitAuthorize(c: Ctx, oauth: GatewayOAuth): Promise<Response> {
  const length = Number(c.req.header('content-length') ?? 0);
  if (length > MAX_FORM_BYTES) return page(errorPage('Request too large', 'The sign-in form is larger than this gateway accepts.'), 413);
  const text = await c.req.text();
  if (text.length > MAX_FORM_BYTES) return page(errorPage('Request too large', 'The sign-in form is larger than this gateway accepts.'), 413);
  const form = new URLSearchParams(text);
  const query = form.get('request') ?? '';
  const request = await parseAuthorization(oauth, query);
  if (request instanceof Response) return request;

  if (form.get('action') === 'deny') return Response.redirect(authorizationErrorRedirect(request, 'access_denied', 'the owner declined'), 302);
  if (form.get('action') === 'upstream' && oauth.settings.upstream) return beginUpstream(oauth, oauth.settings.upstream, query);

  const source = signInSource(c.req.header('cf-connecting-ip'));
  const waitSeconds = await signInBlockedFor(oauth.env.OAUTH_KV, source);
  if (waitSeconds !== undefined) {
    const res = page(errorPage('Too many failed sign-ins', `${MAX_FAILURES} sign-ins from here failed within ${WINDOW_SECONDS} seconds. Try again in ${waitSeconds} seconds.`), 429);
    res.headers.set('retry-after', String(waitSeconds));
    return res;
  }
  const principal = await signIn(c, form);
  if (!principal) {
    await noteFailedSignIn(oauth.env.OAUTH_KV, source);
    return render(c, oauth, request, query, 401, 'Those credentials are not valid here. Nothing was approved.');
  }
  return grant(oauth, request, principal);
}


/** The principal of the credential typed into the form, checked as the Authorization header would be. */
async function signIn(c: Ctx, form: URLSearchParams): Promise<string | undefined> {
  const auth = clientAuthOf(c);
  const token = (form.get('token') ?? '').trim();
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  let header: string | undefined;
  if (token && !/\s/.test(token)) header = `Bearer ${token}`;
  else if (username && password) header = `Basic ${base64(`${username}:${password}`)}`;
  if (!header) return undefined;
  return principalOf(auth, header);
}

/** The credentials one may sign in with (none when client auth is open or broken). */
function clientAuthOf(c: Ctx): ClientAuth {
  const setup = authSetupOf(c.env.CLIENT_AUTH, c.env.OPEN_API);
  return setup.kind === 'checked' ? setup.auth : { basic: [], bearer: [] };
}

function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
