/**
 * Trust boundaries through the real edge, a real host agent and server-everything: what a second
 * host token, a rogue host speaking the frame protocol, and a server process can and cannot reach.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startLocalEdge } from '../../local/local-edge.ts';
import { PROTOCOL_VERSION } from '../../shared/constants.ts';
import { encodeFrame } from '../../shared/framing.ts';
import type { Frame } from '../../shared/protocol.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { EVERYTHING, GatewayProcess, health, killLeftovers, startEdge, startHost, tempDir, TEST_SERVER, waitUntil, writeConfig } from './harness.ts';

const marker = randomUUID();
const HOST_TOKEN = `host-${randomUUID()}`;
const OTHER_TOKEN = `other-${randomUUID()}`;
const CLIENT_TOKEN = `client-${randomUUID()}`;
const CANARY = `canary-${randomUUID()}`;
const AUTH = { authorization: `Bearer ${CLIENT_TOKEN}` };
const mcpHeaders = { ...AUTH, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let base: string;
let host: GatewayProcess;
const processes: GatewayProcess[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  const dir = tempDir();
  const configFile = writeConfig(
    dir,
    `hostname: 127.0.0.1
port: 0
auth:
  bearer:
    tokens: ["${CLIENT_TOKEN}"]
hostTokens:
  - token: "${HOST_TOKEN}"
  - token: "${OTHER_TOKEN}"
    servers: [spare]
limits: { maxFrameBytes: 1048576 }
servers:
  everything:
    command: ${EVERYTHING}
    args: [stdio]
`,
  );
  const edge = await startEdge(configFile, HOST_TOKEN, marker);
  base = edge.base;
  processes.push(edge.edge);
  // The host gets its token from the environment, next to a secret of the user's shell.
  host = new GatewayProcess(['host', '--config', configFile, '--edge', base, '--host-id', 'home'], marker, { MCP_GATEWAY_TOKEN: HOST_TOKEN, MY_CLOUD_KEY: CANARY });
  processes.push(host);
  await waitUntil(async () => ((await health(base, AUTH.authorization)).hosts.some((h) => h.id === 'home') ? true : undefined), 30_000, 'home at the edge', () => host.child.exitCode !== null);
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  for (const p of processes) await p.kill();
  killLeftovers(marker);
});

/** A "host" that speaks the frame protocol by hand over a real WebSocket. */
class RogueHost {
  readonly ws: WebSocket;
  readonly received: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(hostId: string, token: string) {
    this.ws = new WebSocket(`${base.replace('http', 'ws')}/agent?host=${hostId}`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    sockets.push(this.ws);
    this.ws.on('message', (data) => {
      const text = data.toString();
      if (text !== 'pong') this.received.push(JSON.parse(text) as Frame);
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  send(frame: Frame): void {
    for (const message of encodeFrame(frame)) this.ws.send(message);
  }

  hello(hostId: string, servers: { name: string; tools: [] }[] = []): void {
    this.send({ type: 'host.hello', version: PROTOCOL_VERSION, hostId, servers });
  }

  async welcomed(): Promise<void> {
    await waitUntil(async () => (this.received.some((f) => f.type === 'host.welcome') ? true : undefined), 10_000, 'a welcome');
  }
}

async function initialize(): Promise<string> {
  const res = await fetch(`${base}/everything/mcp`, {
    method: 'POST',
    headers: mcpHeaders,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  await res.text();
  expect(res.status).toBe(200);
  return res.headers.get('mcp-session-id')!;
}

async function listTools(session: string): Promise<number> {
  const res = await fetch(`${base}/everything/mcp`, { method: 'POST', headers: { ...mcpHeaders, 'mcp-session-id': session }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
  await res.text();
  return res.status;
}

async function echo(): Promise<number> {
  const res = await fetch(`${base}/api/everything/echo`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"message":"still here"}' });
  await res.text();
  return res.status;
}

describe('server processes get a clean environment', () => {
  it("get-env through REST shows neither the host token nor the host's other variables", async () => {
    const res = await fetch(`${base}/api/everything/get-env`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{}' });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(text).toContain('PATH'); // the allow-list is there
    expect(text).not.toContain(HOST_TOKEN);
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain('MCP_GATEWAY_TOKEN');
  });
});

describe('host ids belong to tokens', () => {
  it("a second token dialling another host's id is refused after its hello; the first host's MCP session lives on", async () => {
    const session = await initialize();
    const rogue = new RogueHost('home', OTHER_TOKEN);
    await rogue.opened;
    expect(await listTools(session)).toBe(200); // connecting alone takes nothing over
    rogue.hello('home');
    const { code, reason } = await rogue.closed;
    expect(code).toBe(4004);
    expect(reason).toMatch(/host id home/);
    expect(await listTools(session)).toBe(200);
    expect((await health(base, AUTH.authorization)).hosts.map((h) => h.id)).toEqual(['home']);
  });
});

describe('host ids belong to tokens: the host agent', () => {
  it('a host agent with another token and the same id stops with the reason; the first host stays', async () => {
    const configFile = writeConfig(tempDir(), 'servers: {}\n');
    const intruder = new GatewayProcess(['host', '--config', configFile, '--edge', base, '--token', OTHER_TOKEN, '--host-id', 'home'], marker);
    processes.push(intruder);
    const { code } = await intruder.exited;
    expect(code).toBe(1);
    expect(intruder.stderr).toMatch(/host id home is in use by a connection with another host token/);
    expect((await health(base, AUTH.authorization)).hosts.map((h) => h.id)).toContain('home');
    expect(await echo()).toBe(200);
  });
});

describe('frames touch only what the sending connection owns', () => {
  it('session.closed, mcp.message and rpc.response from another host are dropped', async () => {
    const session = await initialize();
    const rogue = new RogueHost('rogue', OTHER_TOKEN);
    await rogue.opened;
    rogue.hello('rogue');
    await rogue.welcomed();
    rogue.send({ type: 'session.closed', server: 'everything', session, reason: 'forged' });
    rogue.send({ type: 'mcp.message', server: 'everything', session, message: { jsonrpc: '2.0', id: 2, result: { forged: true } } });
    rogue.send({ type: 'rpc.response', id: 'x.1', result: { forged: true } });
    // A round trip on the rogue's own connection: everything before it has been handled.
    rogue.send({ type: 'server.update', server: { name: 'nothing', tools: [] } });
    await waitUntil(async () => (rogue.received.some((f) => f.type === 'frame.error') ? true : undefined), 10_000, 'the frame.error for the update');
    const res = await fetch(`${base}/everything/mcp`, { method: 'POST', headers: { ...mcpHeaders, 'mcp-session-id': session }, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }) });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain('forged');
    expect(text).toContain('"tools"');
    rogue.ws.close();
  });
});

describe('bounded frames', () => {
  const chunk = (id: string) => JSON.stringify({ type: 'chunk', id, seq: 0, last: false, data: 'x'.repeat(256 * 1024) });

  it.each([
    ['before', false],
    ['after', true],
  ])('a flood of unfinished chunks %s hello closes the connection; the edge serves on', async (_when, helloFirst) => {
    const rogue = new RogueHost(`flood-${helloFirst ? 'a' : 'b'}`, HOST_TOKEN);
    await rogue.opened;
    if (helloFirst) {
      rogue.hello(`flood-${helloFirst ? 'a' : 'b'}`);
      await rogue.welcomed();
    }
    // 16 MiB of half-sent frames against a budget of 1 MiB.
    for (let i = 0; i < 64 && rogue.ws.readyState === WebSocket.OPEN; i++) rogue.ws.send(chunk(`c${i}`));
    const { code, reason } = await rogue.closed;
    expect(code).toBe(4005);
    expect(reason).toMatch(/budget/);
    expect(rogue.received.find((f) => f.type === 'frame.error')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    // Everything the connection held is freed.
    const status = (await (await fetch(`${base}/status`, { headers: AUTH })).json()) as { pendingFrameChars: number };
    expect(status.pendingFrameChars).toBe(0);
    expect(await echo()).toBe(200);
  });

  it('a frame before the hello closes the connection at once', async () => {
    // The hello deadline (10 s) is covered by the Hub's unit tests, with a fake clock.
    const rogue = new RogueHost('early', HOST_TOKEN);
    await rogue.opened;
    rogue.send({ type: 'host.stats', sessions: 0, pooled: 0, watching: 0 });
    expect((await rogue.closed).code).toBe(4003);
  });
});

describe('client auth fails closed', () => {
  it.each([
    ['no CLIENT_AUTH and no OPEN_API', {}],
    ['CLIENT_AUTH that is not JSON', { CLIENT_AUTH: '{"bearer": [' }],
    ['CLIENT_AUTH with an unknown key', { CLIENT_AUTH: JSON.stringify({ bearer: ['t'.repeat(20)], bearers: ['x'] }) }],
    // More variants ({}, misspelled entries) run in process, in edge/app-auth.test.ts.
  ])('%s: the API answers 503, /health still answers', async (_name, bindings: Record<string, string>) => {
    const edge = await startLocalEdge({ hostname: '127.0.0.1', port: 0, bindings: { HOST_TOKENS: HOST_TOKEN, ...bindings } });
    try {
      const url = edge.url.toString().replace(/\/$/, '');
      const res = await fetch(`${url}/api/sessionid`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MISCONFIGURED');
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      await edge.dispose();
    }
  });

  it.each([
    ['HOST_TOKENS that is not JSON', '[{"token": '],
  ])('%s: hosts are refused with 503, the API still answers', async (_name, hostTokens) => {
    const edge = await startLocalEdge({ hostname: '127.0.0.1', port: 0, bindings: { HOST_TOKENS: hostTokens, OPEN_API: '1' } });
    try {
      const url = edge.url.toString().replace(/\/$/, '');
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}/agent?host=h`, { headers: { authorization: `Bearer ${'t'.repeat(20)}` } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
      });
      expect(status).toBe(503);
      expect((await fetch(`${url}/api/sessionid`)).status).toBe(200);
    } finally {
      await edge.dispose();
    }
  });

  it('OPEN_API=1 without CLIENT_AUTH opens the API on purpose', async () => {
    const edge = await startLocalEdge({ hostname: '127.0.0.1', port: 0, bindings: { HOST_TOKENS: HOST_TOKEN, OPEN_API: '1' } });
    try {
      expect((await fetch(new URL('/api/sessionid', edge.url))).status).toBe(200);
    } finally {
      await edge.dispose();
    }
  });
});

const STDERR_SECRET = `stderr-${randomUUID()}`;
let busyHost: Promise<GatewayProcess> | undefined;

/** A second host: the test server under host.maxProcesses 8, and a server that cannot start. */
function startBusyHost(): Promise<GatewayProcess> {
  busyHost ??= (async () => {
    const configFile = writeConfig(
      tempDir(),
      `host:
  maxProcesses: 8
servers:
  busy:
    command: ${process.execPath}
    args: [${TEST_SERVER}]
  broken:
    command: ${process.execPath}
    args: ["-e", "console.error('${STDERR_SECRET} at /opt/private/server.js'); process.exit(1)"]
`,
    );
    const busy = await startHost(configFile, base, HOST_TOKEN, 'busy', marker, AUTH.authorization);
    processes.push(busy);
    return busy;
  })();
  return busyHost;
}

describe('a quiet public surface', () => {
  it("/health without credentials shows counts only; a server's stderr and command reach neither /health nor REST clients", async () => {
    await startBusyHost();
    const health = await (await fetch(`${base}/health`)).text();
    expect(JSON.parse(health)).toEqual({ status: 'ok', ready: true, hosts: 2, servers: 3, failing: 1 });
    const res = await fetch(`${base}/api/broken/resources`, { headers: AUTH });
    const body = await res.text();
    expect(res.status).toBe(502);
    expect(body).toContain('SPAWN_FAILED');
    const init = await fetch(`${base}/broken/mcp`, {
      method: 'POST',
      headers: mcpHeaders,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    const mcpBody = await init.text();
    expect(mcpBody).toMatch(/error/);
    for (const text of [health, body, mcpBody]) {
      expect(text).not.toContain(STDERR_SECRET);
      expect(text).not.toContain('/opt/private');
      expect(text).not.toContain(process.execPath);
    }
    // The detail is on /status, behind credentials.
    const status = await (await fetch(`${base}/status`, { headers: AUTH })).text();
    expect(status).toContain(STDERR_SECRET);
  });
});

describe('results larger than the edge takes', () => {
  it('are refused on the host before sending (413 FRAME_TOO_LARGE); the host stays connected', async () => {
    await startBusyHost();
    const big = await fetch(`${base}/api/busy/big`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ bytes: 2 * 1024 * 1024 }) });
    const body = (await big.json()) as { error: { code: string } };
    expect(big.status).toBe(413);
    expect(body.error.code).toBe('FRAME_TOO_LARGE');
    const small = await fetch(`${base}/api/busy/big`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ bytes: 10 }) });
    expect(small.status).toBe(200);
    expect(busyHost && (await busyHost).stderr).toMatch(/too large for the edge/);
  });
});

describe('caps on work a caller can start', () => {
  /** Server processes (test-server.mjs) that are children of `pid`. */
  function childServers(pid: number): number {
    let n = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
        const ppid = Number(/^\d+ \(.*\) \S (\d+)/.exec(stat)?.[1]);
        if (ppid === pid && readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes('test-server.mjs')) n++;
      } catch {
        // gone
      }
    }
    return n;
  }

  it('60 concurrent calls without a session on a host with maxProcesses 8: never more than 8 processes, every call answered 200, 429 or 503', async () => {
    const busy = await startBusyHost();
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, childServers(busy.pid));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const res = await fetch(`${base}/api/busy/sleep`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"ms":300}' });
        const body = await res.text();
        if (res.status === 503) expect(res.headers.get('retry-after'), body).toMatch(/^\d+$/);
        return res.status;
      }),
    );
    sampling = false;
    await sampler;
    expect(statuses.filter((s) => ![200, 429, 503].includes(s))).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(8);
  });
});
