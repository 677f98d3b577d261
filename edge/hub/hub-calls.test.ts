/** The Hub's calls: a tool call to a host and its answer, errors, deadlines, cancellations and the JSON-RPC error mappings. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ErrorCode } from '../../shared/errors.ts';
import { MAX_FRAME_CHARS, WHOLE_MESSAGE_CHARS } from '../../shared/constants.ts';
import { encodeFrame } from '../../shared/framing.ts';
import type { FrameOf } from '../../shared/protocol.ts';
import { World, ECHO, OTHER, hello, say, respond, call, rejection, codeOf, callAndAnswer } from './test-hub-world.ts';

afterEach(() => {
  vi.useRealTimers();
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
