/**
 * What the Hub's tests share: a fake host connection, an in-memory "Durable Object" (World: SQLite
 * and the open sockets), two servers, and helpers to say frames, answer requests and await errors.
 */
import { DatabaseSync } from 'node:sqlite';
import { expect, vi } from 'vitest';
import { PROTOCOL_VERSION, WHOLE_MESSAGE_CHARS } from '../../shared/constants.ts';
import { GatewayError, type ErrorCode } from '../../shared/errors.ts';
import { DEFAULT_LIMITS, encodeFrame, FrameDecoder } from '../../shared/framing.ts';
import type { Frame, FrameOf, ServerInfo } from '../../shared/protocol.ts';
import { LIMITS } from './test-world.ts';
import { Hub, type HostConnection, type HubRuntime, type SqlValue, type ToolCall, type HubLimits } from './hub.ts';

/** A host's WebSocket as the Hub sees it; records what the Hub sends and whether it closed it. */
export class FakeConnection implements HostConnection {
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

/** The limits of the other Hub tests, with room for many sessions per principal. */
export const TEST_LIMITS: HubLimits = { ...LIMITS, maxSessionsPerPrincipal: 1000 };

/** An in-memory "Durable Object": a SQLite database and the set of open host sockets. */
export class World {
  readonly db = new DatabaseSync(':memory:');
  readonly conns: FakeConnection[] = [];
  readonly logs: { level: string; message: string }[] = [];
  clock = Date.parse('2026-01-01T00:00:00Z');
  #connCounter = 0;

  readonly runtime: HubRuntime = {
    sql: { exec: (query: string, ...params: SqlValue[]) => this.db.prepare(query).all(...params) as Record<string, SqlValue>[] },
    connectionsOf: (hostId) => this.conns.filter((c) => c.open && c.hostId === hostId),
    connectionOf: (hostId, connId) => this.conns.find((c) => c.open && c.hostId === hostId && c.connId === connId),
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

export const ECHO: ServerInfo = {
  name: 'echo',
  tools: [
    { name: 'echo', description: 'Echoes', inputSchema: { type: 'object' } },
    { name: 'add', inputSchema: { type: 'object' } },
  ],
};
export const OTHER: ServerInfo = { name: 'other', tools: [{ name: 'ping' }] };

export function hello(hostId: string, servers: ServerInfo[], version = PROTOCOL_VERSION): Frame {
  return { type: 'host.hello', version, hostId, servers };
}

export function say(hub: Hub, conn: HostConnection, frame: Frame): void {
  for (const message of encodeFrame(frame)) hub.onMessage(conn, message);
}

export function respond(hub: Hub, conn: HostConnection, id: string, answer: Omit<FrameOf<'rpc.response'>, 'type' | 'id'>): void {
  say(hub, conn, { type: 'rpc.response', id, ...answer });
}

export function call(hub: Hub, session: string, overrides: Partial<ToolCall> = {}): Promise<unknown> {
  return hub.callTool({ server: 'echo', session, principal: 'alice', tool: 'echo', args: { text: 'hi' }, timeoutMs: 5000, ...overrides });
}

/** Awaits `promise` expecting a GatewayError; returns it. */
export async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(GatewayError);
  return outcome.error as GatewayError;
}

export async function codeOf(promise: Promise<unknown>): Promise<ErrorCode> {
  return (await rejection(promise)).code;
}

/** Makes a call on `session`, answers it from whichever host got it, and returns that host's connection. */
export async function callAndAnswer(hub: Hub, hosts: FakeConnection[], session: string): Promise<FakeConnection> {
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
