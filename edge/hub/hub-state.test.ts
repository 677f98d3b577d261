/** The Hub's state: routes and sessions in SQLite, sessions bound to their principal, traffic and connection history, ending sessions. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../shared/errors.ts';
import { Hub } from './hub.ts';
import { TEST_LIMITS, World, ECHO, OTHER, hello, say, respond, call, rejection, codeOf, callAndAnswer } from './test-hub-world.ts';

afterEach(() => {
  vi.useRealTimers();
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
