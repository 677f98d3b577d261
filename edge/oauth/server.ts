/**
 * The gateway as its own OAuth 2.1 authorization server, built on
 * `@cloudflare/workers-oauth-provider`. The issuer is the gateway's origin (PUBLIC_URL, else the
 * request's), and so is the one protected resource every token is bound to: tokens are valid on
 * every route of this gateway and nowhere else, and scopes (`mcp`, `mcp:<server>`) narrow them
 * to some servers.
 */
import { OAuthAuthorizationServer } from '@cloudflare/workers-oauth-provider';
import { z } from 'zod';
import { OAuthSettingsSchema, SCOPE_ALL, SCOPE_OFFLINE, serverScope, type OAuthSettings } from '../../shared/oauth.ts';
import type { EdgeEnv } from '../env.ts';
import { edgeLog } from '../log.ts';
import { oauthKv, type OAuthKv } from './kv.ts';

export const AUTHORIZE_PATH = '/authorize';
export const TOKEN_PATH = '/oauth/token';
export const REGISTER_PATH = '/oauth/register';
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';
export const AUTHORIZATION_SERVER_PATH = '/.well-known/oauth-authorization-server';
/** Longest path suffix of a protected-resource metadata URL (server routes are far shorter). */
export const MAX_RESOURCE_PATH = 512;

export type OAuthEnv = EdgeEnv & { OAUTH_KV: OAuthKv };

export interface GatewayOAuth {
  /** The issuer, which is also the resource (audience): an origin, no trailing slash. */
  issuer: string;
  settings: OAuthSettings;
  server: OAuthAuthorizationServer<OAuthEnv>;
  env: OAuthEnv;
  scopes: string[];
}

let parsed: { text: string; settings: OAuthSettings | undefined } | undefined;
/** The OAUTH secret's settings; undefined (OAuth off, logged once) when it is malformed. */
function settingsOf(text: string): OAuthSettings | undefined {
  if (parsed?.text === text) return parsed.settings;
  let settings: OAuthSettings | undefined;
  try {
    settings = OAuthSettingsSchema.parse(JSON.parse(text));
  } catch (err) {
    // The path and message only: never the value, which holds client secrets.
    const issue = err instanceof z.ZodError ? err.issues[0] : undefined;
    edgeLog('error', 'OAuth is off: the OAUTH secret is malformed', { reason: issue ? `${issue.path.join('.')}: ${issue.message}` : 'not JSON' });
  }
  parsed = { text, settings };
  return settings;
}

/** One server per issuer (an edge reached under several names has one per name). */
const servers = new Map<string, { text: string; server: OAuthAuthorizationServer<OAuthEnv> | null }>();
const MAX_ISSUERS = 16;

/** The issuer for a request: PUBLIC_URL's origin when set, else the request's own. */
export function issuerOf(env: EdgeEnv, requestUrl: string): string {
  const base = env.PUBLIC_URL ? env.PUBLIC_URL : requestUrl;
  return new URL(base).origin;
}

/**
 * The OAuth server for this request, or undefined when OAuth is off, or when the issuer cannot be
 * one (plain http on a name other than loopback: OAuth 2.1 requires https).
 */
export function gatewayOAuth(env: EdgeEnv, requestUrl: string): GatewayOAuth | undefined {
  const text = env.OAUTH;
  if (!text) return undefined;
  const settings = settingsOf(text);
  if (!settings) return undefined;
  const issuer = issuerOf(env, requestUrl);
  const scopes = [SCOPE_ALL, ...settings.servers.map(serverScope), SCOPE_OFFLINE];
  let entry = servers.get(issuer);
  if (entry?.text !== text) {
    let server: OAuthAuthorizationServer<OAuthEnv> | null;
    try {
      server = new OAuthAuthorizationServer<OAuthEnv>({
        issuer,
        resources: [issuer],
        authorizeEndpoint: AUTHORIZE_PATH,
        tokenEndpoint: TOKEN_PATH,
        ...(settings.dynamicRegistration ? { clientRegistrationEndpoint: REGISTER_PATH } : {}),
        clientIdMetadataDocumentEnabled: settings.clientIdMetadataDocuments,
        accessTokenTTL: settings.accessTokenTtlSeconds,
        refreshTokenTTL: settings.refreshTokenTtlSeconds,
        scopesSupported: scopes,
        onError: ({ code, status, internal }) => {
          // The code and the failed check only: never a token, code, secret or grant.
          edgeLog(status >= 500 ? 'warn' : 'debug', 'oauth error', { code, status, reason: internal.reason });
        },
      });
    } catch (err) {
      edgeLog('warn', 'OAuth is unavailable at this origin (it needs https, or http on a loopback address)', { issuer, reason: err instanceof Error ? err.message : String(err) });
      server = null;
    }
    if (servers.size >= MAX_ISSUERS) servers.delete(servers.keys().next().value!);
    entry = { text, server };
    servers.set(issuer, entry);
  }
  if (!entry.server) return undefined;
  return { issuer, settings, server: entry.server, env: { ...env, OAUTH_KV: oauthKv(env, settings.clients) }, scopes };
}

/** Who a token's grant belongs to: the credential's principal, kept in the grant's props. */
export interface GrantProps {
  principal: string;
}

/** A principal as an OAuth user id, which may not contain ':' (the library's token separator). */
export function userIdOf(principal: string): string {
  return encodeURIComponent(principal);
}
export function principalOfUserId(userId: string): string {
  return decodeURIComponent(userId);
}
