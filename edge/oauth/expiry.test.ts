/**
 * Token expiry, through the OAuth library itself and the gateway's store, with the clock moved
 * forward (an end-to-end wait would take the library's minimum lifetime, 60 s).
 */
import { createHash, randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { OAuthAuthorizationServer } from '@cloudflare/workers-oauth-provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OAuthStore, type SqlValue } from './store.ts';

const ISSUER = 'http://127.0.0.1:8787';

function kv() {
  const db = new DatabaseSync(':memory:');
  const store = new OAuthStore((query, ...params) => db.prepare(query).all(...(params as (string | number | null)[])) as Record<string, SqlValue>[]);
  return {
    get: async (key: string, options?: { type?: string } | string) => {
      const text = store.get(key);
      const type = typeof options === 'string' ? options : options?.type;
      return text !== null && type === 'json' ? JSON.parse(text) : text;
    },
    put: async (key: string, value: string, options?: object) => store.put(key, value, options),
    delete: async (key: string) => store.delete(key),
    list: async (options?: object) => store.list(options),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('an access token past its lifetime', () => {
  it('stops validating, and a refresh brings a new one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const env = { OAUTH_KV: kv() };
    const server = new OAuthAuthorizationServer<typeof env>({ issuer: ISSUER, resources: [ISSUER], authorizeEndpoint: '/authorize', tokenEndpoint: '/oauth/token', accessTokenTTL: 60, clientRegistrationEndpoint: '/oauth/register' });
    const api = server.getOAuthApi(env);
    const client = await api.createClient({ redirectUris: ['http://127.0.0.1/cb'], tokenEndpointAuthMethod: 'none', clientName: 'test' });
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const request = await api.parseAuthRequest(new Request(`${ISSUER}/authorize?response_type=code&client_id=${client.clientId}&redirect_uri=http://127.0.0.1/cb&code_challenge=${challenge}&code_challenge_method=S256&state=s`));
    const { redirectTo } = await api.completeAuthorization({ request, userId: 'basic%3Aowner', metadata: {}, scope: ['mcp'], props: { principal: 'basic:owner' } });
    const code = new URL(redirectTo).searchParams.get('code')!;
    const token = async (params: Record<string, string>) => {
      const res = await server.fetch(new Request(`${ISSUER}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) }), env, {} as never);
      return (await res.json()) as { access_token: string; refresh_token: string };
    };
    const first = await token({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1/cb', client_id: client.clientId, code_verifier: verifier });
    expect(await server.validateToken(ISSUER, first.access_token, env)).toMatchObject({ props: { principal: 'basic:owner' }, scope: ['mcp'], audience: ISSUER });
    expect(await server.validateToken('http://127.0.0.1:9999', first.access_token, env).catch(() => null)).toBeNull();

    vi.setSystemTime(new Date('2026-01-01T00:01:01Z'));
    expect(await server.validateToken(ISSUER, first.access_token, env)).toBeNull();

    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: client.clientId });
    expect(await server.validateToken(ISSUER, second.access_token, env)).toMatchObject({ props: { principal: 'basic:owner' } });
  });
});
