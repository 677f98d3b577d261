/** MCP requests in flight at the Hub: the edge's deadline, and the session ending under them. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Frame, JsonRpcMessage } from '../../shared/protocol.ts';
import { EventReader, fromHost, helloEcho, LIMITS, openSession, Storage } from './test-world.ts';

afterEach(() => {
  vi.useRealTimers();
});

const call: JsonRpcMessage = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: {} } };
const relayed = (storage: Storage) => storage.host.sent.filter((f): f is Extract<Frame, { type: 'mcp.message' }> => f.type === 'mcp.message').map((f) => f.message);

describe('MCP requests in flight', () => {
  it('past the deadline: the server is told to cancel and the client gets a JSON-RPC error, once', async () => {
    vi.useFakeTimers();
    const storage = new Storage();
    const hub = storage.hub({ ...LIMITS, requestTimeoutMs: 1000 });
    helloEcho(hub, storage);
    const session = await openSession(hub, storage.host);
    const pending = hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message: call, wantsSse: false });
    await vi.advanceTimersByTimeAsync(1000);
    const res = await pending;
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32001, message: 'request timed out after 1000 ms' } });
    expect(relayed(storage).at(-1)).toEqual({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'the gateway deadline passed' } });
    // The same id may be used again once the first gave up.
    const again = hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message: call, wantsSse: false });
    fromHost(hub, storage.host, { type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', id: 7, result: { content: [] } } });
    expect(await (await again).json()).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [] } });
  });

  it('on an SSE request stream: the error is the last event, then the stream ends', async () => {
    vi.useFakeTimers();
    const storage = new Storage();
    const hub = storage.hub({ ...LIMITS, requestTimeoutMs: 1000 });
    helloEcho(hub, storage);
    const session = await openSession(hub, storage.host);
    const stream = new EventReader(await hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message: call, wantsSse: true }));
    await vi.advanceTimersByTimeAsync(1000);
    const [event] = await stream.take(1);
    expect(JSON.parse(event!.data)).toMatchObject({ id: 7, error: { code: -32001 } });
    await expect(stream.take(1)).rejects.toThrow(/stream ended/);
  });

  it('a request in flight when its session ends is answered with an error at once', async () => {
    const storage = new Storage();
    const hub = storage.hub();
    helloEcho(hub, storage);
    const session = await openSession(hub, storage.host);
    const pending = hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message: call, wantsSse: false });
    hub.mcp.delete('echo', session, 'alice');
    expect(await (await pending).json()).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32000, message: 'session ended: session deleted by the client' } });
  });

  it('a second request with an id already in flight is refused', async () => {
    const storage = new Storage();
    const hub = storage.hub();
    helloEcho(hub, storage);
    const session = await openSession(hub, storage.host);
    void hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message: call, wantsSse: false });
    expect(() => hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message: call, wantsSse: false })).toThrow(/already in flight/);
  });
});

describe('HTTP+SSE requests in flight', () => {
  const legacy = (hub: ReturnType<Storage['hub']>) => {
    let id = '';
    const stream = new EventReader(hub.mcp.openLegacy('echo', 'alice', (session) => ((id = session), `/echo?sessionId=${session}`)));
    return { stream, session: id };
  };
  const request = (id: number): JsonRpcMessage => ({ ...call, id });

  it('past the deadline: the server is told to cancel and the stream gets a JSON-RPC error', async () => {
    vi.useFakeTimers();
    const storage = new Storage();
    const hub = storage.hub({ ...LIMITS, requestTimeoutMs: 1000 });
    helloEcho(hub, storage);
    const { stream, session } = legacy(hub);
    expect(hub.mcp.postLegacy('echo', session, 'alice', request(7)).status).toBe(202);
    await vi.advanceTimersByTimeAsync(1000);
    const [event] = await stream.take(1);
    expect(JSON.parse(event!.data)).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32001, message: 'request timed out after 1000 ms' } });
    expect(relayed(storage).at(-1)).toEqual({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'the gateway deadline passed' } });
  });

  it('counts against the client’s requests in flight: past the cap 429, an answer frees a place', async () => {
    const storage = new Storage();
    const hub = storage.hub({ ...LIMITS, maxCallsPerPrincipal: 2 });
    helloEcho(hub, storage);
    const { stream, session } = legacy(hub);
    hub.mcp.postLegacy('echo', session, 'alice', request(1));
    hub.mcp.postLegacy('echo', session, 'alice', request(2));
    expect(() => hub.mcp.postLegacy('echo', session, 'alice', request(3))).toThrow(expect.objectContaining({ code: 'TOO_MANY_REQUESTS', status: 429 }));
    expect(() => hub.mcp.postLegacy('echo', session, 'alice', request(2))).toThrow(/already in flight/);
    // Notifications are not requests: never counted.
    expect(hub.mcp.postLegacy('echo', session, 'alice', { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }).status).toBe(202);
    fromHost(hub, storage.host, { type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', id: 1, result: { content: [] } } });
    expect(JSON.parse((await stream.take(1))[0]!.data)).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    expect(hub.mcp.postLegacy('echo', session, 'alice', request(3)).status).toBe(202);
  });
});
