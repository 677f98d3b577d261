/**
 * The Hub's trust boundaries between host connections: host ids belong to tokens, frames touch
 * only what the sending connection owns, and a connection cannot make the Hub hold unbounded data.
 */
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_BAD_HELLO, CLOSE_FORBIDDEN, CLOSE_LIMIT, CLOSE_REPLACED, PROTOCOL_VERSION } from '../../shared/constants.ts';
import { encodeFrame, FrameDecoder } from '../../shared/framing.ts';
import type { Frame, FrameOf, ServerInfo } from '../../shared/protocol.ts';
import { Hub, type HostConnection, type HubLimits, type HubRuntime, type SqlValue } from './hub.ts';
import type { HostClaim } from './types.ts';

class Conn implements HostConnection {
  readonly sent: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  open = true;
  readonly #decoder = new FrameDecoder();
  readonly hostId: string;
  readonly connId: string;
  readonly tokenId: string;
  readonly hostClaim: HostClaim;
  constructor(hostId: string, connId: string, tokenId: string, hostClaim: HostClaim = 'any') {
    this.hostId = hostId;
    this.connId = connId;
    this.tokenId = tokenId;
    this.hostClaim = hostClaim;
  }
  send(text: string): void {
    const frame = this.#decoder.decode(text);
    if (frame) this.sent.push(frame);
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
    this.open = false;
  }
  ofType<T extends Frame['type']>(type: T): FrameOf<T>[] {
    return this.sent.filter((f): f is FrameOf<T> => f.type === type);
  }
}

const LIMITS: HubLimits = {
  requestTimeoutMs: 5000,
  mcpIdleMs: 60_000,
  maxSessionsPerPrincipal: 1000,
  backlog: 50,
  sse: { keepaliveMs: 60_000, maxQueuedBytes: 1024 * 1024 },
  helloTimeoutMs: 10_000,
  chunkTimeoutMs: 30_000,
  maxFrameChars: 2 * 1024 * 1024,
};

class World {
  readonly db = new DatabaseSync(':memory:');
  readonly conns: Conn[] = [];
  readonly logs: { level: string; message: string }[] = [];
  #n = 0;
  readonly runtime: HubRuntime = {
    sql: { exec: (q: string, ...p: SqlValue[]) => this.db.prepare(q).all(...p) as Record<string, SqlValue>[] },
    connectionsOf: (hostId) => this.conns.filter((c) => c.open && c.hostId === hostId),
    connectionOf: (hostId, connId) => this.conns.find((c) => c.open && c.hostId === hostId && c.connId === connId),
    liveConnIds: () => this.conns.filter((c) => c.open).map((c) => c.connId),
    now: () => Date.now(),
    log: (level, message) => void this.logs.push({ level, message }),
    scheduleAlarm: () => {},
  };
  readonly hub = new Hub(this.runtime, LIMITS);

  open(hostId: string, tokenId: string, claim: HostClaim = 'any'): Conn {
    const conn = new Conn(hostId, `conn-${++this.#n}`, tokenId, claim);
    this.conns.push(conn);
    this.hub.onOpen(conn);
    return conn;
  }

  say(conn: Conn, frame: Frame): void {
    for (const message of encodeFrame(frame)) this.hub.onMessage(conn, message);
  }

  hello(conn: Conn, servers: ServerInfo[] = [ECHO]): void {
    this.say(conn, { type: 'host.hello', version: PROTOCOL_VERSION, hostId: conn.hostId, servers });
  }

  /** Closes what the Hub closed, the way the runtime would report it. */
  settle(): void {
    for (const conn of this.conns) if (conn.closed && conn.open === false) this.hub.onClose(conn, conn.closed.code, conn.closed.reason);
  }
}

const ECHO: ServerInfo = { name: 'echo', tools: [{ name: 'echo', inputSchema: { type: 'object' } }] };
const OTHER: ServerInfo = { name: 'other', tools: [{ name: 'ping', inputSchema: { type: 'object' } }] };

async function initialize(world: World, server = 'echo'): Promise<{ session: string; response: Promise<Response> }> {
  const response = Promise.resolve(
    world.hub.mcp.post({
      server,
      sessionId: null,
      principal: 'alice',
      message: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
      wantsSse: false,
    }),
  );
  const frame = await vi.waitFor(() => {
    const found = world.conns.flatMap((c) => c.ofType('mcp.message')).at(-1);
    if (!found) throw new Error('no mcp.message yet');
    return found;
  });
  return { session: frame.session, response };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Hub: host ids belong to tokens', () => {
  it('a connection of another token cannot take over a host id: refused, and the first host keeps its sessions', async () => {
    const world = new World();
    const first = world.open('laptop', 'token-a');
    world.hello(first);
    const { session } = await initialize(world);

    const rogue = world.open('laptop', 'token-b');
    world.hello(rogue, [OTHER]);
    expect(rogue.closed?.code).toBe(CLOSE_FORBIDDEN);
    expect(rogue.ofType('frame.error')[0]).toMatchObject({ code: 'FORBIDDEN' });
    expect(rogue.ofType('host.welcome')).toHaveLength(0);
    world.settle();

    expect(first.open).toBe(true);
    expect(world.hub.mcp.hostOf(session)).toBe('laptop');
    expect(world.hub.health().servers.map((s) => s.name)).toEqual(['echo']);
    expect(world.logs.some((l) => l.message.includes('host id not allowed'))).toBe(true);
  });

  it('the same token reconnecting replaces its old connection, only after the new hello', () => {
    const world = new World();
    const first = world.open('laptop', 'token-a');
    world.hello(first);
    const second = world.open('laptop', 'token-a');
    expect(first.open).toBe(true); // opening alone replaces nothing
    world.hello(second);
    expect(first.closed?.code).toBe(CLOSE_REPLACED);
    expect(second.ofType('host.welcome')).toHaveLength(1);
  });

  it('a token that lists the id may replace a connection of another token; a token listing other ids may not connect', () => {
    const world = new World();
    const first = world.open('laptop', 'token-a');
    world.hello(first);
    const owner = world.open('laptop', 'token-b', 'own');
    world.hello(owner);
    expect(first.closed?.code).toBe(CLOSE_REPLACED);
    expect(owner.ofType('host.welcome')).toHaveLength(1);

    const reserved = world.open('spare', 'token-c', 'reserved');
    world.hello(reserved);
    expect(reserved.closed?.code).toBe(CLOSE_FORBIDDEN);
  });
});

describe('Hub: tokens limited to servers', () => {
  it('may not announce a server a host of another token serves, unless shareServers', () => {
    const world = new World();
    const main = world.open('home', 'token-a');
    world.hello(main, [ECHO]);

    const limited = new Conn('friend', 'c-friend', 'token-b');
    Object.assign(limited, { allowedServers: ['echo', 'other'] });
    world.conns.push(limited);
    world.hello(limited, [ECHO]);
    expect(limited.closed?.code).toBe(CLOSE_FORBIDDEN);
    expect(limited.ofType('frame.error')[0]?.message).toMatch(/served by a host with another token/);
    world.settle();
    expect(world.hub.health().servers.map((s) => s.host)).toEqual(['home']);

    // Its own servers are fine; so is sharing when the config allows it.
    const own = new Conn('friend2', 'c-own', 'token-b');
    Object.assign(own, { allowedServers: ['other'] });
    world.conns.push(own);
    world.hello(own, [OTHER]);
    expect(own.ofType('host.welcome')).toHaveLength(1);
    const sharing = new Conn('friend3', 'c-share', 'token-c');
    Object.assign(sharing, { allowedServers: ['echo'], mayShareServers: true });
    world.conns.push(sharing);
    world.hello(sharing, [ECHO]);
    expect(sharing.ofType('host.welcome')).toHaveLength(1);
  });
});

describe('Hub: frames touch only what the sending connection owns', () => {
  it('session.closed and mcp.message for another host’s MCP session are dropped', async () => {
    const world = new World();
    const a = world.open('host-a', 'token-a');
    world.hello(a, [ECHO]);
    const b = world.open('host-b', 'token-b');
    world.hello(b, [OTHER]);
    const { session, response } = await initialize(world);

    world.say(b, { type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', id: 1, result: { forged: true } } });
    world.say(b, { type: 'session.closed', server: 'echo', session, reason: 'forged' });
    expect(world.hub.mcp.hostOf(session)).toBe('host-a');

    world.say(a, { type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', id: 1, result: { genuine: true } } });
    expect(await (await response).json()).toMatchObject({ result: { genuine: true } });
    expect(b.open).toBe(true);
    expect(world.logs.filter((l) => l.message.includes('another host owns'))).toHaveLength(2);
  });

  it('session.closed for another host’s REST session leaves its route in place', async () => {
    const world = new World();
    const a = world.open('host-a', 'token-a');
    world.hello(a, [ECHO]);
    const b = world.open('host-b', 'token-b');
    world.hello(b, [OTHER]);
    const session = world.hub.createRestSession('alice');
    const pending = world.hub.callTool({ server: 'echo', session, principal: 'alice', tool: 'echo', args: {}, timeoutMs: 5000 });
    const request = await vi.waitFor(() => a.ofType('rpc.request')[0]!);
    world.say(b, { type: 'session.closed', server: 'echo', session, reason: 'forged' });
    world.say(b, { type: 'rpc.response', id: request.id, result: { forged: true } });
    world.say(a, { type: 'rpc.response', id: request.id, result: { genuine: true } });
    expect(await pending).toEqual({ genuine: true });
    expect(world.db.prepare('SELECT host_id FROM routes WHERE session = ?').all(session)).toEqual([{ host_id: 'host-a' }]);
  });

  it('logs dropped frames a few times a minute, not once per frame', () => {
    const world = new World();
    const b = world.open('host-b', 'token-b');
    world.hello(b, [OTHER]);
    for (let i = 0; i < 50; i++) world.say(b, { type: 'rpc.response', id: `x.${i}`, result: {} });
    // Answers to calls nobody is waiting for are silent; so are frames about unknown sessions.
    const a = world.open('host-a', 'token-a');
    world.hello(a, [ECHO]);
    expect(world.logs.filter((l) => l.message.includes('another host owns')).length).toBeLessThanOrEqual(5);
  });
});

describe('Hub: bounded frames per connection', () => {
  it('a connection without an accepted hello is closed at the deadline', () => {
    vi.useFakeTimers();
    const world = new World();
    const conn = world.open('laptop', 'token-a');
    vi.advanceTimersByTime(9_999);
    expect(conn.closed).toBeUndefined();
    vi.advanceTimersByTime(2);
    expect(conn.closed?.code).toBe(CLOSE_LIMIT);
    expect(conn.closed?.reason).toMatch(/hello/);
  });

  it('a welcomed connection is not closed by the hello deadline', () => {
    vi.useFakeTimers();
    const world = new World();
    const conn = world.open('laptop', 'token-a');
    world.hello(conn);
    vi.advanceTimersByTime(60_000);
    expect(conn.closed).toBeUndefined();
  });

  it('any frame but host.hello before the hello closes the connection', () => {
    const world = new World();
    const conn = world.open('laptop', 'token-a');
    world.say(conn, { type: 'host.stats', sessions: 0, pooled: 0, watching: 0 });
    expect(conn.closed?.code).toBe(CLOSE_BAD_HELLO);
  });

  it.each([
    ['before', false],
    ['after', true],
  ])('a flood of unfinished chunks %s hello closes the connection at the budget and frees it', (_when, helloFirst) => {
    const world = new World();
    const conn = world.open('laptop', 'token-a');
    if (helloFirst) world.hello(conn);
    const data = 'x'.repeat(256 * 1024);
    let sent = 0;
    for (let i = 0; i < 64 && !conn.closed; i++, sent++) world.hub.onMessage(conn, JSON.stringify({ type: 'chunk', id: `c${i}`, seq: 0, last: false, data }));
    expect(conn.closed?.code).toBe(CLOSE_LIMIT);
    expect(sent).toBeLessThanOrEqual(LIMITS.maxFrameChars! / data.length + 1);
    expect(world.hub.status().pendingFrameChars).toBe(0);
    if (helloFirst) expect(world.hub.health().hosts).toEqual([]);
  });

  it('a chunked frame not finished within the deadline closes the connection', () => {
    vi.useFakeTimers();
    const world = new World();
    const conn = world.open('laptop', 'token-a');
    world.hello(conn);
    world.hub.onMessage(conn, JSON.stringify({ type: 'chunk', id: 'slow', seq: 0, last: false, data: '{"type":' }));
    vi.advanceTimersByTime(29_000);
    expect(conn.closed).toBeUndefined();
    vi.advanceTimersByTime(1_001);
    expect(conn.closed?.code).toBe(CLOSE_LIMIT);
    expect(world.hub.health().hosts).toEqual([]);
  });

  it('a chunked frame within the limits still arrives', () => {
    const world = new World();
    const conn = world.open('laptop', 'token-a');
    const big: ServerInfo = { name: 'echo', tools: [{ name: 'echo', description: 'y'.repeat(600_000), inputSchema: { type: 'object' } }] };
    world.hello(conn, [big]);
    expect(conn.ofType('host.welcome')).toEqual([{ type: 'host.welcome', version: PROTOCOL_VERSION, maxFrameChars: LIMITS.maxFrameChars, maxMessageChars: LIMITS.maxFrameChars }]);
  });
});

describe('Hub: caps on what one client can start', () => {
  it('REST calls in flight per principal are capped with TOO_MANY_REQUESTS (429); others are not affected', async () => {
    const world = new World();
    const hub = new Hub(world.runtime, { ...LIMITS, maxCallsPerPrincipal: 2 });
    const conn = new Conn('laptop', 'c1', 'token-a');
    world.conns.push(conn);
    for (const m of encodeFrame({ type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [ECHO] })) hub.onMessage(conn, m);
    const run = (principal: string) => hub.callTool({ server: 'echo', session: null, principal, tool: 'echo', args: {}, timeoutMs: 5000 });
    const a = run('alice');
    const b = run('alice');
    const refused = await run('alice').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({ code: 'TOO_MANY_REQUESTS', status: 429, retryAfter: 1 });
    const c = run('bob');
    await vi.waitFor(() => expect(conn.ofType('rpc.request')).toHaveLength(3));
    for (const request of conn.ofType('rpc.request')) for (const m of encodeFrame({ type: 'rpc.response', id: request.id, result: { ok: true } })) hub.onMessage(conn, m);
    await Promise.all([a, b, c]);
    // Finished calls free their places.
    const d = run('alice');
    await vi.waitFor(() => expect(conn.ofType('rpc.request')).toHaveLength(4));
    for (const m of encodeFrame({ type: 'rpc.response', id: conn.ofType('rpc.request')[3]!.id, result: {} })) hub.onMessage(conn, m);
    await d;
  });

  it('DELETE of a REST session ends it and stops its processes; another principal gets 404', async () => {
    const world = new World();
    const conn = world.open('laptop', 'token-a');
    world.hello(conn);
    const session = world.hub.createRestSession('alice');
    const pending = world.hub.callTool({ server: 'echo', session, principal: 'alice', tool: 'echo', args: {}, timeoutMs: 5000 });
    const request = await vi.waitFor(() => conn.ofType('rpc.request')[0]!);
    world.say(conn, { type: 'rpc.response', id: request.id, result: {} });
    await pending;
    expect(() => world.hub.deleteRestSession(session, 'mallory')).toThrow(expect.objectContaining({ code: 'SESSION_NOT_FOUND' }));
    world.hub.deleteRestSession(session, 'alice');
    expect(conn.ofType('session.close')).toContainEqual({ type: 'session.close', server: 'echo', session });
    await expect(world.hub.callTool({ server: 'echo', session, principal: 'alice', tool: 'echo', args: {}, timeoutMs: 5000 })).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });
});

describe('Hub: MCP requests in flight per principal', () => {
  it('past the cap, a request is refused with TOO_MANY_REQUESTS; answers free places', async () => {
    const world = new World();
    const hub = new Hub(world.runtime, { ...LIMITS, maxCallsPerPrincipal: 2 });
    const conn = new Conn('laptop', 'c1', 'token-a');
    world.conns.push(conn);
    for (const m of encodeFrame({ type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [ECHO] })) hub.onMessage(conn, m);
    const post = async (id: number, session: string | null, method = 'tools/list') =>
      await Promise.resolve(hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message: { jsonrpc: '2.0', id, method, params: {} }, wantsSse: false }));
    const init = post(1, null, 'initialize');
    const session = await vi.waitFor(() => conn.ofType('mcp.message')[0]!.session);
    const second = post(2, session);
    await expect(post(3, session)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS', status: 429 });
    for (const id of [1, 2]) for (const m of encodeFrame({ type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', id, result: {} } })) hub.onMessage(conn, m);
    await Promise.all([init, second]);
    const third = post(4, session);
    for (const m of encodeFrame({ type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', id: 4, result: { ok: true } } })) hub.onMessage(conn, m);
    expect(await (await third).json()).toMatchObject({ result: { ok: true } });
  });

  it("counts every session of the principal, and only the principal's", async () => {
    const world = new World();
    const hub = new Hub(world.runtime, { ...LIMITS, maxCallsPerPrincipal: 2 });
    const conn = new Conn('laptop', 'c1', 'token-a');
    world.conns.push(conn);
    for (const m of encodeFrame({ type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [ECHO] })) hub.onMessage(conn, m);
    const post = async (principal: string, id: number, session: string | null, method = 'tools/list') =>
      await Promise.resolve(hub.mcp.post({ server: 'echo', sessionId: session, principal, message: { jsonrpc: '2.0', id, method, params: {} }, wantsSse: false }));
    const sessionOf = async (principal: string, n: number) => {
      void post(principal, 1, null, 'initialize');
      return vi.waitFor(() => conn.ofType('mcp.message')[n]!.session);
    };
    const first = await sessionOf('alice', 0);
    const second = await sessionOf('alice', 1);
    await expect(post('alice', 2, first)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    const bob = await sessionOf('bob', 2);
    void post('bob', 2, bob);
    await vi.waitFor(() => expect(conn.ofType('mcp.message')).toHaveLength(4));
    for (const m of encodeFrame({ type: 'mcp.message', server: 'echo', session: second, message: { jsonrpc: '2.0', id: 1, result: {} } })) hub.onMessage(conn, m);
    void post('alice', 2, first);
    await vi.waitFor(() => expect(conn.ofType('mcp.message')).toHaveLength(5));
  });
});
