/**
 * Calls wait on one shared deadline timer, not a timer each, and answers that go out as streams
 * share one keepalive timer: in a Durable Object, workerd keeps memory for every timer set and
 * cleared (docs/reliability.md, "Calls alone"), so a timer per call is a slow leak over a
 * long-lived edge.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/constants.ts';
import type { Frame, JsonRpcMessage } from '../../shared/protocol.ts';
import { EventReader, fromHost, helloEcho, openSession, Storage } from './test-world.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const CALLS = 50;

describe('deadline timers per call', () => {
  it(`${CALLS} REST calls, one after the other, set at most two timers between them`, async () => {
    const storage = new Storage();
    const hub = storage.hub();
    fromHost(hub, storage.host, { type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [{ name: 'echo', tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }] });
    const session = hub.createRestSession('alice');
    const answer = async () => {
      const request = storage.host.sent.findLast((f): f is Extract<Frame, { type: 'rpc.request' }> => f.type === 'rpc.request')!;
      fromHost(hub, storage.host, { type: 'rpc.response', id: request.id, result: { content: [] } });
    };
    const one = async () => {
      const pending = hub.callTool({ server: 'echo', session, principal: 'alice', tool: 'echo', args: {}, timeoutMs: 30_000 });
      await vi.waitFor(() => expect(storage.host.sent.some((f) => f.type === 'rpc.request')).toBe(true));
      await answer();
      await pending;
      storage.host.sent.length = 0;
    };
    await one(); // the first call may arm the shared timer
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < CALLS; i++) await one();
    const deadlineTimers = setTimeoutSpy.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms >= 1000).length;
    expect(deadlineTimers).toBeLessThanOrEqual(2);
  });

  it(`${CALLS} MCP requests on a session, one after the other, set at most two timers between them`, async () => {
    const storage = new Storage();
    const hub = storage.hub();
    helloEcho(hub, storage);
    const session = await openSession(hub, storage.host);
    const one = async (id: number) => {
      const pending = hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: {} } }, wantsSse: false });
      fromHost(hub, storage.host, { type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', id, result: { content: [] } } });
      expect((await pending).status).toBe(200);
    };
    await one(100);
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < CALLS; i++) await one(101 + i);
    const deadlineTimers = setTimeoutSpy.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms >= 1000).length;
    expect(deadlineTimers).toBeLessThanOrEqual(2);
  });

  it(`${CALLS} MCP requests answered on streams (progress first), one after the other, set at most one interval timer between them`, async () => {
    const storage = new Storage();
    const hub = storage.hub();
    helloEcho(hub, storage);
    const session = await openSession(hub, storage.host);
    const one = async (id: number) => {
      const message: JsonRpcMessage = { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: {}, _meta: { progressToken: `p${id}` } } };
      const pending = hub.mcp.post({ server: 'echo', sessionId: session, principal: 'alice', message, wantsSse: true, jsonToo: true });
      const progress = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: `p${id}`, progress: 1, total: 2 } } as const;
      fromHost(hub, storage.host, { type: 'mcp.message', server: 'echo', session, message: progress });
      const res = await pending;
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      fromHost(hub, storage.host, { type: 'mcp.message', server: 'echo', session, message: { jsonrpc: '2.0', id, result: { content: [] } } });
      const events = await new EventReader(res).take(2);
      expect(JSON.parse(events[1]!.data)).toEqual({ jsonrpc: '2.0', id, result: { content: [] } });
    };
    await one(100); // the first stream may start the shared keepalive timer
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    for (let i = 0; i < CALLS; i++) await one(101 + i);
    expect(setIntervalSpy.mock.calls.length).toBeLessThanOrEqual(1);
  });
});
