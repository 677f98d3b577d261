/**
 * OAuth 2.1 settings: the `auth.oauth` section of config.yaml, and the edge's OAUTH secret
 * (the same settings as JSON, written by the CLI and read by the edge). Scope names are here too,
 * since both ends speak of them.
 */
import { z } from 'zod';
import { NAME_PATTERN } from './constants.ts';

/** Grants access to every server and every route. */
export const SCOPE_ALL = 'mcp';
/** Asks for a refresh token (OpenID's name, which MCP clients send). */
export const SCOPE_OFFLINE = 'offline_access';
/** Grants access to one server: `mcp:<server>`. */
export const serverScope = (server: string) => `${SCOPE_ALL}:${server}`;
const SERVER_SCOPE = /^mcp:([A-Za-z0-9_-]{1,64})$/;

/** The server a scope names, or undefined for any other scope. */
export function scopeServer(scope: string): string | undefined {
  return SERVER_SCOPE.exec(scope)?.[1];
}

/** Whether a token holding `scopes` may reach `server` (undefined: a route of no one server). */
export function scopeAllows(scopes: readonly string[], server: string | undefined): boolean {
  if (scopes.includes(SCOPE_ALL)) return true;
  if (server === undefined) return scopes.some((s) => scopeServer(s) !== undefined);
  return scopes.includes(serverScope(server));
}

const Seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/** A confidential client registered in config (a custom GPT's Action): fixed id and secret. */
export const OAuthClientSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._~-]{3,128}$/, 'client ids are 3 to 128 letters, digits, ".", "_", "~" or "-"'),
  secret: z.string().min(32, 'a client secret needs at least 32 characters'),
  name: z.string().min(1).max(200),
  /** Where the client may be sent back to (exact match; loopback URIs match on any port). */
  redirectUris: z.array(z.url()).min(1).max(20),
  /** Scopes this client may be granted; absent means any. */
  scopes: z.array(z.string().min(1).max(100)).max(100).optional(),
});
export type OAuthClient = z.infer<typeof OAuthClientSchema>;

/**
 * An OpenID Connect provider to sign in with instead of a gateway credential. Who may sign in is
 * listed: subjects (`sub`) or verified e-mail addresses; anyone else at that provider is refused.
 */
export const OAuthUpstreamSchema = z
  .strictObject({
    /** The provider's issuer; its `/.well-known/openid-configuration` is read from there. */
    issuer: z.url().refine((u) => /^https:/.test(u) || /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(u), 'the issuer must be https (or http on a loopback address)'),
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(512),
    /** Shown on the sign-in page: "Sign in with <name>". */
    name: z.string().min(1).max(100).default('your identity provider'),
    allow: z
      .strictObject({
        subjects: z.array(z.string().min(1).max(256)).max(1000).default([]),
        emails: z.array(z.email()).max(1000).default([]),
      })
      .refine((a) => a.subjects.length + a.emails.length > 0, 'list who may sign in: allow.subjects or allow.emails'),
  })
  .transform((u) => ({ ...u, issuer: u.issuer.replace(/\/$/, '') }));
export type OAuthUpstream = z.infer<typeof OAuthUpstreamSchema>;

/** `auth.oauth` in config.yaml. */
export const OAuthConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Access tokens last this long (seconds, 1 minute to 1 day). */
  accessTokenTtlSeconds: Seconds(60, 86_400).default(3600),
  /** A grant, and so its refresh tokens, lasts this long after sign-in (seconds; 0: no refresh tokens). */
  refreshTokenTtlSeconds: z.union([z.literal(0), Seconds(60, 365 * 86_400)]).default(30 * 86_400),
  /** Dynamic client registration (RFC 7591), which most MCP clients use. */
  dynamicRegistration: z.boolean().default(true),
  /** Client ID Metadata Documents: an https URL as client_id (the edge fetches the document). */
  clientIdMetadataDocuments: z.boolean().default(true),
  /** Pre-registered confidential clients, for custom GPT Actions. */
  clients: z.array(OAuthClientSchema).max(100).default([]),
  /** Sign-in through an OpenID Connect provider, besides the gateway's own credentials. */
  upstream: OAuthUpstreamSchema.optional(),
});
export type OAuthConfig = z.infer<typeof OAuthConfigSchema>;

/** The edge's OAUTH secret: the settings above, plus the server names known from config. */
export const OAuthSettingsSchema = OAuthConfigSchema.omit({ enabled: true }).extend({
  servers: z.array(z.string().regex(NAME_PATTERN)).max(1000).default([]),
});
export type OAuthSettings = z.infer<typeof OAuthSettingsSchema>;
