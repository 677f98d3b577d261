/**
 * The Worker's Hono app in process, with `app.request()`: middleware, routes, what each route
 * asks the Hub (over a recording stand-in for the Durable Object stub) and how errors come back.
 * Credentials and OAuth are in app-auth.test.ts; the Hub itself is tested in edge/hub/, and both
 * together through workerd in test/e2e.
 */
import { describe, expect, it } from 'vitest';
import { principalId } from '../shared/auth.ts';
import { createApp } from './app.ts';
import { CLIENT_TOKEN, gateway, EVIL, MCP_HEADERS, initialize, restError, jsonRpcError } from './test-app.ts';

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
