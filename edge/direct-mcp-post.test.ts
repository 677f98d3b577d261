/**
 * The direct dispatch of POST /{server}/mcp (direct-mcp-post.ts) against Hono's router and
 * middleware chain: which requests it takes, that no other route could answer them, and that
 * every request gets the same answer either way (status, headers, body, what the Hub is asked).
 */
import { describe, expect, it } from 'vitest';
import { createApp } from './app.ts';
import { directInput, mcpPostServer } from './direct-mcp-post.ts';
import type { EdgeEnv } from './env.ts';
import { BASE, CLIENT_TOKEN, gateway, initialize, MCP_HEADERS } from './test-app.ts';

type Init = { method?: string; headers?: Record<string, string>; body?: string; url?: string; length?: false };

/** A request as a real client sends it: with its Content-Length (fetch in Node adds none to a Request object). */
function requestOf(path: string, init: Init): Request {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.body !== undefined && init.length !== false) headers['content-length'] = String(new TextEncoder().encode(init.body).length);
  return new Request(init.url ?? `${BASE}${path}`, { method: init.method ?? 'POST', headers, body: init.body });
}

async function observed(res: Response, calls: unknown[]) {
  return { status: res.status, headers: [...res.headers].sort(), body: await res.text(), calls: structuredClone(calls) };
}

/** The same request through the app with and without the direct dispatch: whether it was taken, and both answers. */
function pair(vars: Record<string, string> = {}) {
  const direct = gateway(vars);
  const viaHono = gateway(vars, { directDispatch: false });
  return {
    direct,
    viaHono,
    async both(path: string, init: Init) {
      const taken = directInput(requestOf(path, init), direct.env as unknown as EdgeEnv) !== undefined;
      const a = await observed(await direct.request(path, requestInit(requestOf(path, init))), direct.hub.calls.splice(0));
      const b = await observed(await viaHono.request(path, requestInit(requestOf(path, init))), viaHono.hub.calls.splice(0));
      return { taken, direct: a, viaHono: b };
    },
  };
}

function requestInit(request: Request): RequestInit & { url: string } {
  return { url: request.url, method: request.method, headers: Object.fromEntries(request.headers), body: request.body, duplex: 'half' } as RequestInit & { url: string };
}

const list = '{"jsonrpc":"2.0","id":2,"method":"tools/list"}';

describe('the direct dispatch of POST /{server}/mcp', () => {
  it('reads the server only from a plain /{server}/mcp URL', () => {
    expect(mcpPostServer('http://gw.test/everything/mcp')).toBe('everything');
    expect(mcpPostServer('http://127.0.0.1:8787/a.b-c_d/mcp')).toBe('a.b-c_d');
    for (const url of ['http://gw.test/mcp', 'http://gw.test//mcp', 'http://gw.test/a/b/mcp', 'http://gw.test/a/mcp?x=1', 'http://gw.test/a/mcp?', 'http://gw.test/a%41/mcp', 'http://gw.test/a+b/mcp', 'http://gw.test/a#/mcp', 'http://gw.test/a/mcp/', 'http://gw.test/a/mcpx', 'http://gw.test/é/mcp']) {
      expect(mcpPostServer(url), url).toBeUndefined();
    }
  });

  it('is the only route a POST to such a path can reach: the global middleware, then POST /:server/mcp', () => {
    const app = createApp({ directDispatch: false });
    // Every literal first segment of a route, and names no route spells.
    const names = new Set(['everything', 'x', 'mcp', 'api', '*']);
    for (const route of app.routes) names.add(route.path.split('/')[1] ?? '');
    for (const name of names) {
      if (!name || name.startsWith(':')) continue;
      const matched = app.router.match('POST', `/${name}/mcp`)[0].map(([[, route]]) => `${route.method} ${route.path}`);
      expect(matched, name).toEqual(['ALL /*', 'ALL /*', 'ALL /*', 'ALL /*', 'POST /:server/mcp', 'POST /:server/mcp', 'POST /:server/mcp']);
    }
  });

  it('gives an open API the same answers as Hono, taking only what passes every check', async () => {
    const { both, direct, viaHono } = pair();
    const cases: [string, boolean, string, Init][] = [
      ['initialize', true, '/s/mcp', { headers: MCP_HEADERS, body: initialize }],
      ['a request in a session', true, '/s/mcp', { headers: { ...MCP_HEADERS, 'mcp-session-id': 'sess' }, body: list }],
      ['an SSE-only client', true, '/s/mcp', { headers: { ...MCP_HEADERS, accept: 'text/event-stream', 'mcp-session-id': 'sess' }, body: list }],
      ['a notification', true, '/s/mcp', { headers: { ...MCP_HEADERS, 'mcp-session-id': 'sess' }, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' }],
      ['an unsupported protocol version', true, '/s/mcp', { headers: { ...MCP_HEADERS, 'mcp-protocol-version': '1999-01-01' }, body: initialize }],
      ['an Accept without JSON or SSE', true, '/s/mcp', { headers: { ...MCP_HEADERS, accept: 'text/plain' }, body: initialize }],
      ['malformed JSON', true, '/s/mcp', { headers: MCP_HEADERS, body: '{"jsonrpc":' }],
      ['a batch', true, '/s/mcp', { headers: MCP_HEADERS, body: `[${list}]` }],
      ['not JSON-RPC', true, '/s/mcp', { headers: MCP_HEADERS, body: '{"hello":1}' }],
      ['a 2026-07-28 request without its headers', true, '/s/mcp', { headers: MCP_HEADERS, body: '{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}' }],
      ['an allowed Origin', false, '/s/mcp', { headers: { ...MCP_HEADERS, origin: BASE }, body: initialize }],
      ['a refused Origin', false, '/s/mcp', { headers: { ...MCP_HEADERS, origin: 'https://evil.example' }, body: initialize }],
      ['a query', false, '/s/mcp?x=1', { headers: MCP_HEADERS, body: initialize }],
      ['a percent-encoded path', false, '/s%41/mcp', { headers: MCP_HEADERS, body: initialize }],
      ['an encoded control character', false, '/s%0A/mcp', { headers: MCP_HEADERS, body: initialize }],
      ['a session id too long', false, '/s/mcp', { headers: { ...MCP_HEADERS, 'mcp-session-id': 's'.repeat(300) }, body: list }],
      ['a Host the gateway does not serve', false, '', { url: 'http://evil.test/s/mcp', headers: MCP_HEADERS, body: initialize }],
      ['a body over the limit', false, '/s/mcp', { headers: MCP_HEADERS, body: `{"jsonrpc":"2.0","id":1,"method":"x","params":{"p":"${'x'.repeat(3000)}"}}` }],
      ['no Content-Length', false, '/s/mcp', { headers: MCP_HEADERS, body: initialize, length: false }],
      ['a GET', false, '/s/mcp', { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': 'sess' } }],
    ];
    for (const [what, taken, path, init] of cases) {
      const seen = await both(path, init);
      expect(seen.taken, what).toBe(taken);
      expect(seen.direct, what).toEqual(seen.viaHono);
    }
    // The Hub's refusals and failures.
    for (const fail of [{ code: 'SESSION_NOT_FOUND' as const, message: 'unknown or ended session' }, { code: 'TOO_MANY_REQUESTS' as const, message: 'wait', retryAfter: 3 }]) {
      direct.hub.fail = viaHono.hub.fail = fail;
      const seen = await both('/s/mcp', { headers: { ...MCP_HEADERS, 'mcp-session-id': 'sess' }, body: list });
      expect(seen.taken).toBe(true);
      expect(seen.direct).toEqual(seen.viaHono);
    }
    direct.hub.fail = viaHono.hub.fail = undefined;
    for (const hub of [direct.hub, viaHono.hub]) hub.mcpPost = () => Promise.reject(new Error('the Hub broke'));
    const broken = await both('/s/mcp', { headers: { ...MCP_HEADERS, 'mcp-session-id': 'sess' }, body: list });
    expect(broken.direct).toEqual(broken.viaHono);
    expect(broken.direct.status).toBe(500);
  });

  it('takes a credential only once the full check has passed it, and gives the same answers', async () => {
    const { both, direct } = pair({ CLIENT_AUTH: JSON.stringify({ bearer: [CLIENT_TOKEN] }), OPEN_API: '' });
    const env = direct.env as unknown as EdgeEnv;
    const withToken = (token: string): Init => ({ headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: initialize });
    const fresh = `${CLIENT_TOKEN}`;
    expect(directInput(requestOf('/s/mcp', withToken(fresh)), env)).toBeUndefined();
    const first = await both('/s/mcp', withToken(fresh));
    expect(first.direct).toEqual(first.viaHono);
    expect(first.direct.status).toBe(200);
    // Passed once: remembered, and from then on answered directly, with the same principal.
    const again = await both('/s/mcp', withToken(fresh));
    expect(again.taken).toBe(true);
    expect(again.direct).toEqual(again.viaHono);
    for (const [what, init] of [
      ['no credential', { headers: MCP_HEADERS, body: initialize }],
      ['a wrong token', withToken('not-the-token-0123456789')],
      ['Basic where none is set', { headers: { ...MCP_HEADERS, authorization: `Basic ${btoa('a:b')}` }, body: initialize }],
    ] as [string, Init][]) {
      const seen = await both('/s/mcp', init);
      expect(seen.taken, what).toBe(false);
      expect(seen.direct, what).toEqual(seen.viaHono);
      expect(seen.direct.status, what).toBe(401);
    }
  });

  it('leaves a misconfigured API to Hono (503 either way)', async () => {
    const { both } = pair({ CLIENT_AUTH: '{}', OPEN_API: '' });
    const seen = await both('/s/mcp', { headers: MCP_HEADERS, body: initialize });
    expect(seen.taken).toBe(false);
    expect(seen.direct).toEqual(seen.viaHono);
    expect(seen.direct.status).toBe(503);
  });
});
