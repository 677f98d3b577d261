/** The Hub and its hosts: hellos, welcomes, replaced and refused connections, frames from hosts, and heartbeats both ways. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_BAD_HELLO, CLOSE_PROTOCOL_MISMATCH, CLOSE_SILENT, HEARTBEAT_TIMEOUT_MS, PROTOCOL_VERSION, WHOLE_MESSAGE_CHARS } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import { World, ECHO, OTHER, hello, say, respond, call, codeOf, callAndAnswer } from './test-hub-world.ts';

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
