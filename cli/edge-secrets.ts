/** The edge's secrets from config.yaml: CLIENT_AUTH (client credentials) and HOST_TOKENS (host agents). */
import { principalId, type ClientAuth, type HostToken } from '../shared/auth.ts';
import type { Config } from '../shared/config.ts';
import type { OAuthSettings } from '../shared/oauth.ts';

/** Client credentials from config.yaml as the edge's CLIENT_AUTH secret; undefined without any. */
export function clientAuthBinding(config: Config): string | undefined {
  const { basic, bearer, jwt, operators } = config.auth ?? {};
  const value: ClientAuth = {
    basic: basic?.enabled ? basic.credentials : [],
    bearer: bearer?.enabled ? bearer.tokens : [],
    ...(operators?.length ? { operators } : {}),
  };
  if (jwt?.enabled) {
    const { enabled: _enabled, ...rest } = jwt;
    value.jwt = rest;
  }
  return value.basic.length || value.bearer.length || value.jwt ? JSON.stringify(value) : undefined;
}

/** OAuth settings from config.yaml (`auth.oauth`) as the edge's OAUTH secret; undefined when off. */
export function oauthBinding(config: Config): string | undefined {
  const oauth = config.auth?.oauth;
  if (!oauth?.enabled) return undefined;
  const { enabled: _enabled, ...rest } = oauth;
  const value: OAuthSettings = { ...rest, servers: Object.keys(config.servers) };
  return JSON.stringify(value);
}

/** Host tokens from config.yaml, plus one this process generated, as the edge's HOST_TOKENS secret. */
export function hostTokensBinding(config: Config, generated?: string): string {
  const tokens: HostToken[] = [...config.hostTokens];
  if (generated) tokens.push({ token: generated });
  return JSON.stringify(tokens);
}

/** Credentials and tokens in a config, which no log line may show. */
export function configSecrets(config: Config): string[] {
  const auth = config.auth;
  return [
    ...(auth?.basic?.credentials.map((c) => c.password) ?? []),
    ...(auth?.bearer?.tokens ?? []),
    ...(auth?.jwt?.secret ? [auth.jwt.secret] : []),
    ...(auth?.oauth?.clients.map((c) => c.secret) ?? []),
    ...(auth?.oauth?.upstream ? [auth.oauth.upstream.clientSecret] : []),
    ...config.hostTokens.map((t) => t.token),
  ];
}

/** A credential of the config and the principal id the edge gives it (what `auth.operators` lists). */
export interface CredentialPrincipal {
  label: string;
  id: string;
}

/** The principal ids of the config's basic credentials and bearer tokens (JWT subjects are named at /status). */
export async function credentialPrincipals(config: Config): Promise<CredentialPrincipal[]> {
  const { basic, bearer } = config.auth ?? {};
  const basics = (basic?.enabled ? basic.credentials : []).map(async (c) => ({ label: `basic ${c.username}`, id: await principalId.basic(c.username, c.password) }));
  const bearers = (bearer?.enabled ? bearer.tokens : []).map(async (t, i) => ({ label: `bearer token ${i + 1}`, id: await principalId.bearer(t) }));
  return Promise.all([...basics, ...bearers]);
}
