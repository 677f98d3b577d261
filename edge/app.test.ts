/**
 * The Worker's Hono app in process, with `app.request()`: middleware, routes, what each route
 * asks the Hub (over a recording stand-in for the Durable Object stub) and how errors come back.
 * The Hub itself is tested in hub.test.ts, and both together through workerd in test/e2e.
 */
import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import type { ErrorCode } from '../shared/errors.ts';
import { principalId } from '../shared/auth.ts';
import { createApp } from './app.ts';
import type { HubResult, WireError } from './hub/rpc.ts';

const HOST_TOKEN = 'host-token-0123456789';
const LIMITED_TOKEN = 'limited-token-0123456789';
const CLIENT_TOKEN = 'client-token-0123456789';
const BASE = 'http://gw.test';

type Call = { method: string; args: unknown[] };

/** Answers every Hub method the Worker may call, recording the calls; `fail` makes them fail. */
class HubDouble {
  readonly calls: Call[] = [];
  fail: WireError | undefined;
  toolResult = '{"content":[{"type":"text","text":"Echo: hi"}],"isError":false}';

  #answer<T>(method: string, args: unknown[], value: T): Promise<HubResult<T>> {
    this.calls.push({ method, args });
    return Promise.resolve(this.fail ? { ok: false, error: this.fail } : { ok: true, value });
  }

  callTool(...args: unknown[]) {
    return this.#answer('callTool', args, this.toolResult);
  }
  serverRequest(...args: unknown[]) {
    return this.#answer('serverRequest', args, { resources: [] });
  }
  createRestSession(...args: unknown[]) {
    return this.#answer('createRestSession', args, 'rest-session-1');
  }
  tools(...args: unknown[]) {
    return this.#answer('tools', args, []);
  }
  mcpPost(...args: unknown[]) {
    return this.#answer('mcpPost', args, new Response('{"jsonrpc":"2.0","id":1,"result":{}}', { headers: { 'content-type': 'application/json' } }));
  }
  mcpStream(...args: unknown[]) {
    return this.#answer('mcpStream', args, new Response('', { headers: { 'content-type': 'text/event-stream' } }));
  }
  mcpDelete(...args: unknown[]) {
    return this.#answer('mcpDelete', args, new Response(null, { status: 200 }));
  }
  sseOpen(...args: unknown[]) {
    return this.#answer('sseOpen', args, new Response('', { headers: { 'content-type': 'text/event-stream' } }));
  }
  ssePost(...args: unknown[]) {
    return this.#answer('ssePost', args, new Response('Accepted', { status: 202 }));
  }
  catalog() {
    this.calls.push({ method: 'catalog', args: [] });
    return Promise.resolve([]);
  }
  health() {
    this.calls.push({ method: 'health', args: [] });
    return Promise.resolve({ status: 'ok', hosts: [], servers: [] });
  }
  status(...args: unknown[]) {
    this.calls.push({ method: 'status', args });
    return Promise.resolve({ hosts: [] });
  }
  endSession(...args: unknown[]) {
    return this.#answer('endSession', args, null);
  }
  fetch(request: Request) {
    this.calls.push({ method: 'fetch', args: [request.url] });
    return Promise.resolve(new Response('upgraded'));
  }
}

function gateway(vars: Record<string, string> = {}) {
  const hub = new HubDouble();
  const env = {
    HUB: { idFromName: (name: string) => name, get: () => hub },
    ALLOWED_HOSTS: 'gw.test',
    MAX_BODY_BYTES: '2048',
    HOST_TOKENS: JSON.stringify([{ token: HOST_TOKEN }, { token: LIMITED_TOKEN, servers: ['a', 'b'] }]),
    // Without CLIENT_AUTH the API is closed unless opened on purpose.
    OPEN_API: '1',
    ...vars,
  };
  const app = createApp();
  const request = (path: string, init: RequestInit = {}) => app.request(`${BASE}${path}`, init, env as never);
  return { hub, request };
}

const EVIL = { origin: 'https://evil.example' };
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });

async function restError(res: Response): Promise<{ status: number; code: ErrorCode; message: string }> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: ErrorCode; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message };
}

async function jsonRpcError(res: Response): Promise<{ status: number; code: ErrorCode; rpcCode: number }> {
  const body = (await res.json()) as { jsonrpc: string; error: { code: number; data: { code: ErrorCode } } };
  expect(body.jsonrpc).toBe('2.0');
  return { status: res.status, code: body.error.data.code, rpcCode: body.error.code };
}

describe('errors take the shape of the route', () => {
  it('a refused Origin: REST JSON on /status and /api, JSON-RPC on MCP routes, text on pages', async () => {
    const { request, hub } = gateway();
    expect(await restError(await request('/status', { headers: EVIL }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await restError(await request('/api/s/echo', { method: 'POST', headers: EVIL, body: '{}' }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await restError(await request('/openapi.json', { headers: EVIL }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await jsonRpcError(await request('/s/mcp', { method: 'POST', headers: { ...MCP_HEADERS, ...EVIL }, body: initialize }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await jsonRpcError(await request('/s', { headers: EVIL }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    for (const page of ['/docs', '/status/page']) {
      const res = await request(page, { headers: EVIL });
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toMatch(/^FORBIDDEN: origin https:\/\/evil\.example is not allowed/);
    }
    expect(hub.calls).toEqual([]);
  });

  it('a request for a Host the gateway does not serve is refused before reaching the Hub', async () => {
    const { hub } = gateway();
    const res = await createApp().request('http://attacker.test/status', {}, { HUB: { idFromName: () => 'hub', get: () => hub }, ALLOWED_HOSTS: 'gw.test' } as never);
    expect(await restError(res)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(hub.calls).toEqual([]);
  });

  it('no such route: 404 NOT_FOUND as REST JSON', async () => {
    const { request } = gateway();
    expect(await restError(await request('/a/b/c/d'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('a Hub error keeps its code and Retry-After across the boundary', async () => {
    const { request, hub } = gateway();
    hub.fail = { code: 'HOST_OFFLINE', message: 'no host offers s right now', retryAfter: 5 };
    const rest = await request('/api/s/echo', { method: 'POST', body: '{}' });
    expect(rest.headers.get('retry-after')).toBe('5');
    expect(await restError(rest)).toEqual({ status: 503, code: 'HOST_OFFLINE', message: 'no host offers s right now' });
    hub.fail = { code: 'SESSION_NOT_FOUND', message: 'unknown or ended session: initialize a new one' };
    const mcp = await request('/s/mcp', { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': 'gone' }, body: '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' });
    expect(await jsonRpcError(mcp)).toEqual({ status: 404, code: 'SESSION_NOT_FOUND', rpcCode: -32001 });
    hub.fail = { code: 'INVALID_ARGUMENTS', message: 'arguments do not match', fields: [{ path: '/message', message: 'required' }] };
    const invalid = await request('/api/s/echo', { method: 'POST', body: '{}' });
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as { error: { fields: unknown } }).error.fields).toEqual([{ path: '/message', message: 'required' }]);
  });
});

describe('REST', () => {
  it('a tool call reaches the Hub as typed arguments, parsed once; its result is the body', async () => {
    const { request, hub } = gateway();
    const res = await request('/api/s/echo?sessionId=abc', { method: 'POST', body: '{"message":"hi"}' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(hub.toolResult);
    expect(hub.calls).toEqual([{ method: 'callTool', args: [{ server: 's', session: 'abc', principal: 'anonymous', tool: 'echo', args: { message: 'hi' } }] }]);
  });

  it('an empty body is no arguments; no sessionId is a one-off call', async () => {
    const { request, hub } = gateway();
    await request('/api/s/echo', { method: 'POST' });
    expect(hub.calls[0]!.args[0]).toMatchObject({ session: null, args: {} });
  });

  it('refuses bodies that are not a JSON object, and bodies over the limit', async () => {
    const { request, hub } = gateway();
    expect(await restError(await request('/api/s/echo', { method: 'POST', body: '{nope' }))).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
    expect(await restError(await request('/api/s/echo', { method: 'POST', body: '[1]' }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(await restError(await request('/api/s/echo', { method: 'POST', body: JSON.stringify({ text: 'x'.repeat(3000) }) }))).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(hub.calls).toEqual([]);
  });

  it('resources, prompts and sessions go to their own Hub methods', async () => {
    const { request, hub } = gateway();
    expect(await (await request('/api/sessionid')).json()).toEqual({ sessionId: 'rest-session-1' });
    expect(await restError(await request('/api/s/resources/read'))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    await request('/api/s/resources/read?uri=file%3A%2F%2Fx');
    await request('/api/s/prompts/greet', { method: 'POST', body: '{"name":"Ada"}' });
    expect(hub.calls.map((c) => [c.method, c.args[0]])).toEqual([
      ['createRestSession', 'anonymous'],
      ['serverRequest', { server: 's', session: null, principal: 'anonymous', method: 'resources/read', params: { uri: 'file://x' } }],
      ['serverRequest', { server: 's', session: null, principal: 'anonymous', method: 'prompts/get', params: { name: 'greet', arguments: { name: 'Ada' } } }],
    ]);
  });
});

describe('MCP', () => {
  it('a message reaches the Hub parsed, with the session and whether the client takes SSE, JSON or both', async () => {
    const { request, hub } = gateway();
    const res = await request('/s/mcp', { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': 'sess' }, body: '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
    expect(hub.calls[0]).toEqual({
      method: 'mcpPost',
      args: [{ server: 's', session: 'sess', principal: 'anonymous', message: { jsonrpc: '2.0', id: 2, method: 'tools/list' }, wantsSse: true, jsonToo: true }],
    });
    await request('/s/mcp', { method: 'POST', headers: { ...MCP_HEADERS, accept: 'text/event-stream', 'mcp-session-id': 'sess' }, body: '{"jsonrpc":"2.0","id":3,"method":"tools/list"}' });
    expect(hub.calls[1]?.args[0]).toMatchObject({ wantsSse: true, jsonToo: false });
  });

  it('refuses batches, non-JSON-RPC bodies, unknown protocol versions and a GET without a session, as JSON-RPC errors', async () => {
    const { request, hub } = gateway();
    const post = (body: string, headers: Record<string, string> = {}) => request('/s/mcp', { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body });
    expect(await jsonRpcError(await post(`[${initialize}]`))).toMatchObject({ status: 400, code: 'BAD_REQUEST', rpcCode: -32600 });
    expect(await jsonRpcError(await post('{"hello":1}'))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(await jsonRpcError(await post('{'))).toMatchObject({ status: 400, code: 'MALFORMED_JSON', rpcCode: -32700 });
    expect(await jsonRpcError(await post(initialize, { 'mcp-protocol-version': '1999-01-01' }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(await jsonRpcError(await request('/s/mcp', { headers: { accept: 'text/event-stream' } }))).toMatchObject({ status: 400, code: 'SESSION_REQUIRED' });
    expect(await jsonRpcError(await request('/s', { method: 'POST', body: initialize }))).toMatchObject({ status: 400, code: 'SESSION_REQUIRED' });
    expect(hub.calls).toEqual([]);
  });

  it('a GET resumes after Last-Event-ID; the HTTP+SSE stream announces an endpoint that keeps the query', async () => {
    const { request, hub } = gateway();
    await request('/s/mcp', { headers: { accept: 'text/event-stream', 'mcp-session-id': 'sess', 'last-event-id': '40' } });
    await request('/s?token=t');
    expect(hub.calls).toEqual([
      { method: 'mcpStream', args: [{ server: 's', session: 'sess', principal: 'anonymous' }, '40'] },
      { method: 'sseOpen', args: ['s', 'anonymous', '/s?token=t'] },
    ]);
  });
});

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

describe('settings', () => {
  it('an invalid Worker variable is a 500 that names it in the log, never a silent default', async () => {
    const { request } = gateway({ MAX_BODY_BYTES: 'lots' });
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => void logged.push(line);
    try {
      expect(await restError(await request('/api/s/echo', { method: 'POST', body: '{}' }))).toMatchObject({ status: 500, code: 'INTERNAL' });
    } finally {
      console.error = original;
    }
    expect(logged.join('\n')).toContain('MAX_BODY_BYTES=\\"lots\\"');
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin, and gives none to others', async () => {
    const { request } = gateway({ ALLOWED_ORIGINS: 'https://app.example' });
    const preflight = { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'mcp-session-id' } };
    const ok = await request('/s/mcp', preflight);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('mcp-session-id');
    const other = await request('/s/mcp', { ...preflight, headers: { ...preflight.headers, origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

/** The OAuth store's Durable Object, as a Map (expiry is tested with the real store in edge/oauth/). */
class OAuthStoreDouble {
  readonly data = new Map<string, { value: string; metadata?: unknown }>();
  kvGet(key: string) {
    return Promise.resolve(this.data.get(key)?.value ?? null);
  }
  kvPut(key: string, value: string, options?: { metadata?: unknown }) {
    this.data.set(key, { value, metadata: options?.metadata });
    return Promise.resolve();
  }
  kvDelete(key: string) {
    this.data.delete(key);
    return Promise.resolve();
  }
  kvList(options?: { prefix?: string }) {
    const keys = [...this.data.keys()].filter((k) => k.startsWith(options?.prefix ?? '')).sort().map((name) => ({ name, metadata: this.data.get(name)!.metadata }));
    return Promise.resolve({ keys, list_complete: true });
  }
}

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

describe('status', () => {
  const auth = { CLIENT_AUTH: JSON.stringify({ bearer: [CLIENT_TOKEN], basic: [{ username: 'admin', password: 'password-0123456789' }] }) };
  const AUTH = { authorization: `Bearer ${CLIENT_TOKEN}` };

  it('/status asks the Hub for the history windows named, and refuses others', async () => {
    const { request, hub } = gateway(auth);
    expect((await request('/status', { headers: AUTH })).status).toBe(200);
    expect((await request('/status?history=day', { headers: AUTH })).status).toBe(200);
    expect(await restError(await request('/status?history=week', { headers: AUTH }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(hub.calls).toEqual([
      { method: 'status', args: ['both'] },
      { method: 'status', args: ['day'] },
    ]);
  });

  it('the page needs no credentials and carries no data; /status and ending a session do', async () => {
    const { request, hub } = gateway(auth);
    const page = await request('/status/page');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).not.toMatch(/bearer:|CLIENT|token-0123/);
    expect((await request('/status')).status).toBe(401);
    expect((await request('/status/sessions/abc', { method: 'DELETE' })).status).toBe(401);
    expect(hub.calls).toEqual([]);
  });

  it('ends a session by id, refusing ids that are not ids; an unknown one is 404', async () => {
    const { request, hub } = gateway(auth);
    expect((await request('/status/sessions/0123abcd', { method: 'DELETE', headers: AUTH })).status).toBe(204);
    expect(await restError(await request('/status/sessions/a.b', { method: 'DELETE', headers: AUTH }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(await restError(await request(`/status/sessions/${'a'.repeat(129)}`, { method: 'DELETE', headers: AUTH }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    hub.fail = { code: 'SESSION_NOT_FOUND', message: 'no such session' };
    expect(await restError(await request('/status/sessions/0123abcd', { method: 'DELETE', headers: AUTH }))).toMatchObject({ status: 404, code: 'SESSION_NOT_FOUND' });
    expect(hub.calls.map((c) => c.args)).toEqual([['0123abcd'], ['0123abcd']]);
  });

  it('with auth.operators, only those principals read /status and end sessions; others get 403 naming their principal', async () => {
    const operator = await principalId.basic('admin', 'password-0123456789');
    const client = await principalId.bearer(CLIENT_TOKEN);
    const { request, hub } = gateway({ CLIENT_AUTH: JSON.stringify({ ...JSON.parse(auth.CLIENT_AUTH), operators: [operator] }) });
    const refused = await restError(await request('/status', { headers: AUTH }));
    expect(refused).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(refused.message).toContain(client);
    expect(await restError(await request('/status/sessions/0123abcd', { method: 'DELETE', headers: AUTH }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(hub.calls).toEqual([]);
    const OPERATOR = { authorization: 'Basic ' + btoa('admin:password-0123456789') };
    expect((await request('/status', { headers: OPERATOR })).status).toBe(200);
    expect((await request('/status/sessions/0123abcd', { method: 'DELETE', headers: OPERATOR })).status).toBe(204);
    // The rest of the API is the same for both.
    expect((await request('/api/sessionid', { headers: AUTH })).status).not.toBe(403);
  });

  it('an operators list that is not principal ids closes the API (503), as any malformed CLIENT_AUTH does', async () => {
    const { request } = gateway({ CLIENT_AUTH: JSON.stringify({ ...JSON.parse(auth.CLIENT_AUTH), operators: ['admin'] }) });
    expect(await restError(await request('/status', { headers: AUTH }))).toMatchObject({ status: 503, code: 'MISCONFIGURED' });
  });

  it('browser sign-in at /status?login: a Basic challenge alone, then the page once signed in', async () => {
    const { request } = gateway(auth);
    const challenge = await request('/status?login');
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toBe('Basic realm="mcp-gateway", charset="UTF-8"');
    expect((await request('/status?login', { headers: { authorization: 'Basic ' + btoa('admin:wrong') } })).status).toBe(401);
    const signedIn = await request('/status?login', { headers: { authorization: 'Basic ' + btoa('admin:password-0123456789') } });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/status/page');
    expect(await restError(await request('/status?login', { headers: EVIL }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });
});
