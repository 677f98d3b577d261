/**
 * OAuth access tokens on the gateway's routes, for the one auth layer (edge/middleware/auth.ts):
 * a valid token bound to this gateway yields its grant's principal; one whose scopes do not cover
 * the route's server gets 403 `insufficient_scope`; every 401 points at the protected-resource
 * metadata (RFC 9728).
 */
import { SCOPE_ALL, scopeAllows, serverScope } from '../../shared/oauth.ts';
import type { EdgeEnv } from '../env.ts';
import { routeServer } from './scopes.ts';
import { MAX_RESOURCE_PATH, PROTECTED_RESOURCE_PATH, gatewayOAuth, type GrantProps } from './server.ts';

export type OAuthOutcome = { principal: string } | { forbidden: Response } | undefined;

/** Whether a bearer token has the shape of this gateway's OAuth tokens (`user:grant:secret`). */
export function isOAuthToken(token: string | undefined): token is string {
  return token !== undefined && token.split(':').length === 3 && token.length <= 1024;
}

export async function oauthAuthenticate(env: EdgeEnv, requestUrl: string, token: string | undefined): Promise<OAuthOutcome> {
  if (!isOAuthToken(token)) return undefined;
  const oauth = gatewayOAuth(env, requestUrl);
  if (!oauth) return undefined;
  const valid = await oauth.server.validateToken<GrantProps>(oauth.issuer, token, oauth.env).catch(() => null);
  if (!valid || typeof valid.props?.principal !== 'string') return undefined;
  const server = routeServer(new URL(requestUrl).pathname);
  if (!scopeAllows(valid.scope, server)) {
    const needed = server === undefined ? SCOPE_ALL : serverScope(server);
    const header = `Bearer error="insufficient_scope", scope="${needed}", resource_metadata="${metadataUrl(oauth.issuer, requestUrl)}", error_description="this token does not grant access to ${server ?? 'this route'}"`;
    return {
      forbidden: Response.json(
        { error: { code: 'FORBIDDEN', message: `the token's scopes do not include ${needed}` } },
        { status: 403, headers: { 'www-authenticate': header } },
      ),
    };
  }
  return { principal: valid.props.principal };
}

/** The Bearer challenge's parameters naming the metadata, for a 401 (undefined when OAuth is off here). */
export function oauthChallenge(env: EdgeEnv, requestUrl: string): string | undefined {
  const oauth = gatewayOAuth(env, requestUrl);
  if (!oauth) return undefined;
  return `resource_metadata="${metadataUrl(oauth.issuer, requestUrl)}", scope="${SCOPE_ALL}"`;
}

/**
 * The protected-resource metadata for the URL requested: path-suffixed (RFC 9728 §3.1), so that
 * its `resource` is exactly that URL, as strict clients check; the root one for `/` and for paths
 * too long to echo.
 */
export function metadataUrl(issuer: string, requestUrl: string): string {
  const path = new URL(requestUrl).pathname;
  return path === '/' || path.length > MAX_RESOURCE_PATH ? `${issuer}${PROTECTED_RESOURCE_PATH}` : `${issuer}${PROTECTED_RESOURCE_PATH}${path}`;
}
