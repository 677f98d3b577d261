/**
 * The OAuth endpoints, none of which take the gateway's own credentials: protected-resource
 * metadata (RFC 9728, at the root and path-suffixed), authorization-server metadata (RFC 8414),
 * token, revocation and registration (the library's), and the sign-in page.
 */
import { Hono, type Context } from 'hono';
import { SCOPE_ALL } from '../../shared/oauth.ts';
import type { AppEnv } from '../app.ts';
import { showAuthorize, submitAuthorize } from './authorize.ts';
import { CALLBACK_PATH, finishUpstream } from './upstream.ts';
import { canonicalResourceParams } from './resource.ts';
import { AUTHORIZATION_SERVER_PATH, AUTHORIZE_PATH, MAX_RESOURCE_PATH, PROTECTED_RESOURCE_PATH, gatewayOAuth, type GatewayOAuth } from './server.ts';

/** Largest token or registration request body accepted. */
const MAX_BODY_BYTES = 64 * 1024;

export const oauthRoutes = new Hono<AppEnv>();

/** Every route here answers 404 when OAuth is off, as if it did not exist. */
function oauthOf(c: Context<AppEnv>) {
  return gatewayOAuth(c.env, c.req.url);
}

function protectedResource(c: Context<AppEnv>): Response | Promise<Response> {
  const oauth = oauthOf(c);
  if (!oauth) return c.notFound();
  const suffix = c.req.path.slice(PROTECTED_RESOURCE_PATH.length);
  if (suffix.length > MAX_RESOURCE_PATH) return c.notFound();
  return c.json(
    {
      resource: `${oauth.issuer}${suffix}`,
      authorization_servers: [oauth.issuer],
      scopes_supported: [SCOPE_ALL],
      bearer_methods_supported: ['header'],
      resource_name: 'MCP gateway',
    },
    200,
    { 'cache-control': 'max-age=300' },
  );
}
oauthRoutes.get(PROTECTED_RESOURCE_PATH, protectedResource);
oauthRoutes.get(`${PROTECTED_RESOURCE_PATH}/*`, protectedResource);

/** Handed to the library: metadata, token (with revocation) and registration. */
async function library(c: Context<AppEnv>): Promise<Response> {
  const oauth = oauthOf(c);
  if (!oauth) return c.notFound();
  const raw = c.req.raw;
  // The library serves its endpoints at the issuer's URLs; behind a proxy or tunnel (publicUrl)
  // the request arrives at another origin, so it is handed over as if sent to the issuer.
  const url = new URL(raw.url);
  const target = `${oauth.issuer}${url.pathname}${url.search}`;
  const headers = new Headers(raw.headers);
  headers.delete('content-length');
  if (raw.method !== 'POST') return oauth.server.fetch(new Request(target, { method: raw.method, headers }), oauth.env, executionCtxOf(c));
  if (Number(raw.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return tooLarge(c);
  const body = await raw.text();
  if (body.length > MAX_BODY_BYTES) return tooLarge(c);
  const form = (headers.get('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
  const request = new Request(target, { method: 'POST', headers, body: form ? canonicalResourceParams(new URLSearchParams(body), oauth.issuer).toString() : body });
  return oauth.server.fetch(request, oauth.env, executionCtxOf(c));
}

function tooLarge(c: Context<AppEnv>): Response {
  return c.json({ error: 'invalid_request', error_description: 'request body too large' }, 413);
}

type LibraryCtx = Parameters<GatewayOAuth['server']['fetch']>[2];

/** The request's ExecutionContext; Hono's `app.request()` (tests in process) has none. */
function executionCtxOf(c: Context<AppEnv>): LibraryCtx {
  try {
    return c.executionCtx as unknown as LibraryCtx;
  } catch {
    return { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as LibraryCtx;
  }
}
oauthRoutes.get(AUTHORIZATION_SERVER_PATH, library);
oauthRoutes.get(`${AUTHORIZATION_SERVER_PATH}/*`, library);
oauthRoutes.post('/oauth/token', library);
oauthRoutes.post('/oauth/register', library);

oauthRoutes.get(CALLBACK_PATH, (c) => {
  const oauth = oauthOf(c);
  return oauth ? finishUpstream(c, oauth) : c.notFound();
});
oauthRoutes.get(AUTHORIZE_PATH, (c) => {
  const oauth = oauthOf(c);
  return oauth ? showAuthorize(c, oauth) : c.notFound();
});
oauthRoutes.post(AUTHORIZE_PATH, (c) => {
  const oauth = oauthOf(c);
  return oauth ? submitAuthorize(c, oauth) : c.notFound();
});
