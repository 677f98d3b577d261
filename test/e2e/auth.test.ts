/**
 * Auth and edge security through the real edge: one table of requests and the status each must
 * get, then the cases that need more than one request (sessions of other principals, host
 * tokens, JWKS, secrets in logs).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EVERYTHING, GatewayProcess, killLeftovers, postExpectContinue, startEdge, startHost, tempDir, writeConfig, STANDARD_SERVERS } from './harness.ts';
import { principalId } from '../../shared/auth.ts';
import { WHOLE_MESSAGE_CHARS } from '../../shared/constants.ts';

const marker = randomUUID();
const HOST_TOKEN = `host-${randomUUID()}`;
const LIMITED_HOST_TOKEN = `limited-host-${randomUUID()}`;
const CLIENT_TOKEN = `client-${randomUUID()}`;
const PASSWORD = `pa:ss:${randomUUID()}`;
const JWT_SECRET = `jwt-secret-${randomUUID()}`;
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'mcp-gateway';
const SECRETS = [HOST_TOKEN, LIMITED_HOST_TOKEN, CLIENT_TOKEN, PASSWORD, JWT_SECRET];

let edge: GatewayProcess;
let host: GatewayProcess;
let base: string;
const processes: GatewayProcess[] = [];

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const bearer = (token: string) => `Bearer ${token}`;
const ADMIN = basic('admin', PASSWORD);

async function jwt(claims: { aud?: string; iss?: string; exp?: number | string; nbf?: number | string; sub?: string } = {}, secret = JWT_SECRET): Promise<string> {
  const builder = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub ?? 'alice').setIssuedAt();
  builder.setIssuer(claims.iss ?? ISSUER).setAudience(claims.aud ?? AUDIENCE).setExpirationTime(claims.exp ?? '5m');
  if (claims.nbf !== undefined) builder.setNotBefore(claims.nbf);
  return builder.sign(new TextEncoder().encode(secret));
}

beforeAll(async () => {
  const configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: 0
debug: { level: verbose }
auth:
  basic:
    enabled: true
    credentials: [{ username: admin, password: "${PASSWORD}" }]
  bearer:
    enabled: true
    tokens: ["${CLIENT_TOKEN}"]
  jwt:
    secret: "${JWT_SECRET}"
    issuer: ${ISSUER}
    audience: ${AUDIENCE}
  operators: ["${await principalId.basic('admin', PASSWORD)}"]
hostTokens:
  - token: "${HOST_TOKEN}"
  - token: "${LIMITED_HOST_TOKEN}"
    servers: [test]
allowedOrigins: [http://app.example]
limits: { maxBodyBytes: 65536, maxSessionsPerPrincipal: 5 }
servers:
${STANDARD_SERVERS}`,
  );
  ({ edge, base } = await startEdge(configFile, HOST_TOKEN, marker));
  host = await startHost(configFile, base, HOST_TOKEN, 'home', marker, ADMIN);
  foreign = await foreignSessions();
  processes.push(edge, host);
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  killLeftovers(marker);
});

interface Row {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
}

/** Sessions opened by the bearer-token client, for the other principal (ADMIN) to try. */
interface ForeignSessions {
  rest: string;
  mcp: string;
  legacy: string;
}
let foreign: ForeignSessions;

async function foreignSessions(): Promise<ForeignSessions> {
  const owner = { authorization: bearer(CLIENT_TOKEN) };
  const rest = ((await (await fetch(`${base}/api/sessionid`, { headers: owner })).json()) as { sessionId: string }).sessionId;
  const init = await fetch(`${base}/everything/mcp`, { method: 'POST', headers: { ...mcpHeaders, ...owner }, body: initialize });
  await init.text();
  // An HTTP+SSE stream stays open for the whole file; its endpoint event names the session.
  const stream = await fetch(`${base}/everything`, { headers: { ...owner, accept: 'text/event-stream' } });
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!/sessionId=([^\s&]+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the SSE stream ended before its endpoint event: ${text}`);
    text += value;
  }
  return { rest, mcp: init.headers.get('mcp-session-id')!, legacy: /sessionId=([^\s&]+)/.exec(text)![1]! };
}

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** The status a WebSocket upgrade gets (101 when accepted). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace('http', 'ws'), { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
  });
}

describe('every request gets the status it should', () => {
  const rows = async (): Promise<Row[]> => [
    { name: 'no credentials', path: '/api/sessionid', status: 401 },
    { name: 'wrong password', path: '/api/sessionid', headers: { authorization: basic('admin', 'nope') }, status: 401 },
    { name: 'unknown user', path: '/api/sessionid', headers: { authorization: basic('root', PASSWORD) }, status: 401 },
    { name: 'right password containing ":"', path: '/api/sessionid', headers: { authorization: ADMIN }, status: 200 },
    { name: 'wrong bearer token', path: '/api/sessionid', headers: { authorization: bearer('not-a-token') }, status: 401 },
    { name: 'static bearer token', path: '/api/sessionid', headers: { authorization: bearer(CLIENT_TOKEN) }, status: 200 },
    { name: 'valid JWT', path: '/api/sessionid', headers: { authorization: bearer(await jwt()) }, status: 200 },
    { name: 'expired JWT', path: '/api/sessionid', headers: { authorization: bearer(await jwt({ exp: Math.floor(Date.now() / 1000) - 3600 })) }, status: 401 },
    { name: 'JWT not valid yet', path: '/api/sessionid', headers: { authorization: bearer(await jwt({ nbf: Math.floor(Date.now() / 1000) + 3600 })) }, status: 401 },
    { name: 'JWT for another audience', path: '/api/sessionid', headers: { authorization: bearer(await jwt({ aud: 'someone-else' })) }, status: 401 },
    { name: 'JWT from another issuer', path: '/api/sessionid', headers: { authorization: bearer(await jwt({ iss: 'https://evil.test' })) }, status: 401 },
    { name: 'JWT signed with another secret', path: '/api/sessionid', headers: { authorization: bearer(await jwt({}, 'x'.repeat(40))) }, status: 401 },
    {
      name: 'JWT with alg none',
      path: '/api/sessionid',
      headers: { authorization: bearer(new UnsecuredJWT({ sub: 'alice' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').encode()) },
      status: 401,
    },
    { name: 'client token on /agent', path: '/agent?host=intruder', headers: { authorization: bearer(CLIENT_TOKEN) }, status: 401 },
    { name: 'host token on /agent', path: '/agent?host=welcome', headers: { authorization: bearer(HOST_TOKEN) }, status: 101 },
    { name: 'host token on /api', path: '/api/sessionid', headers: { authorization: bearer(HOST_TOKEN) }, status: 401 },
    { name: 'evil Origin', path: '/api/sessionid', headers: { authorization: ADMIN, origin: 'http://evil.example' }, status: 403 },
    { name: 'allowed Origin', path: '/api/sessionid', headers: { authorization: ADMIN, origin: 'http://app.example' }, status: 200 },
    { name: 'Streamable HTTP without credentials', method: 'POST', path: '/everything/mcp', headers: mcpHeaders, body: initialize, status: 401 },
    { name: 'HTTP+SSE stream without credentials', path: '/everything', status: 401 },
    { name: 'HTTP+SSE post without credentials', method: 'POST', path: '/everything?sessionId=abc', headers: mcpHeaders, body: initialize, status: 401 },
    { name: 'JSON-RPC batch', method: 'POST', path: '/everything/mcp', headers: { ...mcpHeaders, authorization: ADMIN }, body: `[${initialize}]`, status: 400 },
    { name: 'malformed JSON (MCP)', method: 'POST', path: '/everything/mcp', headers: { ...mcpHeaders, authorization: ADMIN }, body: '{"jsonrpc"', status: 400 },
    { name: 'malformed JSON (REST)', method: 'POST', path: '/api/everything/echo?sessionId=x', headers: { 'content-type': 'application/json', authorization: ADMIN }, body: '{"message"', status: 400 },
    { name: 'preflight without credentials', method: 'OPTIONS', path: '/everything/mcp', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' }, status: 204 },
    { name: 'health without credentials', path: '/health', status: 200 },
    { name: 'POST to /health is not an open route', method: 'POST', path: '/health?sessionId=x', headers: mcpHeaders, body: initialize, status: 401 },
    { name: 'status without credentials', path: '/status', status: 401 },
    { name: 'status as an operator (auth.operators)', path: '/status?history=none', headers: { authorization: ADMIN }, status: 200 },
    { name: 'status as a bearer token that is no operator', path: '/status', headers: { authorization: bearer(CLIENT_TOKEN) }, status: 403 },
    { name: 'status as a JWT that is no operator', path: '/status', headers: { authorization: bearer(await jwt()) }, status: 403 },
    { name: 'ending a session as no operator', method: 'DELETE', path: `/status/sessions/${foreign.mcp}`, headers: { authorization: bearer(CLIENT_TOKEN) }, status: 403 },
    { name: 'JWT without sub', path: '/api/sessionid', headers: { authorization: bearer(await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET))) }, status: 401 },
    { name: 'non-Latin-1 Basic username', path: '/api/sessionid', headers: { authorization: `Basic ${Buffer.from(`ŭser€:${PASSWORD}`).toString('base64')}` }, status: 401 },
    { name: 'CRLF in a tool name', method: 'POST', path: '/api/everything/ec%0D%0Aho', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{}', status: 400 },
    { name: 'non-Latin-1 tool name: an unknown tool', method: 'POST', path: '/api/everything/%E2%82%AC', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{}', status: 404 },
    { name: 'non-Latin-1 sessionId', path: '/api/everything/prompts?sessionId=%E2%82%AC', headers: { authorization: ADMIN }, status: 400 },
    { name: 'a space in Last-Event-ID (not a visible-ASCII id)', path: '/everything/mcp', headers: { authorization: ADMIN, accept: 'text/event-stream', 'mcp-session-id': 'abc', 'last-event-id': '1 2' }, status: 400 },
    { name: 'CRLF in a sessionId', method: 'POST', path: '/api/everything/echo?sessionId=a%0D%0Ab', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{}', status: 400 },
    { name: 'broken percent-encoding', path: '/api/everything/tools%E0%A4%A', headers: { authorization: ADMIN }, status: 400 },
    { name: "another principal's REST session: tool call", method: 'POST', path: `/api/everything/echo?sessionId=${foreign.rest}`, headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{"message":"x"}', status: 404 },
    { name: "another principal's REST session: resources", path: `/api/everything/resources?sessionId=${foreign.rest}`, headers: { authorization: ADMIN }, status: 404 },
    { name: "another principal's REST session: prompts", path: `/api/everything/prompts?sessionId=${foreign.rest}`, headers: { authorization: ADMIN }, status: 404 },
    { name: "another principal's GET stream", path: '/everything/mcp', headers: { authorization: ADMIN, accept: 'text/event-stream', 'mcp-session-id': foreign.mcp }, status: 404 },
    { name: "another principal's Last-Event-ID replay", path: '/everything/mcp', headers: { authorization: ADMIN, accept: 'text/event-stream', 'mcp-session-id': foreign.mcp, 'last-event-id': '0' }, status: 404 },
    { name: "another principal's DELETE", method: 'DELETE', path: '/everything/mcp', headers: { authorization: ADMIN, 'mcp-session-id': foreign.mcp }, status: 404 },
    { name: "another principal's legacy SSE POST", method: 'POST', path: `/everything?sessionId=${foreign.legacy}`, headers: { ...mcpHeaders, authorization: ADMIN }, body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }), status: 404 },
    { name: 'own REST session: resources', path: `/api/everything/resources?sessionId=${foreign.rest}`, headers: { authorization: bearer(CLIENT_TOKEN) }, status: 200 },
    { name: 'valid initialize', method: 'POST', path: '/everything/mcp', headers: { ...mcpHeaders, authorization: ADMIN }, body: initialize, status: 200 },
  ];

  it('matches the table', async () => {
    const results: string[] = [];
    for (const row of await rows()) {
      if (row.path.startsWith('/agent')) {
        results.push(`${row.name}: ${await upgradeStatus(`${base}${row.path}`, row.headers ?? {})}`);
        continue;
      }
      const res = await fetch(`${base}${row.path}`, { method: row.method ?? 'GET', headers: row.headers, body: row.body });
      await res.body?.cancel();
      results.push(`${row.name}: ${res.status}`);
    }
    expect(results).toEqual((await rows()).map((row) => `${row.name}: ${row.status}`));
  });

  it('names the enabled schemes in WWW-Authenticate on 401', async () => {
    const res = await fetch(`${base}/api/sessionid`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/Bearer realm=.*Basic realm=/);
    expect(await res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
  });

  it('answers preflights with CORS headers for allowed origins only, exposing Mcp-Session-Id', async () => {
    const ok = await fetch(`${base}/everything/mcp`, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, mcp-session-id, x-custom' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-custom');
    const post = await fetch(`${base}/api/sessionid`, { headers: { origin: 'http://app.example', authorization: ADMIN } });
    expect(post.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    const evil = await fetch(`${base}/everything/mcp`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a body over the limit with 413 before reading it', async () => {
    const session = ((await (await fetch(`${base}/api/sessionid`, { headers: { authorization: ADMIN } })).json()) as { sessionId: string }).sessionId;
    const res = await postExpectContinue(`${base}/api/everything/echo?sessionId=${session}`, JSON.stringify({ message: 'x'.repeat(100_000) }), { authorization: ADMIN });
    expect(res.status).toBe(413);
  });

  it('health reveals no secrets, host ids, server names or error texts: counts only', async () => {
    const text = await (await fetch(`${base}/health`)).text();
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toEqual({ status: 'ok', ready: true, hosts: 1, servers: 2, failing: 0 });
    const status = (await (await fetch(`${base}/status`, { headers: { authorization: ADMIN } })).json()) as { hosts: { id: string }[] };
    expect(status.hosts.map((h) => h.id)).toEqual(['home']);
  });
});

describe('sessions belong to the principal that opened them', () => {
  it('REST: another principal using the session id gets 404', async () => {
    const session = ((await (await fetch(`${base}/api/sessionid`, { headers: { authorization: bearer(CLIENT_TOKEN) } })).json()) as { sessionId: string }).sessionId;
    const call = (authorization: string) =>
      fetch(`${base}/api/everything/echo?sessionId=${session}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: '{"message":"mine"}' });
    expect((await call(bearer(CLIENT_TOKEN))).status).toBe(200);
    expect((await call(ADMIN)).status).toBe(404);
  });

  it('Streamable HTTP: another principal using the session id gets 404', async () => {
    const init = await fetch(`${base}/everything/mcp`, { method: 'POST', headers: { ...mcpHeaders, authorization: bearer(await jwt({ sub: 'alice' })) }, body: initialize });
    const session = init.headers.get('mcp-session-id')!;
    await init.text();
    const list = (authorization: string) =>
      fetch(`${base}/everything/mcp`, { method: 'POST', headers: { ...mcpHeaders, authorization, 'mcp-session-id': session }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    const own = await list(bearer(await jwt({ sub: 'alice' })));
    expect(own.status).toBe(200);
    await own.text();
    expect((await list(bearer(await jwt({ sub: 'bob' })))).status).toBe(404);
  });

  it('caps the REST sessions one principal holds: a new one ends the least recently used, DELETE ends one', async () => {
    const auth = { authorization: bearer(await jwt({ sub: 'greedy' })) };
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base}/api/sessionid`, { headers: auth });
      expect(res.status).toBe(200);
      ids.push(((await res.json()) as { sessionId: string }).sessionId);
    }
    const use = async (id: string) => (await fetch(`${base}/api/everything/prompts?sessionId=${id}`, { headers: auth })).status;
    expect(await use(ids[0]!)).toBe(404); // the oldest made room for the sixth
    expect(await use(ids[5]!)).toBe(200);
    expect((await fetch(`${base}/api/sessionid/${ids[5]}`, { method: 'DELETE', headers: { authorization: ADMIN } })).status).toBe(404);
    expect((await fetch(`${base}/api/sessionid/${ids[5]}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(await use(ids[5]!)).toBe(404);
  });

  it('caps the MCP sessions one principal holds: 429 with Retry-After', async () => {
    const auth = { authorization: bearer(await jwt({ sub: 'greedy-mcp' })) };
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base}/everything/mcp`, { method: 'POST', headers: { ...mcpHeaders, ...auth }, body: initialize });
      await res.text();
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(retryAfter).toMatch(/^\d+$/);
  });
});

describe('host credentials', () => {
  it('a token limited to some servers cannot announce others: the host agent stops with a clear message', async () => {
    const configFile = writeConfig(tempDir(), `servers:\n  everything:\n    command: ${EVERYTHING}\n    args: [stdio]\n`);
    const intruder = new GatewayProcess(['host', '--config', configFile, '--edge', base, '--token', LIMITED_HOST_TOKEN, '--host-id', 'limited'], marker);
    processes.push(intruder);
    const { code } = await intruder.exited;
    expect(code).toBe(1);
    expect(intruder.stderr).toMatch(/may not announce server everything/);
    const health = (await (await fetch(`${base}/status`, { headers: { authorization: ADMIN } })).json()) as { hosts: { id: string }[] };
    expect(health.hosts.map((h) => h.id)).toEqual(['home']);
  });

  it('an oversized frame from one host is refused without harming the other hosts', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/agent?host=noisy`, { headers: { authorization: bearer(HOST_TOKEN) } });
    await new Promise((resolve) => ws.on('open', resolve));
    const replies: any[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(d.toString())));
    // Longer than the longest single message the edge takes from a host (a frame sent whole).
    ws.send('x'.repeat(WHOLE_MESSAGE_CHARS + 1));
    await expect.poll(() => replies.find((r) => r.type === 'frame.error')?.code, { timeout: 10_000 }).toBe('FRAME_TOO_LARGE');
    ws.close();
    const session = ((await (await fetch(`${base}/api/sessionid`, { headers: { authorization: ADMIN } })).json()) as { sessionId: string }).sessionId;
    const res = await fetch(`${base}/api/everything/echo?sessionId=${session}`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{"message":"fine"}' });
    expect(res.status).toBe(200);
  });
});

describe('JWT from a JWKS URL', () => {
  it('accepts tokens signed by the published key and refuses others', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    try {
      const configFile = writeConfig(tempDir(), `port: 0\nauth:\n  jwt:\n    jwksUrl: ${jwksUrl}\n    issuer: ${ISSUER}\n    audience: ${AUDIENCE}\nservers: {}\n`);
      const jwksEdge = await startEdge(configFile, HOST_TOKEN, marker);
      processes.push(jwksEdge.edge);
      const sign = (key: CryptoKey | Uint8Array, alg: string) =>
        new SignJWT({}).setProtectedHeader({ alg, kid: 'k1' }).setSubject('carol').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(key);
      const status = async (token: string) => (await fetch(`${jwksEdge.base}/api/sessionid`, { headers: { authorization: bearer(token) } })).status;
      expect(await status(await sign(privateKey, 'ES256')), jwksEdge.edge.stdout + jwksEdge.edge.stderr).toBe(200);
      const other = await generateKeyPair('ES256');
      expect(await status(await sign(other.privateKey, 'ES256'))).toBe(401);
      expect(await status(await sign(new TextEncoder().encode('y'.repeat(40)), 'HS256'))).toBe(401);
      await jwksEdge.edge.kill();
    } finally {
      jwks.close();
    }
  });
});

describe('guessing credentials', () => {
  it('past 30 refused credentials within a minute, new ones get 429 with Retry-After unchecked; a credential already working keeps working', async () => {
    // The local edge has no CF-Connecting-IP: every request counts as one source, whatever
    // address a client claims in that header (the local socket removes it).
    const attempt = (authorization: string, claimed?: string) =>
      fetch(`${base}/api/sessionid`, { headers: { authorization, ...(claimed ? { 'cf-connecting-ip': claimed } : {}) } }).then(async (r) => (await r.body?.cancel(), r));
    let refused: Response | undefined;
    for (let i = 0; i < 31 && !refused; i++) {
      const res = await attempt(basic('admin', `guess-${i}`), `198.51.100.${i}`);
      if (res.status === 429) refused = res;
      else expect(res.status).toBe(401);
    }
    expect(refused?.status).toBe(429);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await attempt(basic('admin', PASSWORD))).status).toBe(200);
    expect((await attempt(bearer(await jwt()))).status).toBe(429);
    expect((await attempt(basic('admin', 'one-more-guess'), '203.0.113.77')).status).toBe(429);
    expect(edge.stderr).toMatch(/refused credentials: a source is past the limit/);
  });
});

describe('secrets stay secret', () => {
  it('no password, token or Authorization header appears in any log line, even at verbose', async () => {
    // Exercise every path once more with every kind of credential.
    for (const authorization of [ADMIN, bearer(CLIENT_TOKEN), basic('admin', 'wrong'), bearer(HOST_TOKEN)]) {
      const res = await fetch(`${base}/api/sessionid`, { headers: { authorization } });
      await res.body?.cancel();
    }
    await host.kill();
    await edge.kill();
    const logs = processes.map((p) => p.stdout + p.stderr).join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toMatch(/VERBOSE/);
    for (const secret of SECRETS) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/authorization: *(basic|bearer) /i);
    expect(logs).not.toContain(ADMIN.split(' ')[1]);
  });
});
