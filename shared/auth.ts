/**
 * What the edge needs to check credentials: the CLIENT_AUTH secret (client credentials) and the
 * HOST_TOKENS secret (host agents). One schema for both ends: the CLI writes them, the edge reads them.
 */
import { z } from 'zod';
import { NAME_PATTERN } from './constants.ts';
import { credentialId } from './secure.ts';

function isHttpsOrLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'https:' || (protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname));
}

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'] as const;

/** The fields of a JWT setup; `JwtAuthSchema` adds the rule that exactly one key source is given. */
export const JwtAuthFields = z.strictObject({
    /** Shared secret for HMAC algorithms. */
    secret: z.string().min(32, 'a JWT secret needs at least 32 characters').optional(),
    /** Where the issuer publishes its keys: https, or http on a loopback address. */
    jwksUrl: z
      .url()
      .refine((u) => isHttpsOrLoopback(u), 'a JWKS URL must be https (http only on localhost or 127.0.0.1)')
      .optional(),
    issuer: z.string().min(1),
    audience: z.string().min(1),
    /** Accepted signing algorithms; anything else (and `none`) is refused. */
    algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).optional(),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
});
export const oneKeySource = (jwt: { secret?: string | undefined; jwksUrl?: string | undefined }) => Boolean(jwt.secret) !== Boolean(jwt.jwksUrl);
export const JwtAuthSchema = JwtAuthFields.refine(oneKeySource, 'give exactly one of secret or jwksUrl');
export type JwtAuth = z.infer<typeof JwtAuthSchema>;

/** A principal's id as sessions, `/status` and the CLI show it: the kind of credential and a hash. */
export const PRINCIPAL_ID = /^(basic|bearer|jwt):[0-9a-f]{24}$/;
/** Principal ids by kind of credential: what the edge binds sessions to and `auth.operators` lists. */
export const principalId = {
  basic: async (username: string, password: string) => `basic:${await credentialId('basic', `${username}:${password}`)}`,
  bearer: async (token: string) => `bearer:${await credentialId('bearer', token)}`,
  /** A JWT's subject at its issuer (the same for a JWT presented directly and one from an OAuth upstream). */
  jwt: async (issuer: string, subject: string) => `jwt:${await credentialId('jwt', `${issuer}\u0000${subject}`)}`,
};

export const PrincipalIdSchema = z.string().regex(PRINCIPAL_ID, 'a principal id is basic:, bearer: or jwt: and 24 hex digits, as `mcp-gateway config check` and a refused /status name it');

export const ClientAuthSchema = z.strictObject({
  basic: z.array(z.strictObject({ username: z.string().min(1), password: z.string().min(1) })).default([]),
  bearer: z.array(z.string().min(1)).default([]),
  jwt: JwtAuthSchema.optional(),
  /** Principals that may read `/status` and end sessions there; absent or empty: every principal may. */
  operators: z.array(PrincipalIdSchema).max(1000).optional(),
});
export type ClientAuth = z.infer<typeof ClientAuthSchema>;

export const HostTokenSchema = z.strictObject({
  token: z.string().min(16, 'host tokens need at least 16 characters'),
  /** Server names this token may announce; absent means any. */
  servers: z.array(z.string().regex(NAME_PATTERN)).optional(),
  /** Host ids this token may connect as; absent means any id no other token lists or holds. */
  hosts: z.array(z.string().regex(NAME_PATTERN)).optional(),
  /** With `servers`: may also announce a server that a host of another token serves (sessions are then spread over both). */
  shareServers: z.boolean().optional(),
});
export type HostToken = z.infer<typeof HostTokenSchema>;

/** HOST_TOKENS: a JSON list of HostToken, or plain comma-separated tokens. */
export function parseHostTokens(value: string | undefined): HostToken[] {
  const text = (value ?? '').trim();
  if (!text) return [];
  if (text.startsWith('[')) return z.array(HostTokenSchema).parse(JSON.parse(text));
  return text.split(',').map((token) => ({ token: token.trim() })).filter((t) => t.token);
}

/** The algorithms a JWT config accepts: as configured, else HS256 for a secret and RS256/ES256 for JWKS. */
export function jwtAlgorithms(jwt: JwtAuth): string[] {
  return jwt.algorithms ?? (jwt.secret ? ['HS256'] : ['RS256', 'ES256']);
}

/**
 * Whether `token` may connect as host `hostId`: `own` when it lists the id in `hosts`, `reserved`
 * when it lists others (or lists none and another token lists this id), else `any` (usable unless
 * a connection of another token holds it; the Hub decides that).
 */
export function hostClaimOf(token: HostToken, all: readonly HostToken[], hostId: string): 'own' | 'any' | 'reserved' {
  if (token.hosts) return token.hosts.includes(hostId) ? 'own' : 'reserved';
  return all.some((t) => t !== token && t.hosts?.includes(hostId)) ? 'reserved' : 'any';
}
