/**
 * The steps both ways of signing in share (the gateway's own credentials, and an upstream
 * provider): the authorization request validated by the library, the grant, and the page shape.
 */
import { AuthorizationError, CimdFetchError, type AuthRequest } from '@cloudflare/workers-oauth-provider';
import { errorPage, PAGE_HEADERS } from './page.ts';
import { canonicalResourceParams } from './resource.ts';
import { grantedScopes } from './scopes.ts';
import { AUTHORIZE_PATH, userIdOf, type GatewayOAuth, type GrantProps } from './server.ts';

/** Longest authorization request (query string) accepted. */
const MAX_QUERY_CHARS = 8 * 1024;

/** An HTML page of the sign-in flow, with its security headers. */
export function page(html: string, status: number): Response {
  return new Response(html, { status, headers: PAGE_HEADERS });
}

/** The authorization request, validated by the library; or the response that refuses it. */
export async function parseAuthorization(oauth: GatewayOAuth, query: string): Promise<AuthRequest | Response> {
  if (query.length > MAX_QUERY_CHARS) return page(errorPage('Request too large', 'The authorization request is longer than this gateway accepts.'), 400);
  const params = canonicalResourceParams(new URLSearchParams(query), oauth.issuer);
  const request = new Request(`${oauth.issuer}${AUTHORIZE_PATH}?${params}`);
  try {
    return await oauth.server.getOAuthApi(oauth.env).parseAuthRequest(request);
  } catch (err) {
    if (err instanceof AuthorizationError) {
      // Redirect only when the library has checked the client and its redirect URI; otherwise show it here.
      if (err.redirectTo) return Response.redirect(err.redirectTo, 302);
      return page(errorPage('This sign-in request cannot be used', err.description), 400);
    }
    if (err instanceof CimdFetchError) {
      return page(errorPage('This application could not be identified', "Its client_id is a URL whose metadata document could not be fetched or is not valid."), 400);
    }
    throw err;
  }
}

/** Stores the grant for `principal` and sends the browser back to the client with its code. */
export async function grant(oauth: GatewayOAuth, request: AuthRequest, principal: string): Promise<Response> {
  const configured = oauth.settings.clients.find((cl) => cl.id === request.clientId);
  const props: GrantProps = { principal };
  const { redirectTo } = await oauth.server.getOAuthApi(oauth.env).completeAuthorization({
    request,
    userId: userIdOf(principal),
    metadata: { signedInAt: new Date().toISOString() },
    scope: grantedScopes(request.scope, configured),
    props,
  });
  return Response.redirect(redirectTo, 302);
}
