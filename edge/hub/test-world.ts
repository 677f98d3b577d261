/**
 * A Hub's surroundings for tests in Node: SQLite storage and a host socket that outlive any one
 * Hub (as a Durable Object's do across hibernation), and a client's reading of SSE streams.
 */
import { DatabaseSync } from 'node:sqlite';
import { expect } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/constants.ts';
import { encodeFrame, FrameDecoder } from '../../shared/framing.ts';
import type { Frame, JsonRpcMessage } from '../../shared/protocol.ts';
import { Hub, type HostConnection, type HubLimits, type HubRuntime, type SqlValue } from './hub.ts';

export const LIMITS: HubLimits = {
  requestTimeoutMs: 5000,
  mcpIdleMs: 60_000,
  maxSessionsPerPrincipal: 100,
  backlog: 50,
  sse: { keepaliveMs: 60_000, maxQueuedBytes: 1024 * 1024 },
};

/** Storage and sockets that outlive any one Hub. */
export class Storage {
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
      connectionOf: (hostId, connId) => (hostId === 'laptop' && this.host.connId === connId ? this.host : undefined),
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

export function fromHost(hub: Hub, conn: HostConnection, frame: Frame): void {
  for (const text of encodeFrame(frame)) hub.onMessage(conn, text);
}

/** Reads SSE events (id and data) from a response body, as a client's parser would. */
export class EventReader {
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

export const note = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `event ${n}` } });
export const numbers = (events: { data: string }[]) => events.map((e) => (JSON.parse(e.data) as { params: { data: string } }).params.data);

export async function openSession(hub: Hub, host: HostConnection & { sent: Frame[] }): Promise<string> {
  const pending = hub.mcp.post({ server: 'echo', sessionId: null, principal: 'alice', message: { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, wantsSse: false });
  const relayed = host.sent.findLast((f) => f.type === 'mcp.message') as Extract<Frame, { type: 'mcp.message' }>;
  fromHost(hub, host, { type: 'mcp.message', server: 'echo', session: relayed.session, message: { jsonrpc: '2.0', id: 1, result: {} } });
  const res = await pending;
  expect(res.status).toBe(200);
  return res.headers.get('mcp-session-id')!;
}

/** A host that says hello with one server, `echo`. */
export function helloEcho(hub: Hub, storage: Storage): void {
  fromHost(hub, storage.host, { type: 'host.hello', version: PROTOCOL_VERSION, hostId: 'laptop', servers: [{ name: 'echo', tools: [] }] });
}
