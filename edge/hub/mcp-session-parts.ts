/** The MCP client sessions' types and small pure helpers: ports, limits, session state, answer modes, JSON-RPC shapes. */
import type { GatewayError } from '../../shared/errors.ts';
import type { PendingRequests } from '../../shared/pending.ts';
import type { Frame, JsonRpcMessage } from '../../shared/protocol.ts';
import type { FinishedCall } from './outcome.ts';
import type { SseOptions, SseStream } from './sse.ts';
import type { HostConnection, HubSql } from './types.ts';

export type Transport = 'streamable' | 'sse';

/** What the sessions need from the Hub. */
export interface McpPorts {
  sql: HubSql;
  now(): number;
  /** A connected host that offers `server`, for a new session (throws HOST_OFFLINE / SERVER_NOT_FOUND). */
  pickHost(server: string): HostConnection;
  /** The current connection of a host, if it is connected. */
  connectionOf(hostId: string): HostConnection | undefined;
  send(conn: HostConnection, frame: Frame): void;
  /** Counts one answered request of a server (for /status and its history). */
  finished(call: FinishedCall): void;
}

export interface McpLimits {
  requestTimeoutMs: number;
  maxSessionsPerPrincipal: number;
  sse: SseOptions;
  /** Events kept per session for replay. */
  backlog: number;
  /** Characters those events may hold together (default SSE_BACKLOG_CHARS). */
  backlogChars?: number;
  /** Requests one principal may have in flight at once, REST calls and MCP requests each (default 64); past it: 429. */
  maxCallsPerPrincipal?: number;
}

/** A client request waiting for the server's response: the stream it goes on (none: one JSON body). */
export interface Waiter {
  stream?: SseStream;
  /** Turns a pending JSON answer into an SSE stream (the first message for it that is not the answer). */
  upgrade?: () => SseStream;
  progressToken?: unknown;
  method: string;
  startedAt: number;
}

export interface Live {
  id: string;
  server: string;
  principal: string;
  hostId: string;
  transport: Transport;
  main?: SseStream;
  /**
   * Client requests in flight, by JSON-RPC id; each resolves with its response's JSON text (an
   * HTTP+SSE request's answer goes on the session's stream: its waiter only counts and times it).
   */
  waiters: PendingRequests<string, string, Waiter>;
  /** When `last_used` was last written to storage, and the last use (which may be newer). */
  touchedAt?: number;
  usedAt?: number;
}

export interface PostRequest {
  server: string;
  sessionId: string | null;
  principal: string;
  message: JsonRpcMessage;
  wantsSse: boolean;
  /** With wantsSse: JSON is fine too, so the answer is JSON unless a message must be streamed before it. */
  jsonToo?: boolean;
}

/**
 * A legacy stream's client is checked this often: its disconnect ends the session and stops its
 * process, and is noticed within two writes of it (the first may still be accepted).
 */
export const LEGACY_PROBE_MS = 400;

/**
 * How a request's answer goes back: on an SSE stream, as one JSON body, or (the client takes
 * either) as JSON unless a message for the request, or one with nowhere else to go, comes first.
 */
export type AnswerMode = 'sse' | 'json' | 'either';

export function answerMode(req: PostRequest): AnswerMode {
  return !req.wantsSse ? 'json' : req.jsonToo ? 'either' : 'sse';
}

/** The waiter's stream, opened now if its answer was going to be JSON. */
export function streamOf(waiter: Waiter): SseStream | undefined {
  return waiter.stream ?? waiter.upgrade?.();
}

/** How often, at most, a session's last use is written to storage. */
export const TOUCH_EVERY_MS = 5000;

/** What a client that lost a stream is told to wait before reconnecting (the SSE `retry` field). */
export const RECONNECT_AFTER_MS = 1000;

export { SSE_HEADERS } from './sse.ts';

export const idKey = (id: unknown) => JSON.stringify(id);

/** The JSON-RPC error response a client gets for a request the gateway gave up on. */
export function errorText(id: unknown, err: GatewayError): string {
  return JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code: err.code === 'REQUEST_TIMEOUT' ? -32001 : -32000, message: err.message } });
}
export const isRequest = (m: JsonRpcMessage) => typeof m.method === 'string' && m.id !== undefined && m.id !== null;
export const isResponse = (m: JsonRpcMessage) => m.method === undefined && m.id !== undefined && m.id !== null;

/** The sessions held in memory, by id and by principal (so a request counts its principal's calls in flight without a pass over every session). */
export class LiveSessions {
  readonly #byId = new Map<string, Live>();
  readonly #byPrincipal = new Map<string, Set<Live>>();

  get(id: string): Live | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  values(): IterableIterator<Live> {
    return this.#byId.values();
  }

  ofPrincipal(principal: string): Iterable<Live> {
    return this.#byPrincipal.get(principal) ?? [];
  }

  /** The client requests a principal has in flight, over all its sessions. */
  requestsInFlight(principal: string): number {
    let n = 0;
    for (const live of this.ofPrincipal(principal)) n += live.waiters.size;
    return n;
  }

  add(live: Live): void {
    this.#byId.set(live.id, live);
    const own = this.#byPrincipal.get(live.principal);
    if (own) own.add(live);
    else this.#byPrincipal.set(live.principal, new Set([live]));
  }

  delete(live: Live): void {
    this.#byId.delete(live.id);
    const own = this.#byPrincipal.get(live.principal);
    own?.delete(live);
    if (own?.size === 0) this.#byPrincipal.delete(live.principal);
  }
}
