import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_BAD_HELLO, CLOSE_PROTOCOL_MISMATCH, CLOSE_SILENT, HEARTBEAT_TIMEOUT_MS, MAX_FRAME_CHARS, PROTOCOL_VERSION, WHOLE_MESSAGE_CHARS } from '../../shared/constants.ts';
import { GatewayError, type ErrorCode } from '../../shared/errors.ts';
import { DEFAULT_LIMITS, encodeFrame, FrameDecoder } from '../../shared/framing.ts';
import type { Frame, FrameOf, ServerInfo } from '../../shared/protocol.ts';
import { Hub, type HostConnection, type HubRuntime, type SqlValue, type ToolCall, type HubLimits } from './hub.ts';

/** A host's WebSocket as the Hub sees it; records what the Hub sends and whether it closed it. */
class FakeConnection implements HostConnection {
  readonly sent: Frame[] = [];
  /** The length of each WebSocket message sent to this host. */
  readonly messageSizes: number[] = [];
  maxMessageChars?: number;
  closed: { code: number; reason: string } | undefined;
  open = true;
  /** When the fake host last pinged (ms, on the World's clock); undefined: no heartbeat tracking. */
  pingedAt: number | undefined;
  readonly #decoder = new FrameDecoder({ ...DEFAULT_LIMITS, maxFrameChars: WHOLE_MESSAGE_CHARS });
  #requestsTaken = 0;

  readonly hostId: string;
  readonly connId: string;

  constructor(hostId: string, connId: string) {
    this.hostId = hostId;
    this.connId = connId;
  }

  send(text: string): void {
    this.messageSizes.push(text.length);
    const frame = this.#decoder.decode(text);
    if (frame) this.sent.push(frame);
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
    this.open = false;
  }

  get lastSeen(): (() => number) | undefined {
    const at = this.pingedAt;
    return at === undefined ? undefined : () => at;
  }

  ofType<T extends Frame['type']>(type: T): FrameOf<T>[] {
    return this.sent.filter((f): f is FrameOf<T> => f.type === type);
  }

  /** The next rpc.request frame this connection received that no test has taken yet. */
  async nextRequest(): Promise<FrameOf<'rpc.request'>> {
    const request = await vi.waitFor(
      () => {
        const found = this.ofType('rpc.request')[this.#requestsTaken];
        if (!found) throw new Error(`host ${this.hostId} (${this.connId}) got no new rpc.request`);
        return found;
      },
      { timeout: 2000, interval: 2 },
    );
    this.#requestsTaken++;
    return request;
  }
}

/** An in-memory "Durable Object": a SQLite database and the set of open host sockets. */
const TEST_LIMITS: HubLimits = {
  requestTimeoutMs: 5000,
  mcpIdleMs: 60_000,
  maxSessionsPerPrincipal: 1000,
  backlog: 50,
  sse: { keepaliveMs: 60_000, maxQueuedBytes: 1024 * 1024 },
};

class World {
  readonly db = new DatabaseSync(':memory:');
  readonly conns: FakeConnection[] = [];
  readonly logs: { level: string; message: string }[] = [];
  clock = Date.parse('2026-01-01T00:00:00Z');
  #connCounter = 0;

  readonly runtime: HubRuntime = {
    sql: { exec: (query: string, ...params: SqlValue[]) => this.db.prepare(query).all(...params) as Record<string, SqlValue>[] },
    connectionsOf: (hostId) => this.conns.filter((c) => c.open && c.hostId === hostId),
    liveConnIds: () => this.conns.filter((c) => c.open).map((c) => c.connId),
    now: () => this.clock,
    log: (level, message) => {
      this.logs.push({ level, message });
    },
    scheduleAlarm: (delayMs) => {
      this.alarms.push(delayMs);
    },
  };
  readonly alarms: number[] = [];

  hub(): Hub {
    return new Hub(this.runtime, TEST_LIMITS);
  }

  connect(hostId: string): FakeConnection {
    const conn = new FakeConnection(hostId, `conn-${++this.#connCounter}`);
    this.conns.push(conn);
    return conn;
  }

  /** Opens a connection for `hostId`, says hello with `servers`, and checks it was welcomed. */
  helloHost(hub: Hub, hostId: string, servers: ServerInfo[] = [ECHO]): FakeConnection {
    const conn = this.connect(hostId);
    say(hub, conn, hello(hostId, servers));
    expect(conn.ofType('host.welcome')).toHaveLength(1);
    return conn;
  }

  /** The socket goes away the way the runtime reports it. */
  drop(hub: Hub, conn: FakeConnection): void {
    conn.open = false;
    hub.onClose(conn, 1006, 'gone');
  }

  routeRows(session: string): Record<string, SqlValue>[] {
    return this.db.prepare('SELECT server, host_id FROM routes WHERE session = ?').all(session) as Record<string, SqlValue>[];
  }
}

const ECHO: ServerInfo = {
  name: 'echo',
  tools: [
    { name: 'echo', description: 'Echoes', inputSchema: { type: 'object' } },
    { name: 'add', inputSchema: { type: 'object' } },
  ],
};
const OTHER: ServerInfo = { name: 'other', tools: [{ name: 'ping' }] };

function hello(hostId: string, servers: ServerInfo[], version = PROTOCOL_VERSION): Frame {
  return { type: 'host.hello', version, hostId, servers };
}

function say(hub: Hub, conn: HostConnection, frame: Frame): void {
  for (const message of encodeFrame(frame)) hub.onMessage(conn, message);
}

function respond(hub: Hub, conn: HostConnection, id: string, answer: Omit<FrameOf<'rpc.response'>, 'type' | 'id'>): void {
  say(hub, conn, { type: 'rpc.response', id, ...answer });
}

function call(hub: Hub, session: string, overrides: Partial<ToolCall> = {}): Promise<unknown> {
  return hub.callTool({ server: 'echo', session, principal: 'alice', tool: 'echo', args: { text: 'hi' }, timeoutMs: 5000, ...overrides });
}

/** Awaits `promise` expecting a GatewayError; returns it. */
async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(GatewayError);
  return outcome.error as GatewayError;
}

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode> {
  return (await rejection(promise)).code;
}

/** Makes a call on `session`, answers it from whichever host got it, and returns that host's connection. */
async function callAndAnswer(hub: Hub, hosts: FakeConnection[], session: string): Promise<FakeConnection> {
  const before = hosts.map((h) => h.ofType('rpc.request').length);
  const pending = call(hub, session);
  const index = await vi.waitFor(
    () => {
      const i = hosts.findIndex((h, k) => h.ofType('rpc.request').length > before[k]!);
      if (i < 0) throw new Error('no host got the request');
      return i;
    },
    { timeout: 2000, interval: 2 },
  );
  const host = hosts[index]!;
  const request = await host.nextRequest();
  respond(hub, host, request.id, { result: { content: [{ type: 'text', text: `from ${host.hostId}` }] } });
  expect(await pending).toEqual({ content: [{ type: 'text', text: `from ${host.hostId}` }] });
  // Only that host was asked.
  hosts.forEach((h, k) => {
    if (k !== index) expect(h.ofType('rpc.request').length).toBe(before[k]);
  });
  return host;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Hub: host connections', () => {
  it('hello registers the host and its servers, and is answered with a welcome', () => {
    const world = new World();
    const hub = world.hub();
    expect(hub.health()).toMatchObject({ status: 'ok', ready: false, hosts: [], servers: [] });

    const conn = world.connect('laptop');
    say(hub, conn, hello('laptop', [ECHO, { name: 'broken', tools: [], error: 'spawn failed: ENOENT' }]));

    expect(conn.ofType('host.welcome')).toEqual([{ type: 'host.welcome', version: PROTOCOL_VERSION, maxFrameChars: 16 * 1024 * 1024, maxMessageChars: WHOLE_MESSAGE_CHARS }]);
    expect(conn.closed).toBeUndefined();
    const health = hub.health();
    expect(health.ready).toBe(true);
    expect(health.hosts).toEqual([{ id: 'laptop', connectedAt: new Date(world.clock).toISOString(), servers: ['broken', 'echo'] }]);
    expect(health.servers).toEqual([
      { name: 'broken', host: 'laptop', tools: 0, status: 'failing', error: 'spawn failed: ENOENT' },
      { name: 'echo', host: 'laptop', tools: 2, status: 'ok' },
    ]);
  });

  it('a hello is a full restatement: a second hello replaces the server list', () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop', [ECHO, OTHER]);
    say(hub, conn, hello('laptop', [OTHER]));
    expect(hub.health().servers.map((s) => s.name)).toEqual(['other']);
    expect(conn.ofType('host.welcome')).toHaveLength(2);
  });

  it('a hello with another major version gets PROTOCOL_MISMATCH and the connection is closed with 4002', () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.connect('laptop');
    say(hub, conn, hello('laptop', [ECHO], '2.0'));

    const errors = conn.ofType('frame.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('PROTOCOL_MISMATCH');
    expect(conn.closed?.code).toBe(CLOSE_PROTOCOL_MISMATCH);
    expect(conn.closed!.reason.length).toBeLessThanOrEqual(123); // WebSocket close reasons are capped at 123 bytes
    expect(conn.ofType('host.welcome')).toHaveLength(0);
    expect(hub.health().hosts).toEqual([]);
  });

  it('a hello listing a server twice is answered, not thrown', () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.connect('laptop');
    expect(() => say(hub, conn, hello('laptop', [ECHO, ECHO]))).not.toThrow();
    expect(conn.ofType('host.welcome').length + conn.ofType('frame.error').length).toBe(1);
  });

  it('a hello with a newer minor version is accepted', () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.connect('laptop');
    say(hub, conn, hello('laptop', [ECHO], `${PROTOCOL_VERSION.split('.')[0]}.99`));
    expect(conn.ofType('host.welcome')).toHaveLength(1);
  });

  it('a hello naming another host than the connection is refused with 4003', () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.connect('laptop');
    say(hub, conn, hello('desktop', [ECHO]));
    expect(conn.ofType('frame.error')[0]?.code).toBe('BAD_HELLO');
    expect(conn.closed?.code).toBe(CLOSE_BAD_HELLO);
    expect(hub.health().hosts).toEqual([]);
  });

  it('a frame before hello is refused with a frame.error, closes the connection and does not register the host', () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.connect('laptop');
    say(hub, conn, { type: 'session.closed', server: 'echo', session: 's', reason: 'x' });
    expect(conn.ofType('frame.error')[0]?.code).toBe('BAD_FRAME');
    expect(conn.closed?.code).toBe(CLOSE_BAD_HELLO);
    expect(hub.health().hosts).toEqual([]);
  });

  it('a bad frame from the host gets a frame.error reply and the hub keeps working', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');

    hub.onMessage(conn, 'this is not json');
    hub.onMessage(conn, JSON.stringify({ type: 'rpc.response' })); // no id
    hub.onMessage(conn, JSON.stringify({ type: 'made.up', id: 'x' }));
    say(hub, conn, { type: 'rpc.request', id: 'x', server: 'echo', session: 's', method: 'tools/call', timeoutMs: 1 }); // not a host's frame
    const errors = conn.ofType('frame.error');
    expect(errors).toHaveLength(4);
    for (const error of errors) expect(error.code).toBe('BAD_FRAME');
    expect(conn.closed).toBeUndefined();

    // An oversized message is refused the same way.
    hub.onMessage(conn, 'x'.repeat(WHOLE_MESSAGE_CHARS + 1));
    expect(conn.ofType('frame.error').at(-1)?.code).toBe('FRAME_TOO_LARGE');

    const session = hub.createRestSession('alice');
    const pending = call(hub, session);
    const request = await conn.nextRequest();
    respond(hub, conn, request.id, { result: { ok: true } });
    expect(await pending).toEqual({ ok: true });
  });
});

describe('Hub: calls', () => {
  it('callTool sends an rpc.request to the host and resolves with its rpc.response', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const session = hub.createRestSession('alice');

    const pending = call(hub, session, { tool: 'add', args: { a: 1, b: 2 }, timeoutMs: 4321 });
    const request = await conn.nextRequest();
    expect(request).toMatchObject({
      type: 'rpc.request',
      server: 'echo',
      session,
      method: 'tools/call',
      params: { name: 'add', arguments: { a: 1, b: 2 } },
      timeoutMs: 4321,
    });
    respond(hub, conn, request.id, { result: { content: [{ type: 'text', text: '3' }] } });
    expect(await pending).toEqual({ content: [{ type: 'text', text: '3' }] });
  });

  it('a large result arrives in chunks and resolves whole', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const pending = call(hub, hub.createRestSession('alice'));
    const request = await conn.nextRequest();
    const text = 'q'.repeat(3 * 1024 * 1024);
    const messages = encodeFrame({ type: 'rpc.response', id: request.id, result: { content: [{ type: 'text', text }] } });
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) hub.onMessage(conn, message);
    expect(await pending).toEqual({ content: [{ type: 'text', text }] });
  });

  it('a large frame goes whole, one message each way, to and from a host that said it takes long messages', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.connect('laptop');
    say(hub, conn, { ...(hello('laptop', [ECHO]) as FrameOf<'host.hello'>), maxMessageChars: WHOLE_MESSAGE_CHARS });
    const text = 'q'.repeat(3 * 1024 * 1024);
    const sentBefore = conn.messageSizes.length;
    const pending = call(hub, hub.createRestSession('alice'), { args: { text } });
    const request = await conn.nextRequest();
    expect(conn.messageSizes.length - sentBefore).toBe(1);
    expect(request.params).toEqual({ name: 'echo', arguments: { text } });
    const answer = JSON.stringify({ type: 'rpc.response', id: request.id, result: { content: [{ type: 'text', text }] } });
    hub.onMessage(conn, answer);
    expect(await pending).toEqual({ content: [{ type: 'text', text }] });
  });

  it('a large body\'s text goes to the host as it came, inside the frame', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const argsText = `{ "text" : "${'é'.repeat(70_000)}" }`;
    const received: string[] = [];
    const send = conn.send.bind(conn);
    conn.send = (text) => {
      received.push(text);
      send(text);
    };
    const pending = call(hub, hub.createRestSession('alice'), { args: JSON.parse(argsText), argsText });
    const request = await conn.nextRequest();
    expect(received).toHaveLength(1);
    expect(received[0]).toContain(`"params":{"name":"echo","arguments":${argsText}}`);
    expect(request.params).toEqual({ name: 'echo', arguments: JSON.parse(argsText) });
    respond(hub, conn, request.id, { result: { content: [] } });
    await pending;
  });

  it('a host that said nothing of its message size still gets a large frame as chunks', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const sentBefore = conn.messageSizes.length;
    const pending = call(hub, hub.createRestSession('alice'), { args: { text: 'q'.repeat(1024 * 1024) } });
    const request = await conn.nextRequest();
    const sizes = conn.messageSizes.slice(sentBefore);
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_FRAME_CHARS);
    respond(hub, conn, request.id, { result: { content: [] } });
    expect(await pending).toEqual({ content: [] });
  });

  it.each([
    { rpc: -32602, message: 'text must be a string', code: 'INVALID_ARGUMENTS', status: 422 },
    { rpc: -32002, message: 'Resource not found', code: 'NOT_FOUND', status: 404 },
    { rpc: -32603, message: 'disk on fire', code: 'UPSTREAM_ERROR', status: 502 },
  ])('maps a JSON-RPC $rpc error to $code', async ({ rpc, message, code, status }) => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const pending = call(hub, hub.createRestSession('alice'));
    respond(hub, conn, (await conn.nextRequest()).id, { error: { code: rpc, message } });
    const error = await rejection(pending);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.message).toContain(message);
  });

  it.each<ErrorCode>(['SERVER_EXITED', 'SPAWN_FAILED', 'REQUEST_TIMEOUT'])('passes a fault %s from the host through', async (code) => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const pending = call(hub, hub.createRestSession('alice'));
    respond(hub, conn, (await conn.nextRequest()).id, { fault: { code, message: 'server echo exited with code 3' } });
    const error = await rejection(pending);
    expect(error.code).toBe(code);
    expect(error.message).toBe('server echo exited with code 3');
  });

  it('an unknown or expired REST session is SESSION_NOT_FOUND', async () => {
    const world = new World();
    const hub = world.hub();
    world.helloHost(hub, 'laptop');
    expect(await codeOf(call(hub, 'never-issued'))).toBe('SESSION_NOT_FOUND');

    const session = hub.createRestSession('alice');
    world.clock += 25 * 60 * 60 * 1000; // past the 24 h TTL
    expect(await codeOf(call(hub, session))).toBe('SESSION_NOT_FOUND');
  });

  it('REST sessions that expire unused are forgotten: their routes, processes and memory go', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const sessions = Array.from({ length: 5 }, () => hub.createRestSession('alice'));
    for (const session of sessions) await callAndAnswer(hub, [conn], session);
    expect(hub.held()).toEqual({ routes: 5, restSessions: 5, pendingCalls: 0, principalsInFlight: 0 });

    world.clock += 25 * 60 * 60 * 1000; // past the 24 h TTL, never used again nor deleted
    const fresh = hub.createRestSession('bob'); // the next session created finds them expired
    expect(hub.held()).toEqual({ routes: 0, restSessions: 1, pendingCalls: 0, principalsInFlight: 0 });
    for (const session of sessions) expect(world.routeRows(session)).toEqual([]);
    const closed = conn.ofType('session.close').map((f) => f.session);
    for (const session of sessions) expect(closed).toContain(session);
    expect(closed).not.toContain(fresh);
  });

  it('an unknown server is SERVER_NOT_FOUND', async () => {
    const world = new World();
    const hub = world.hub();
    world.helloHost(hub, 'laptop');
    expect(await codeOf(call(hub, hub.createRestSession('alice'), { server: 'nope' }))).toBe('SERVER_NOT_FOUND');
  });

  it('a known server whose host left is HOST_OFFLINE, with a retry hint', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    world.drop(hub, conn);
    expect(hub.health().hosts).toEqual([]);

    const error = await rejection(call(hub, hub.createRestSession('alice')));
    expect(error.code).toBe('HOST_OFFLINE');
    expect(error.status).toBe(503);
    expect(error.retryAfter).toBeGreaterThan(0);
  });

  it('an unknown tool is TOOL_NOT_FOUND and nothing is sent to the host', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    expect(await codeOf(call(hub, hub.createRestSession('alice'), { tool: 'nope' }))).toBe('TOOL_NOT_FOUND');
    expect(conn.ofType('rpc.request')).toHaveLength(0);
  });

  it('a call past its deadline is REQUEST_TIMEOUT, the host is sent rpc.cancel, and a late answer is ignored', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const session = hub.createRestSession('alice');
    const pending = call(hub, session, { timeoutMs: 30 });
    const request = await conn.nextRequest();

    const error = await rejection(pending);
    expect(error.code).toBe('REQUEST_TIMEOUT');
    expect(conn.ofType('rpc.cancel')).toEqual([expect.objectContaining({ type: 'rpc.cancel', id: request.id })]);

    // The late answer changes nothing and gets no complaint.
    respond(hub, conn, request.id, { result: { late: true } });
    expect(conn.ofType('frame.error')).toHaveLength(0);

    const next = call(hub, session);
    respond(hub, conn, (await conn.nextRequest()).id, { result: { next: true } });
    expect(await next).toEqual({ next: true });
  });

  it('closing the host connection rejects in-flight calls at once with HOST_OFFLINE', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const session = hub.createRestSession('alice');
    const calls = [call(hub, session, { timeoutMs: 60_000 }), call(hub, session, { timeoutMs: 60_000 })];
    expect(conn.ofType('rpc.request')).toHaveLength(2);

    world.drop(hub, conn);
    // No timer is advanced: the rejection comes from the close, not from the deadline.
    for (const pending of calls) expect(await codeOf(pending)).toBe('HOST_OFFLINE');
    expect(vi.getTimerCount()).toBe(0);
    expect(hub.health().hosts).toEqual([]);
  });

  it('50 concurrent calls answered out of order each resolve with their own result', async () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.helloHost(hub, 'laptop');
    const session = hub.createRestSession('alice');

    const calls = Array.from({ length: 50 }, (_, n) => call(hub, session, { args: { n } }));
    const requests = [];
    for (let i = 0; i < 50; i++) requests.push(await conn.nextRequest());
    expect(new Set(requests.map((r) => r.id)).size).toBe(50);

    // Answer in a scrambled order: odd ones backwards, then even ones forwards.
    const order = [...requests.filter((_, i) => i % 2 === 1).reverse(), ...requests.filter((_, i) => i % 2 === 0)];
    for (const request of order) {
      const { n } = (request.params as { arguments: { n: number } }).arguments;
      respond(hub, conn, request.id, { result: { n } });
    }
    const results = await Promise.all(calls);
    expect(results).toEqual(Array.from({ length: 50 }, (_, n) => ({ n })));
  });


  it('a response from a host that was never asked is ignored', async () => {
    const world = new World();
    const hub = world.hub();
    const a = world.helloHost(hub, 'host-a', [ECHO]);
    const b = world.helloHost(hub, 'host-b', [OTHER]);
    const pending = call(hub, hub.createRestSession('alice'));
    const request = await a.nextRequest();
    respond(hub, b, request.id, { result: { forged: true } });
    respond(hub, a, request.id, { result: { genuine: true } });
    expect(await pending).toEqual({ genuine: true });
  });
});

describe('Hub: routing and state', () => {
  it('routes a session back to the same host after "hibernation" (a new Hub over the same storage and sockets)', async () => {
    const world = new World();
    const hub1 = world.hub();
    const hosts = [world.helloHost(hub1, 'host-a'), world.helloHost(hub1, 'host-b')];

    const sessions = Array.from({ length: 12 }, () => hub1.createRestSession('alice'));
    const firstHost = new Map<string, string>();
    for (const session of sessions) firstHost.set(session, (await callAndAnswer(hub1, hosts, session)).hostId);
    // Both hosts got sessions, so a lucky random pick could not explain the stickiness below.
    expect(new Set(firstHost.values()).size).toBe(2);

    const hub2 = world.hub(); // memory wiped; SQLite and the open sockets survive
    expect(hub2.health().hosts.map((h) => h.id)).toEqual(['host-a', 'host-b']);
    for (const session of sessions) {
      expect((await callAndAnswer(hub2, hosts, session)).hostId).toBe(firstHost.get(session));
    }
  });

  it('a Hub woken after the host connection died forgets that host', async () => {
    const world = new World();
    const hub1 = world.hub();
    const conn = world.helloHost(hub1, 'laptop');
    const session = hub1.createRestSession('alice');
    await callAndAnswer(hub1, [conn], session);

    conn.open = false; // dropped while the object was not running: no onClose
    const hub2 = world.hub();
    expect(hub2.health()).toMatchObject({ ready: false, hosts: [], servers: [] });
    expect(world.routeRows(session)).toEqual([]);
    expect(await codeOf(call(hub2, session))).toBe('HOST_OFFLINE');

    // The host comes back on a new connection and serves again.
    const back = world.helloHost(hub2, 'laptop');
    await callAndAnswer(hub2, [back], session);
  });

  it('a Hub woken with the host still connected keeps it', () => {
    const world = new World();
    world.helloHost(world.hub(), 'laptop');
    expect(world.hub().health().hosts.map((h) => h.id)).toEqual(['laptop']);
  });

  it('a second hello from the same host on a new connection fails calls pending on the old one with HOST_OFFLINE', async () => {
    const world = new World();
    const hub = world.hub();
    const old = world.helloHost(hub, 'laptop');
    const session = hub.createRestSession('alice');
    const stranded = call(hub, session, { timeoutMs: 60_000 });
    const oldRequest = await old.nextRequest();

    const fresh = world.helloHost(hub, 'laptop');
    expect(await codeOf(stranded)).toBe('HOST_OFFLINE');

    // The old socket's answer and its late close change nothing.
    respond(hub, old, oldRequest.id, { result: { stale: true } });
    world.drop(hub, old);
    expect(hub.health().hosts.map((h) => h.id)).toEqual(['laptop']);

    const next = call(hub, session);
    const request = await fresh.nextRequest();
    respond(hub, fresh, request.id, { result: { fresh: true } });
    expect(await next).toEqual({ fresh: true });
    expect(old.ofType('rpc.request')).toHaveLength(1);
  });

  it('session.closed from the host drops the route, and the next call still works', async () => {
    const world = new World();
    const hub = world.hub();
    const hosts = [world.helloHost(hub, 'host-a'), world.helloHost(hub, 'host-b')];
    const session = hub.createRestSession('alice');
    const first = await callAndAnswer(hub, hosts, session);
    expect(world.routeRows(session)).toEqual([{ server: 'echo', host_id: first.hostId }]);

    say(hub, first, { type: 'session.closed', server: 'echo', session, reason: 'exited with code 3' });
    expect(world.routeRows(session)).toEqual([]);
    expect(first.ofType('frame.error')).toHaveLength(0);

    const second = await callAndAnswer(hub, hosts, session);
    expect(world.routeRows(session)).toEqual([{ server: 'echo', host_id: second.hostId }]);
  });

  it('a session whose host left moves to another host offering the server', async () => {
    const world = new World();
    const hub = world.hub();
    const a = world.helloHost(hub, 'host-a');
    const b = world.helloHost(hub, 'host-b');
    const session = hub.createRestSession('alice');
    const first = await callAndAnswer(hub, [a, b], session);
    world.drop(hub, first);
    const survivor = first === a ? b : a;
    expect((await callAndAnswer(hub, [a, b], session)).hostId).toBe(survivor.hostId);
  });

  it('sessions spread over two hosts offering the same server', async () => {
    const world = new World();
    const hub = world.hub();
    const hosts = [world.helloHost(hub, 'host-a'), world.helloHost(hub, 'host-b')];
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const host = await callAndAnswer(hub, hosts, hub.createRestSession('alice'));
      counts.set(host.hostId, (counts.get(host.hostId) ?? 0) + 1);
    }
    expect(counts.get('host-a')).toBeGreaterThan(0);
    expect(counts.get('host-b')).toBeGreaterThan(0);
  });

  it('one session id keeps separate routes per server', async () => {
    const world = new World();
    const hub = world.hub();
    const a = world.helloHost(hub, 'host-a', [ECHO]);
    const b = world.helloHost(hub, 'host-b', [OTHER]);
    const session = hub.createRestSession('alice');

    const onA = call(hub, session);
    const onB = call(hub, session, { server: 'other', tool: 'ping', args: {} });
    const ra = await a.nextRequest();
    const rb = await b.nextRequest();
    expect([ra.server, rb.server]).toEqual(['echo', 'other']);
    respond(hub, b, rb.id, { result: 'b' });
    respond(hub, a, ra.id, { result: 'a' });
    expect(await Promise.all([onA, onB])).toEqual(['a', 'b']);
  });
});

describe('Hub: sessions belong to their principal', () => {
  it('answers SESSION_NOT_FOUND when another principal uses the session id', async () => {
    const world = new World();
    const hub = world.hub();
    world.helloHost(hub, 'host-a', [ECHO]);
    const session = hub.createRestSession('alice');
    expect((await rejection(call(hub, session, { principal: 'mallory' }))).code).toBe('SESSION_NOT_FOUND');
  });

  it('past the cap of REST sessions, a new one ends the principal’s least recently used session (and its processes)', async () => {
    const world = new World();
    const hub = new Hub(world.runtime, { ...TEST_LIMITS, maxSessionsPerPrincipal: 2 });
    const conn = world.helloHost(hub, 'host-a', [ECHO]);
    const first = hub.createRestSession('alice');
    const pending = call(hub, first);
    respond(hub, conn, (await conn.nextRequest()).id, { result: { ok: true } });
    await pending;
    world.clock += 1000;
    const second = hub.createRestSession('alice');
    world.clock += 1000;
    const third = hub.createRestSession('alice');
    expect(third).toMatch(/^[0-9a-f]{32}$/);
    expect(conn.ofType('session.close')).toContainEqual({ type: 'session.close', server: 'echo', session: first });
    expect((await rejection(call(hub, first))).code).toBe('SESSION_NOT_FOUND');
    const still = call(hub, second);
    respond(hub, conn, (await conn.nextRequest()).id, { result: { ok: 2 } });
    expect(await still).toEqual({ ok: 2 });
    expect(hub.createRestSession('bob')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses a hello announcing a server its token does not allow', () => {
    const world = new World();
    const hub = world.hub();
    const conn = world.connect('laptop');
    (conn as { allowedServers?: string[] }).allowedServers = ['other'];
    say(hub, conn, hello('laptop', [ECHO]));
    expect(conn.ofType('frame.error')).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(conn.closed?.code).toBe(4004);
    expect(hub.health().hosts).toEqual([]);
  });
});

describe('Hub: traffic history, host connection history, ending sessions', () => {
  it('counts each finished call by server and host, errors by code, and writes it only on the alarm', async () => {
    const world = new World();
    const hub = world.hub();
    const host = world.helloHost(hub, 'laptop');
    const session = hub.createRestSession('alice');
    const ok = call(hub, session);
    world.clock += 7;
    respond(hub, host, (await host.nextRequest()).id, { result: { content: [] } });
    await ok;
    const toolError = call(hub, session);
    respond(hub, host, (await host.nextRequest()).id, { result: { content: [], isError: true } });
    await toolError;
    const failed = call(hub, session);
    respond(hub, host, (await host.nextRequest()).id, { fault: { code: 'SERVER_EXITED', message: 'exited' } });
    expect(await codeOf(failed)).toBe('SERVER_EXITED');

    const status = hub.status('hour');
    const w = status.history.hour!.servers.echo!;
    expect(w.calls.at(-1)).toBe(3);
    expect(w.errors.at(-1)).toBe(2);
    expect(Object.fromEntries(Object.entries(w.errorsByCode).map(([code, n]) => [code, n.at(-1)]))).toEqual({ TOOL_ERROR: 1, SERVER_EXITED: 1 });
    expect(w.p95.at(-1)).toBe(7);
    expect(status.history.hour!.hosts.laptop!.calls.at(-1)).toBe(3);
    expect(status.history.recentErrors.map((e) => [e.code, e.what])).toEqual([
      ['SERVER_EXITED', 'tools/call echo'],
      ['TOOL_ERROR', 'tools/call echo'],
    ]);
    expect(status.history.day).toBeUndefined();
    // One flush asked for; nothing stored until it runs.
    expect(world.alarms.filter((ms) => ms === 5000)).toHaveLength(1);
    expect(status.history.savedAt).toBeNull();
    hub.onAlarm();
    const reborn = world.hub();
    expect(reborn.status('hour').history.hour!.servers.echo!.calls.at(-1)).toBe(3);
    expect(reborn.status('hour').history.savedAt).toBe(new Date(world.clock).toISOString());
  });

  it('records when a host connects and drops, and how long it was away', () => {
    const world = new World();
    const hub = world.hub();
    const first = world.helloHost(hub, 'laptop');
    world.clock += 60_000;
    world.drop(hub, first);
    world.clock += 4_000;
    world.helloHost(hub, 'laptop');
    const history = hub.status('none').history.hostConnections.laptop!;
    expect(history).toMatchObject({ connects: 2, drops: 1, awayMs: 4000 });
    expect(history.events.map((e) => e.kind)).toEqual(['connect', 'drop', 'connect']);
    expect(history.events[1]).toMatchObject({ code: 1006 });
  });

  it('counts MCP requests on either transport from request to answer; ends an MCP session by id', async () => {
    const world = new World();
    const hub = world.hub();
    const host = world.helloHost(hub, 'laptop');
    const answer = (session: string, message: Record<string, unknown>) => say(hub, host, { type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', ...message } });

    const init = hub.mcp.post({ server: 'echo', sessionId: null, principal: 'alice', message: { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, wantsSse: false });
    const streamable = host.ofType('mcp.message').at(-1)!.session;
    world.clock += 3;
    answer(streamable, { id: 1, result: {} });
    expect((await init).status).toBe(200);

    const legacy = hub.mcp.openLegacy('echo', 'alice', (id) => `/echo?sessionId=${id}`);
    const legacyId = String(world.db.prepare("SELECT id FROM mcp_sessions WHERE transport = 'sse'").get()!.id);
    hub.mcp.postLegacy('echo', legacyId, 'alice', { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: {} } });
    world.clock += 5;
    answer(legacyId, { id: 7, error: { code: -32602, message: 'bad arguments' } });

    const status = hub.status('hour');
    const w = status.history.hour!.servers.echo!;
    expect(w.calls.at(-1)).toBe(2);
    expect(w.errorsByCode.INVALID_ARGUMENTS!.at(-1)).toBe(1);
    expect(w.p95.at(-1)).toBe(5);
    expect(status.history.recentErrors[0]).toMatchObject({ code: 'INVALID_ARGUMENTS', what: 'tools/call echo', host: 'laptop' });
    expect(status.liveSessions.map((s) => s.transport).sort()).toEqual(['sse', 'streamable']);

    expect(hub.endSession(legacyId)).toBe(true);
    expect(host.ofType('session.close')).toContainEqual({ type: 'session.close', server: 'echo', session: legacyId });
    expect(() => hub.mcp.postLegacy('echo', legacyId, 'alice', { jsonrpc: '2.0', id: 8, method: 'ping' })).toThrow(GatewayError);
    expect(hub.endSession(streamable)).toBe(true);
    expect(hub.status('none').liveSessions).toEqual([]);
    await legacy.body?.cancel();
  });

  it('answers a client that takes JSON or SSE with JSON, unless a progress notification for the request comes first', async () => {
    const world = new World();
    const hub = world.hub();
    const host = world.helloHost(hub, 'laptop');
    const answer = (session: string, message: Record<string, unknown>) => say(hub, host, { type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', ...message } });
    const post = (sessionId: string | null, message: Record<string, unknown>) =>
      hub.mcp.post({ server: 'echo', sessionId, principal: 'alice', message: { jsonrpc: '2.0', ...message }, wantsSse: true, jsonToo: true });

    const init = post(null, { id: 1, method: 'initialize', params: {} });
    const session = host.ofType('mcp.message').at(-1)!.session;
    answer(session, { id: 1, result: {} });
    const plain = await init;
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(await plain.json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} });

    const slow = post(session, { id: 2, method: 'tools/call', params: { name: 'echo', arguments: {}, _meta: { progressToken: 'p' } } });
    answer(session, { method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } });
    answer(session, { id: 2, result: { content: [] } });
    const streamed = await slow;
    expect(streamed.headers.get('content-type')).toBe('text/event-stream');
    const text = await streamed.text();
    expect(text.indexOf('notifications/progress')).toBeGreaterThan(0);
    expect(text.indexOf('"id":2')).toBeGreaterThan(text.indexOf('notifications/progress'));
  });

  it('lists live sessions and ends a REST session: its process is stopped and its next call is 404', async () => {
    const world = new World();
    const hub = world.hub();
    const host = world.helloHost(hub, 'laptop');
    const session = hub.createRestSession('alice');
    const pending = call(hub, session);
    respond(hub, host, (await host.nextRequest()).id, { result: { content: [] } });
    await pending;
    expect(hub.status('none').liveSessions).toEqual([
      expect.objectContaining({ id: session, transport: 'rest', principal: 'alice', server: 'echo', host: 'laptop' }),
    ]);
    expect(hub.endSession(session)).toBe(true);
    expect(host.ofType('session.close')).toContainEqual({ type: 'session.close', server: 'echo', session });
    expect(await codeOf(call(hub, session))).toBe('SESSION_NOT_FOUND');
    expect(hub.status('none').liveSessions).toEqual([]);
    expect(hub.endSession(session)).toBe(false);
  });
});

describe('Hub: heartbeats', () => {
  it('a host silent past the heartbeat timeout has its calls failed with HOST_OFFLINE, is closed with 4008, and new sessions go elsewhere', async () => {
    const world = new World();
    const hub = world.hub();
    const a = world.helloHost(hub, 'a');
    const b = world.helloHost(hub, 'b');
    a.pingedAt = b.pingedAt = world.clock;
    const sessions = Array.from({ length: 8 }, () => hub.createRestSession('alice'));
    const calls = sessions.map((s) => call(hub, s).catch((e: GatewayError) => e.code));
    await vi.waitFor(() => expect(a.ofType('rpc.request').length + b.ofType('rpc.request').length).toBe(8));
    const onA = a.ofType('rpc.request').length;
    expect(onA).toBeGreaterThan(0); // random spread: 8 sessions over 2 hosts

    // b keeps pinging and answers; a stalls (no close, no frame).
    world.clock += HEARTBEAT_TIMEOUT_MS + 1;
    b.pingedAt = world.clock;
    for (let i = onA; i < 8; i++) respond(hub, b, (await b.nextRequest()).id, { result: { content: [] } });
    const outcomes = await Promise.race([
      Promise.all(calls),
      new Promise((_, reject) => setTimeout(() => reject(new Error('calls on the silent host still pending after 2 s')), 2000)),
    ]);
    expect((outcomes as unknown[]).filter((o) => o === 'HOST_OFFLINE')).toHaveLength(onA);
    expect(a.closed?.code).toBe(CLOSE_SILENT);
    expect(hub.health().hosts.map((h) => h.id)).toEqual(['b']);
    for (let i = 0; i < 4; i++) expect(await callAndAnswer(hub, [a, b], hub.createRestSession('alice'))).toBe(b);
  });

  it("a stalled host is dropped on the next frame from another host, without waiting for the sweep's timer", async () => {
    const world = new World();
    const hub = world.hub();
    const a = world.helloHost(hub, 'a');
    const b = world.helloHost(hub, 'b');
    a.pingedAt = b.pingedAt = world.clock;
    // One call on each host (sessions are spread at random: make them until both have one).
    const calls: Promise<unknown>[] = [];
    while (a.ofType('rpc.request').length === 0 || b.ofType('rpc.request').length === 0) {
      calls.push(call(hub, hub.createRestSession('alice')).catch((e: GatewayError) => e.code));
      await vi.waitFor(() => expect(a.ofType('rpc.request').length + b.ofType('rpc.request').length).toBe(calls.length));
    }
    world.clock += HEARTBEAT_TIMEOUT_MS + 1;
    b.pingedAt = world.clock;
    expect(a.closed).toBeUndefined();
    // b's answer is a frame: the Hub looks at its hosts then and there (no await in between).
    respond(hub, b, b.ofType('rpc.request')[0]!.id, { result: { content: [] } });
    expect(a.closed?.code).toBe(CLOSE_SILENT);
    expect(hub.health().hosts.map((h) => h.id)).toEqual(['b']);
    await Promise.all(calls);
  });

  it('a silent host is skipped when a new session is routed, even with nothing in flight', async () => {
    const world = new World();
    const hub = world.hub();
    const a = world.helloHost(hub, 'a');
    a.pingedAt = world.clock - HEARTBEAT_TIMEOUT_MS - 1;
    expect(await codeOf(call(hub, hub.createRestSession('alice')))).toBe('HOST_OFFLINE');
    expect(a.ofType('rpc.request')).toHaveLength(0);
    expect(a.closed?.code).toBe(CLOSE_SILENT);
  });

  it('a host of protocol 1.0 (a ping every 20 s) is given the old 65 s before it counts as silent', async () => {
    const world = new World();
    const hub = world.hub();
    const old = world.connect('old');
    say(hub, old, hello('old', [ECHO], '1.0'));
    expect(old.ofType('host.welcome')).toHaveLength(1);
    old.pingedAt = world.clock - 15_000;
    expect(await callAndAnswer(hub, [old], hub.createRestSession('alice'))).toBe(old);
    expect(old.closed).toBeUndefined();
    old.pingedAt = world.clock - 70_000;
    expect(await codeOf(call(hub, hub.createRestSession('alice')))).toBe('HOST_OFFLINE');
    expect(old.closed?.code).toBe(CLOSE_SILENT);
  });

  it('a host that keeps pinging is never dropped, however long its calls take', async () => {
    const world = new World();
    const hub = world.hub();
    const a = world.helloHost(hub, 'a');
    a.pingedAt = world.clock;
    const pending = call(hub, hub.createRestSession('alice'), { timeoutMs: 60_000 });
    const request = await a.nextRequest();
    for (let i = 0; i < 10; i++) {
      world.clock += 1000;
      a.pingedAt = world.clock;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 600)); // one sweep at least
    respond(hub, a, request.id, { result: { content: [{ type: 'text', text: 'late' }] } });
    expect(await pending).toEqual({ content: [{ type: 'text', text: 'late' }] });
    expect(a.closed).toBeUndefined();
  });
});
