/**
 * What a client or /status needs after the Hub is rebuilt (hibernation, eviction): the Hub is
 * built again over the same SQLite storage and the same open host sockets, with its memory gone,
 * as the Durable Object runtime does.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/constants.ts';
import type { JsonRpcMessage } from '../../shared/protocol.ts';
import { EventReader, fromHost, LIMITS, note, numbers, openSession, Storage } from './test-world.ts';

describe('a Hub rebuilt over the same storage', () => {
  it('resumes a stream with Last-Event-ID: every event after it, none lost, no id reused', async () => {
    const storage = new Storage();
    const hub1 = storage.hub();
    fromHost(hub1, storage.host, { type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [{ name: 'echo', tools: [] }] });
    const session = await openSession(hub1, storage.host);

    const stream = new EventReader(hub1.mcp.openStream('echo', session, 'alice', null));
    for (let n = 1; n <= 5; n++) fromHost(hub1, storage.host, { type: 'mcp.message', server: 'echo', session, message: note(n) });
    const seen = await stream.take(3); // the client has read three events when the stream breaks
    expect(numbers(seen)).toEqual(['event 1', 'event 2', 'event 3']);
    stream.cancel();

    const hub2 = storage.hub(); // memory gone: the backlog and the id counter come from storage
    for (let n = 6; n <= 8; n++) fromHost(hub2, storage.host, { type: 'mcp.message', server: 'echo', session, message: note(n) });
    const resumed = await new EventReader(hub2.mcp.openStream('echo', session, 'alice', String(seen.at(-1)!.id))).take(5);
    expect(numbers(resumed)).toEqual(['event 4', 'event 5', 'event 6', 'event 7', 'event 8']);
    const ids = [...seen, ...resumed].map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);

    // Without Last-Event-ID, a new stream gets only what no stream has delivered yet: nothing here.
    const hub3 = storage.hub();
    fromHost(hub3, storage.host, { type: 'mcp.message', server: 'echo', session, message: note(9) });
    const fresh = await new EventReader(hub3.mcp.openStream('echo', session, 'alice', null)).take(1);
    expect(numbers(fresh)).toEqual(['event 9']);
    expect(fresh[0]!.id).toBeGreaterThan(ids.at(-1)!);
  });

  it('keeps the backlog within its bounds in events and characters, in storage too', async () => {
    const storage = new Storage();
    const limits = { ...LIMITS, backlog: 3, backlogChars: 10_000 };
    const hub1 = storage.hub(limits);
    fromHost(hub1, storage.host, { type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [{ name: 'echo', tools: [] }] });
    const session = await openSession(hub1, storage.host);
    for (let n = 1; n <= 6; n++) fromHost(hub1, storage.host, { type: 'mcp.message', server: 'echo', session, message: note(n) });
    const stored = () => Number((storage.db.prepare('SELECT count(*) AS n FROM mcp_events').get() as { n: number }).n);
    expect(stored()).toBe(3);
    const kept = await new EventReader(storage.hub(limits).mcp.openStream('echo', session, 'alice', '0')).take(3);
    expect(numbers(kept)).toEqual(['event 4', 'event 5', 'event 6']);

    const big: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x'.repeat(6000) } };
    const hub3 = storage.hub(limits);
    fromHost(hub3, storage.host, { type: 'mcp.message', server: 'echo', session, message: big });
    fromHost(hub3, storage.host, { type: 'mcp.message', server: 'echo', session, message: big });
    expect(stored()).toBe(1); // two of 6,000 characters do not fit in 10,000
  });

  it("ends a session's stored events with the session", async () => {
    const storage = new Storage();
    const hub = storage.hub();
    fromHost(hub, storage.host, { type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [{ name: 'echo', tools: [] }] });
    const session = await openSession(hub, storage.host);
    fromHost(hub, storage.host, { type: 'mcp.message', server: 'echo', session, message: note(1) });
    hub.mcp.delete('echo', session, 'alice');
    expect(storage.db.prepare('SELECT count(*) AS n FROM mcp_events').get()).toEqual({ n: 0 });
    expect(storage.db.prepare('SELECT count(*) AS n FROM mcp_event_ids').get()).toEqual({ n: 0 });
  });

  it('reports the process counts a host sent before, on /status', () => {
    const storage = new Storage();
    const hub1 = storage.hub();
    fromHost(hub1, storage.host, { type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [{ name: 'echo', tools: [] }] });
    fromHost(hub1, storage.host, { type: 'host.stats', sessions: 3, pooled: 2, watching: 1 });
    expect(storage.hub().status().hostProcesses).toEqual({ laptop: { sessions: 3, pooled: 2, watching: 1 } });
  });
});
