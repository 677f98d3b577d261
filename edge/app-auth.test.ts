/**
 * The Worker's credentials in process: failing closed without a valid CLIENT_AUTH, Basic, bearer
 * and JWT credentials, the OAuth server's routes, and the limits on failed sign-ins and refused
 * credentials.
 */
import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { HOST_TOKEN, LIMITED_TOKEN, CLIENT_TOKEN, gateway, MCP_HEADERS, initialize, restError, jsonRpcError, OAuthStoreDouble } from './test-app.ts';

describe('fail closed', () => {
  it.each([
    ['no CLIENT_AUTH and no OPEN_API', { OPEN_API: '' }],
    ['an empty CLIENT_AUTH object', { CLIENT_AUTH: '{}' }],
    ['CLIENT_AUTH that is not JSON', { CLIENT_AUTH: '{"bearer": [' }],
    ['CLIENT_AUTH with an unknown key', { CLIENT_AUTH: JSON.stringify({ bearer: ['t'.repeat(20)], bearers: ['x'] }) }],
    ['CLIENT_AUTH with a misspelled basic entry', { CLIENT_AUTH: JSON.stringify({ basic: [{ user: 'a', password: 'b' }] }) }],
    ['CLIENT_AUTH with an empty bearer token', { CLIENT_AUTH: JSON.stringify({ bearer: [''] }) }],
  ])('%s: every API route answers 503 MISCONFIGURED, the log says why; /health does not need it', async (_name, vars) => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { request, hub } = gateway(vars);
    expect(await restError(await request('/api/sessionid'))).toMatchObject({ status: 503, code: 'MISCONFIGURED' });
    expect((await request('/s/mcp', { method: 'POST', headers: MCP_HEADERS, body: initialize })).status).toBe(503);
    expect((await request('/health')).status).toBe(200);
    expect(hub.calls.map((c) => c.method)).toEqual(['health']);
    const lines = logged.mock.calls.map((args) => String(args[0]));
    logged.mockRestore();
    expect(lines.filter((l) => l.includes('client auth is misconfigured'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('t'.repeat(20));
  });

  it('HOST_TOKENS with an unknown key refuses hosts with 503 MISCONFIGURED', async () => {
    const { request, hub } = gateway({ HOST_TOKENS: JSON.stringify([{ token: 't'.repeat(20), server: ['a'] }]) });
    const res = await request('/agent?host=h', { headers: { upgrade: 'websocket', authorization: `Bearer ${'t'.repeat(20)}` } });
    expect(await restError(res)).toMatchObject({ status: 503, code: 'MISCONFIGURED' });
    expect(hub.calls).toEqual([]);
  });
});

describe('credentials', () => {
  const auth = { CLIENT_AUTH: JSON.stringify({ bearer: [CLIENT_TOKEN] }) };

  it('without credentials: 401 with a challenge; with them, the principal reaches the Hub', async () => {
    const { request, hub } = gateway(auth);
    const refused = await request('/api/s/echo', { method: 'POST', body: '{}' });
    expect(refused.headers.get('www-authenticate')).toContain('Bearer');
    expect(await restError(refused)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    // On an MCP route the same refusal is a JSON-RPC error, with the same challenge.
    const mcp = await request('/s/mcp', { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } });
    expect(mcp.headers.get('www-authenticate')).toContain('Bearer');
    expect(await jsonRpcError(mcp)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    await request('/api/s/echo', { method: 'POST', body: '{}', headers: { authorization: `Bearer ${CLIENT_TOKEN}` } });
    expect(hub.calls).toHaveLength(1);
    // The principal is a hash of the credential, never the credential or its place in a list.
    expect(hub.calls[0]!.args[0]).toMatchObject({ principal: expect.stringMatching(/^bearer:[0-9a-f]{24}$/) });
  });

  it('Basic credentials (a password may hold ":") and JWTs: each verified, each its own principal', async () => {
    const secret = 'jwt-secret-0123456789abcdef-0123456789';
    const { request, hub } = gateway({
      CLIENT_AUTH: JSON.stringify({ basic: [{ username: 'admin', password: 'pa:ss' }], jwt: { secret, issuer: 'https://issuer.test', audience: 'gw' } }),
    });
    const sign = (claims: { aud?: string; exp?: string | number } = {}) =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer('https://issuer.test').setAudience(claims.aud ?? 'gw').setExpirationTime(claims.exp ?? '5m').sign(new TextEncoder().encode(secret));
    const tool = (authorization: string) => request('/api/s/echo', { method: 'POST', body: '{}', headers: { authorization } });
    expect((await tool(`Basic ${btoa('admin:pa:ss')}`)).status).toBe(200);
    expect((await tool(`Basic ${btoa('admin:pa')}`)).status).toBe(401);
    expect((await tool(`Bearer ${await sign()}`)).status).toBe(200);
    expect((await tool(`Bearer ${await sign({ aud: 'elsewhere' })}`)).status).toBe(401);
    expect((await tool(`Bearer ${await sign({ exp: Math.floor(Date.now() / 1000) - 3600 })}`)).status).toBe(401);
    const principals = hub.calls.map((c) => (c.args[0] as { principal: string }).principal);
    expect(principals).toEqual([expect.stringMatching(/^basic:/), expect.stringMatching(/^jwt:/)]);
  });

  it('/health needs none', async () => {
    const { request } = gateway(auth);
    expect((await request('/health')).status).toBe(200);
  });

  it('/agent: a host token, a valid host id, and the servers the token may announce, with no header of its own', async () => {
    const { request, hub } = gateway();
    const upgrade = { upgrade: 'websocket' };
    expect(await restError(await request('/agent?host=h', { headers: upgrade }))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(await restError(await request('/agent?host=h', { headers: { authorization: `Bearer ${HOST_TOKEN}` } }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(await restError(await request('/agent?host=a%20b', { headers: { ...upgrade, authorization: `Bearer ${HOST_TOKEN}` } }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    await request('/agent?host=h1', { headers: { ...upgrade, authorization: `Bearer ${HOST_TOKEN}` } });
    await request('/agent?host=h2', { headers: { ...upgrade, authorization: `Bearer ${LIMITED_TOKEN}` } });
    // The Hub learns the host id, the servers the token may announce, whether it may use that id, and a hash of the token.
    expect(hub.calls).toEqual([
      { method: 'fetch', args: [expect.stringMatching(/^https:\/\/hub\/agent\?host=h1&claim=any&token=[0-9a-f]{24}$/)] },
      { method: 'fetch', args: [expect.stringMatching(/^https:\/\/hub\/agent\?host=h2&servers=a%2Cb&claim=any&token=[0-9a-f]{24}$/)] },
    ]);
    expect(JSON.stringify(hub.calls)).not.toContain(HOST_TOKEN);
  });
});

describe('OAuth (edge/oauth/) in process', () => {
  const CLIENT_AUTH = JSON.stringify({ basic: [{ username: 'owner', password: 'pw' }], bearer: [CLIENT_TOKEN] });
  const OAUTH = JSON.stringify({ accessTokenTtlSeconds: 3600, refreshTokenTtlSeconds: 86_400, dynamicRegistration: true, clientIdMetadataDocuments: false, clients: [], servers: ['s'] });
  function oauthGateway(vars: Record<string, string> = {}) {
    const store = new OAuthStoreDouble();
    return gateway({ CLIENT_AUTH, OAUTH, PUBLIC_URL: 'https://gw.test', OAUTH_STORE: { idFromName: (n: string) => n, get: () => store } as never, ...vars });
  }

  it('off: no metadata, and a 401 without resource_metadata', async () => {
    const { request } = gateway({ CLIENT_AUTH });
    expect((await request('/.well-known/oauth-protected-resource')).status).toBe(404);
    expect((await request('/.well-known/oauth-authorization-server')).status).toBe(404);
    expect((await request('/authorize')).status).toBe(404);
    const res = await request('/api/s/tools');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).not.toContain('resource_metadata');
  });

  it('a malformed OAUTH secret turns OAuth off (logged), never the API open', async () => {
    const { request } = oauthGateway({ OAUTH: '{"clients": 5}' });
    expect((await request('/.well-known/oauth-protected-resource')).status).toBe(404);
    const res = await request('/api/s/tools');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).not.toContain('resource_metadata');
  });

  it('on, but at a plain-http name other than loopback: off there (OAuth 2.1 needs https)', async () => {
    const { request } = oauthGateway({ PUBLIC_URL: '' });
    expect((await request('/.well-known/oauth-protected-resource')).status).toBe(404);
    expect((await request('/api/s/tools')).headers.get('www-authenticate')).not.toContain('resource_metadata');
  });

  it('on: the challenge points at the metadata; static tokens keep working; unknown OAuth-shaped tokens get 401', async () => {
    const { request } = oauthGateway();
    const res = await request('/s/mcp', { method: 'POST', headers: MCP_HEADERS, body: initialize });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="mcp-gateway", resource_metadata="https://gw.test/.well-known/oauth-protected-resource/s/mcp", scope="mcp", Basic realm="mcp-gateway", charset="UTF-8"');
    expect((await request('/api/s/tools', { headers: { authorization: `Bearer ${CLIENT_TOKEN}` } })).status).toBe(200);
    expect((await request('/api/s/tools', { headers: { authorization: 'Bearer owner:grant:secret' } })).status).toBe(401);
    const prm = (await (await request('/.well-known/oauth-protected-resource/s/mcp')).json()) as { resource: string };
    expect(prm.resource).toBe('https://gw.test/s/mcp');
    expect((await request(`/.well-known/oauth-protected-resource/${'x'.repeat(600)}`)).status).toBe(404);
  });

  it('bounds: a long authorization request, a large form, a large token request', async () => {
    const { request } = oauthGateway();
    expect((await request(`/authorize?client_id=${'x'.repeat(9000)}`)).status).toBe(400);
    const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    expect((await request('/authorize', { ...form, body: `request=${'x'.repeat(20_000)}` })).status).toBe(413);
    const token = await request('/oauth/token', { ...form, body: `code=${'x'.repeat(70_000)}` });
    expect(token.status).toBe(413);
    expect(await token.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('the sign-in page: no script, no framing, escaped client name; an unknown client gets an error page', async () => {
    const { request } = oauthGateway();
    const reg = await request('/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: '<img src=x onerror=alert(1)>', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) });
    const text = await reg.text();
    expect(reg.status, text).toBe(201);
    const registered = JSON.parse(text) as { client_id: string };
    const query = new URLSearchParams({ response_type: 'code', client_id: registered.client_id, redirect_uri: 'http://127.0.0.1:5000/cb', state: 's', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' });
    const page = await request(`/authorize?${query}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('http://127.0.0.1:5000/cb');
    const unknown = await request(`/authorize?${new URLSearchParams({ ...Object.fromEntries(query), client_id: 'nobody' })}`);
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('location')).toBeNull();
  });
});

describe('OAuth sign-in attempts', () => {
  const CLIENT_AUTH = JSON.stringify({ basic: [{ username: 'owner', password: 'pw' }], bearer: [CLIENT_TOKEN] });
  const OAUTH = JSON.stringify({ accessTokenTtlSeconds: 3600, refreshTokenTtlSeconds: 86_400, dynamicRegistration: true, clientIdMetadataDocuments: false, clients: [], servers: ['s'] });

  it('past 10 failures from one address within a minute, the form answers 429 with Retry-After, whatever is typed; other addresses and a later minute are unaffected', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-30T12:00:00Z') });
    try {
      const store = new OAuthStoreDouble();
      const { request } = gateway({ CLIENT_AUTH, OAUTH, PUBLIC_URL: 'https://gw.test', OAUTH_STORE: { idFromName: (n: string) => n, get: () => store } as never });
      const reg = await request('/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'c', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) });
      const { client_id } = (await reg.json()) as { client_id: string };
      const query = new URLSearchParams({ response_type: 'code', client_id, redirect_uri: 'http://127.0.0.1/cb', state: 's', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' }).toString();
      const signIn = (password: string, ip = '203.0.113.7') =>
        request('/authorize', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': ip }, body: new URLSearchParams({ request: query, username: 'owner', password }).toString() });
      for (let i = 0; i < 10; i++) expect((await signIn(`wrong-${i}`)).status).toBe(401);
      const refused = await signIn('pw');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.text()).toContain('Too many failed sign-ins');
      expect((await signIn('pw', '198.51.100.2')).status).toBe(302);
      vi.setSystemTime(Date.now() + 61_000);
      expect((await signIn('pw')).status).toBe(302);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('refused credentials on the API', () => {
  const OTHER_TOKEN = 'other-token-0123456789';
  const CLIENT_AUTH = JSON.stringify({ bearer: [CLIENT_TOKEN, OTHER_TOKEN] });

  it('past 30 refused credentials from one address within a minute, its new credentials get 429 with Retry-After unchecked; a credential already working, other addresses and a later minute are unaffected', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-30T12:00:00Z') });
    try {
      const store = new OAuthStoreDouble();
      const { request } = gateway({ CLIENT_AUTH, OAUTH_STORE: { idFromName: (n: string) => n, get: () => store } as never });
      const status = (token: string, ip = '203.0.113.9') => request('/status', { headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': ip } });
      expect((await status(CLIENT_TOKEN)).status).toBe(200);
      // No credential at all is not a guess: it never counts.
      for (let i = 0; i < 40; i++) expect((await request('/status', { headers: { 'cf-connecting-ip': '203.0.113.9' } })).status).toBe(401);
      for (let i = 0; i < 30; i++) expect((await status(`guess-${i}`)).status).toBe(401);
      const refused = await status(OTHER_TOKEN);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await restError(refused)).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
      expect((await status('guess-again')).status).toBe(429);
      expect((await status(CLIENT_TOKEN)).status).toBe(200);
      expect((await status(OTHER_TOKEN, '198.51.100.3')).status).toBe(200);
      vi.setSystemTime(Date.now() + 61_000);
      expect((await status(OTHER_TOKEN)).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it('still answers 401, never a 5xx, when the failure count cannot be stored', async () => {
    const { request } = gateway({ CLIENT_AUTH });
    const res = await request('/status', { headers: { authorization: 'Bearer wrong-token', 'cf-connecting-ip': '192.0.2.50' } });
    expect(res.status).toBe(401);
  });
});
