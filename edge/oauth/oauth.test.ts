import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config.ts';
import { scopeAllows } from '../../shared/oauth.ts';
import { canonicalResource, canonicalResourceParams } from './resource.ts';
import { grantedScopes, routeServer } from './scopes.ts';
import { OAuthStore, type SqlValue } from './store.ts';

function store(now: { t: number }) {
  const db = new DatabaseSync(':memory:');
  return new OAuthStore((query, ...params) => db.prepare(query).all(...(params as (string | number | null)[])) as Record<string, SqlValue>[], () => now.t);
}

describe('OAuthStore (the KV the OAuth library sees)', () => {
  it('gets, overwrites and deletes', () => {
    const s = store({ t: 0 });
    expect(s.get('a')).toBeNull();
    s.put('a', '1');
    s.put('a', '2');
    expect(s.get('a')).toBe('2');
    s.delete('a');
    expect(s.get('a')).toBeNull();
  });

  it('forgets an entry at its expiry (ttl or absolute), in get and list', () => {
    const now = { t: 1_000_000 };
    const s = store(now);
    s.put('token:a', 'x', { expirationTtl: 60 });
    s.put('token:b', 'y', { expiration: 1_000 + 120 });
    now.t += 59_000;
    expect(s.get('token:a')).toBe('x');
    expect(s.list({ prefix: 'token:' }).keys.map((k) => k.name)).toEqual(['token:a', 'token:b']);
    now.t += 1_000;
    expect(s.get('token:a')).toBeNull();
    expect(s.list({ prefix: 'token:' }).keys.map((k) => k.name)).toEqual(['token:b']);
    now.t += 60_000;
    expect(s.sweep()).toBe(1);
    expect(s.get('token:b')).toBeNull();
  });

  it('lists by prefix in pages, with metadata and expiry; LIKE wildcards are plain characters', () => {
    const s = store({ t: 0 });
    for (let i = 0; i < 5; i++) s.put(`grant:u%1:${i}`, '{}', { metadata: { i }, expiration: 1000 });
    s.put('grant:u_2:x', '{}');
    s.put('grant:', 'edge');
    const first = s.list({ prefix: 'grant:u%1:', limit: 2 });
    expect(first).toMatchObject({ list_complete: false, keys: [{ name: 'grant:u%1:0', metadata: { i: 0 }, expiration: 1000 }, { name: 'grant:u%1:1' }] });
    const second = s.list({ prefix: 'grant:u%1:', limit: 2, cursor: first.cursor! });
    expect(second.keys.map((k) => k.name)).toEqual(['grant:u%1:2', 'grant:u%1:3']);
    const last = s.list({ prefix: 'grant:u%1:', limit: 2, cursor: second.cursor! });
    expect(last).toEqual({ list_complete: true, keys: [{ name: 'grant:u%1:4', metadata: { i: 4 }, expiration: 1000 }] });
    expect(s.list({ prefix: 'grant:u_' }).keys.map((k) => k.name)).toEqual(['grant:u_2:x']);
  });

  it('refuses keys and values out of bounds', () => {
    const s = store({ t: 0 });
    expect(() => s.put('', 'x')).toThrow(RangeError);
    expect(() => s.put('k'.repeat(513), 'x')).toThrow(RangeError);
    expect(() => s.put('k', 'v'.repeat(1024 * 1024 + 1))).toThrow(RangeError);
  });
});

describe('resources, routes and scopes', () => {
  const issuer = 'https://gw.example';
  it('maps every URL on the gateway origin to the origin, and nothing else', () => {
    expect(canonicalResource('https://gw.example/everything/mcp', issuer)).toBe(issuer);
    expect(canonicalResource('https://GW.example/', issuer)).toBe(issuer);
    expect(canonicalResource('https://gw.example.evil/mcp', issuer)).toBe('https://gw.example.evil/mcp');
    expect(canonicalResource('https://user@gw.example/', issuer)).toBe('https://user@gw.example/');
    expect(canonicalResource('not a url', issuer)).toBe('not a url');
    expect(canonicalResourceParams(new URLSearchParams('a=1&resource=https%3A%2F%2Fgw.example%2Fx%2Fmcp'), issuer).toString()).toBe('a=1&resource=https%3A%2F%2Fgw.example');
  });

  it("finds a route's server", () => {
    expect(routeServer('/everything/mcp')).toBe('everything');
    expect(routeServer('/everything')).toBe('everything');
    expect(routeServer('/api/everything/echo')).toBe('everything');
    expect(routeServer('/api/sessionid')).toBeUndefined();
    expect(routeServer('/openapi.json')).toBeUndefined();
    expect(routeServer('/docs')).toBeUndefined();
    expect(routeServer('/oauth/grants')).toBeUndefined();
    expect(routeServer('/')).toBeUndefined();
    expect(routeServer('/%E0%A4%A/mcp')).toBeUndefined();
    expect(routeServer('/.well-known/x')).toBeUndefined();
  });

  it('lets `mcp` reach everything and `mcp:<server>` that server only', () => {
    expect(scopeAllows(['mcp'], 'a')).toBe(true);
    expect(scopeAllows(['mcp:a'], 'a')).toBe(true);
    expect(scopeAllows(['mcp:a'], 'b')).toBe(false);
    expect(scopeAllows(['mcp:a'], undefined)).toBe(true);
    expect(scopeAllows(['offline_access'], undefined)).toBe(false);
    expect(scopeAllows([], 'a')).toBe(false);
  });

  it('grants the scopes asked for that exist, `mcp` when none, within a client allowance', () => {
    expect(grantedScopes([], undefined)).toEqual(['mcp']);
    expect(grantedScopes(['offline_access'], undefined)).toEqual(['offline_access', 'mcp']);
    expect(grantedScopes(['mcp:a', 'admin', 'mcp:a'], undefined)).toEqual(['mcp:a']);
    const client = { id: 'gpt', secret: 's'.repeat(32), name: 'GPT', redirectUris: ['https://x.example/cb'], scopes: ['mcp:a'] };
    expect(grantedScopes(['mcp', 'mcp:a', 'mcp:b'], client)).toEqual(['mcp:a']);
  });
});

describe('auth.oauth in config.yaml', () => {
  const base = { auth: { basic: { credentials: [{ username: 'u', password: 'p' }] }, oauth: {} } };
  it('has defaults', () => {
    const result = parseConfig(base, {});
    expect('config' in result && result.config.auth?.oauth).toEqual({
      enabled: true,
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 2_592_000,
      dynamicRegistration: true,
      clientIdMetadataDocuments: true,
      clients: [],
    });
  });

  it('needs a credential to sign in with, a long client secret, and no unknown keys', () => {
    const issues = (raw: unknown) => ('issues' in parseConfig(raw, {}) ? (parseConfig(raw, {}) as { issues: { path: unknown[]; message: string }[] }).issues : []);
    expect(issues({ auth: { jwt: { secret: 's'.repeat(32), issuer: 'i', audience: 'a' }, oauth: {} } })[0]).toMatchObject({ path: ['auth', 'oauth'], message: expect.stringMatching(/basic credentials, bearer tokens or an upstream provider/) });
    expect(issues({ auth: { basic: { enabled: false, credentials: [{ username: 'u', password: 'p' }] }, bearer: { tokens: ['t'] }, oauth: {} } })).toEqual([]);
    expect(issues({ auth: { basic: { enabled: false, credentials: [{ username: 'u', password: 'p' }] }, jwt: { secret: 's'.repeat(32), issuer: 'i', audience: 'a' }, oauth: {} } })[0]!.path).toEqual(['auth', 'oauth']);
    expect(issues({ auth: { ...base.auth, oauth: { clients: [{ id: 'gpt', secret: 'short', name: 'n', redirectUris: ['https://x.example/cb'] }] } } })[0]!.message).toMatch(/at least 32/);
    expect(issues({ auth: { ...base.auth, oauth: { accessTokenTtl: 5 } } })[0]!.message).toMatch(/unknown key "accessTokenTtl"/);
    const upstream = { issuer: 'https://idp.example/', clientId: 'gw', clientSecret: 's' };
    expect(issues({ auth: { oauth: { upstream: { ...upstream, allow: {} } } } })[0]!.message).toMatch(/list who may sign in/);
    expect(issues({ auth: { oauth: { upstream: { ...upstream, issuer: 'http://idp.example', allow: { subjects: ['a'] } } } } })[0]!.message).toMatch(/https/);
    // With a JWT setup and an upstream provider, no password or token is needed to sign in.
    const jwt = { secret: 's'.repeat(32), issuer: 'https://idp.example', audience: 'gw' };
    const withUpstream = parseConfig({ auth: { jwt, oauth: { upstream: { ...upstream, allow: { emails: ['me@example.com'] } } } } }, {});
    expect('config' in withUpstream && withUpstream.config.auth?.oauth?.upstream).toMatchObject({ issuer: 'https://idp.example', name: 'your identity provider', allow: { subjects: [], emails: ['me@example.com'] } });
    expect(issues({ auth: { ...base.auth, oauth: { accessTokenTtlSeconds: 5 } } })).toHaveLength(1);
  });
});
