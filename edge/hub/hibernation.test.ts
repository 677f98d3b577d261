/**
 * What a client or /status needs after the Hub is rebuilt (hibernation, eviction): the Hub is
 * built again over the same SQLite storage and the same open host sockets, with its memory gone,
 * as the Durable Object runtime does.
 */
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/constants.ts';
import { encodeFrame, FrameDecoder } from '../../shared/framing.ts';
import type { Frame, JsonRpcMessage } from '../../shared/protocol.ts';
import { Hub, type HostConnection, type HubLimits, type HubRuntime, type SqlValue } from './hub.ts';

const LIMITS: HubLimits = {
  requestTimeoutMs: 5000,
  mcpIdleMs: 60_000,
  maxSessionsPerPrincipal: 100,
  backlog: 50,
  sse: { keepaliveMs: 60_000, maxQueuedBytes: 1024 * 1024 },
};

/** Storage and sockets that outlive any one Hub. */
class Storage {
  readonly db = new DatabaseSync(':memory:');
  readonly host: HostConnection & { sent: Frame[] };
  readonly runtime: HubRuntime;

  constructor() {
    const decoder = new FrameDecoder();
    const sent: Frame[] = [];
    this.host = {
      hostId: 'laptop',
      connId: 'conn-1',
      sent,
      send: (text) => {
        const frame = decoder.decode(text);
        if (frame) sent.push(frame);
      },
      close: () => {},
    };
    this.runtime = {
      sql: { exec: (query: string, ...params: SqlValue[]) => this.db.prepare(query).all(...params) as Record<string, SqlValue>[] },
      connectionsOf: (hostId) => (hostId === 'laptop' ? [this.host] : []),
      liveConnIds: () => ['conn-1'],
      now: Date.now,
      log: () => {},
      scheduleAlarm: () => {},
    };
  }

  /** A Hub with empty memory over this storage. */
  hub(limits: HubLimits = LIMITS): Hub {
    return new Hub(this.runtime, limits);
  }
}

function fromHost(hub: Hub, conn: HostConnection, frame: Frame): void {
  for (const text of encodeFrame(frame)) hub.onMessage(conn, text);
}

/** Reads SSE events (id and data) from a response body, as a client's parser would. */
class EventReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';

  constructor(res: Response) {
    this.#reader = res.body!.getReader();
  }

  /** The next `count` events that carry data (the priming event carries none). */
  async take(count: number): Promise<{ id: number; data: string }[]> {
    const events: { id: number; data: string }[] = [];
    while (events.length < count) {
      const end = this.#buffer.indexOf('\n\n');
      if (end < 0) {
        const { value, done } = await this.#reader.read();
        if (done) throw new Error(`stream ended after ${events.length} of ${count} events`);
        this.#buffer += this.#decoder.decode(value, { stream: true });
        continue;
      }
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const id = /^id: (\d+)$/m.exec(block)?.[1];
      const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join('\n');
      if (id && data) events.push({ id: Number(id), data });
    }
    return events;
  }

  cancel(): void {
    void this.#reader.cancel();
  }
}

const note = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `event ${n}` } });
const numbers = (events: { data: string }[]) => events.map((e) => (JSON.parse(e.data) as { params: { data: string } }).params.data);

async function openSession(hub: Hub, host: HostConnection & { sent: Frame[] }): Promise<string> {
  const pending = hub.mcp.post({ server: 'echo', sessionId: null, principal: 'alice', message: { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, wantsSse: false });
  const relayed = host.sent.findLast((f) => f.type === 'mcp.message') as Extract<Frame, { type: 'mcp.message' }>;
  fromHost(hub, host, { type: 'mcp.message', server: 'echo', session: relayed.session, message: { jsonrpc: '2.0', id: 1, result: {} } });
  const res = await pending;
  expect(res.status).toBe(200);
  return res.headers.get('mcp-session-id')!;
}

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
