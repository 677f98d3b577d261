/**
 * The Hub's logic, free of `cloudflare:workers`: routing of server sessions to hosts, REST
 * sessions, and calls in flight; host connections are in `host-links.ts`. The Durable Object in `object.ts` is a thin wrapper;
 * tests drive this class directly in Node with an in-memory SQLite and fake sockets.
 *
 * What must survive hibernation (hosts, their servers, routes, REST sessions) lives in SQL.
 * In-memory maps are caches of it, rebuilt on demand, or state (pending calls) that only lives
 * as long as the request that created it.
 */
import {
  CLOSE_SILENT,
  DEFAULT_CHUNK_TIMEOUT_MS,
  DEFAULT_MAX_CALLS_PER_PRINCIPAL,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PARK_TTL_MS,
} from '../../shared/constants.ts';
import { GatewayError, isErrorCode, RESOURCE_NOT_FOUND_RPC } from '../../shared/errors.ts';
import { chunkFrameText, encodeFrame, requestFrameText, sendingLimits } from '../../shared/framing.ts';
import type { FrameOf, Tool } from '../../shared/protocol.ts';
import { PendingRequests } from '../../shared/pending.ts';
import { randomId } from '../../shared/secure.ts';
import { Catalog, type CatalogEntry } from './catalog.ts';
import { HeartbeatWatch } from './heartbeat.ts';
import { HostGuards } from './host-guard.ts';
import { HostLinks, sendFrame } from './host-links.ts';
import type { TrustPorts } from './host-trust.ts';
import { SCHEMA } from './schema.ts';
import { Ticks } from './ticks.ts';
import { McpSessions } from './mcp-sessions.ts';
import { ModernCalls } from '../mcp2026/modern-calls.ts';
import { RestSessions } from './rest-sessions.ts';
import { healthOf, publicHealthOf, type HubHealth, type PublicHealth } from './status.ts';
import type { HistoryChoice } from './status-history.ts';
import { whatOf } from './outcome.ts';
import { Traffic, type HubFullStatus } from './traffic.ts';

export type { HubHealth, HubStatus, PublicHealth } from './status.ts';
export type { HistoryChoice } from './status-history.ts';
export type { HubFullStatus } from './traffic.ts';
export type { HostConnection, HubLimits, HubLogLevel, HubRuntime, HubSql, ServerRequest, SqlValue, ToolCall } from './types.ts';
import type { HostConnection, HubLimits, HubRuntime, ServerRequest, ToolCall } from './types.ts';



/** A REST call waiting for its host's answer: which connection it went to, for which server. */
interface CallMeta {
  connId: string;
  server: string;
}



export class Hub {
  readonly #rt: HubRuntime;
  readonly #pending = new PendingRequests<string, unknown, CallMeta>({ oneTimer: true });
  readonly #guards: HostGuards;
  readonly #trust: TrustPorts;
  /** REST calls in flight per principal. */
  readonly #inFlight = new Map<string, number>();
  readonly #bootId = randomId().slice(0, 8);
  #callCounter = 0;
  readonly #catalog: Catalog;
  readonly #links: HostLinks;
  /** "server\0session" -> host id. */
  readonly #routes = new Map<string, string>();
  readonly #restSessions: RestSessions;

  /** MCP client sessions (Streamable HTTP and HTTP+SSE). */
  readonly mcp: McpSessions;
  /** Stateless MCP 2026-07-28 requests. */
  readonly modern: ModernCalls;
  readonly #traffic: Traffic;
  readonly #limits: HubLimits;
  readonly #heartbeat: HeartbeatWatch;

  constructor(rt: HubRuntime, hubLimits: HubLimits) {
    // Every SSE stream of this Hub takes its keepalive and probe from one timer per period.
    const limits: HubLimits = { ...hubLimits, sse: { ...hubLimits.sse, ticks: hubLimits.sse.ticks ?? new Ticks({ linger: true }) } };
    this.#rt = rt;
    this.#limits = limits;
    this.#heartbeat = new HeartbeatWatch({
      now: rt.now,
      connections: () => this.#links.currentConnections(),
      busy: () => this.#pending.size > 0 || this.mcp.busy || this.modern.busy,
      log: rt.log,
      // Hosts before protocol 1.1 (recorded in old_hosts by ModernCalls) ping every 20 s.
      pingsSlowly: (conn) => rt.sql.exec('SELECT 1 FROM old_hosts WHERE host_id = ?', conn.hostId).length > 0,
      closed: (conn, reason) => this.onClose(conn, CLOSE_SILENT, reason),
    });
    this.#trust = { sql: rt.sql, liveConnection: (hostId) => this.#links.liveConnection(hostId), mcpHostOf: (session) => this.mcp.hostOf(session) };
    for (const statement of SCHEMA) rt.sql.exec(statement);
    this.#traffic = new Traffic(rt.sql, rt.now, rt.scheduleAlarm);
    this.#restSessions = new RestSessions(rt.sql, rt.now, limits.maxSessionsPerPrincipal);
    this.#catalog = new Catalog(rt.sql);
    this.#guards = new HostGuards(
      {
        helloTimeoutMs: limits.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
        chunkTimeoutMs: limits.chunkTimeoutMs ?? DEFAULT_CHUNK_TIMEOUT_MS,
        maxFrameChars: limits.maxFrameChars ?? DEFAULT_MAX_FRAME_BYTES,
      },
      rt.now,
      (conn, reason) => this.#links.closeForLimit(conn, reason),
    );
    this.mcp = new McpSessions(
      {
        sql: rt.sql,
        now: rt.now,
        pickHost: (server) => {
          const entry = this.#catalog.entry(server);
          rt.scheduleAlarm(limits.mcpIdleMs);
          this.#heartbeat.arm();
          return this.#pickHost(server, entry);
        },
        connectionOf: (hostId) => {
          this.#heartbeat.arm();
          return this.#links.liveConnection(hostId);
        },
        send: (conn, frame) => sendFrame(conn, frame),
        finished: (call) => this.#traffic.finished(call),
      },
      limits,
    );
    this.modern = new ModernCalls(
      {
        sql: rt.sql,
        now: rt.now,
        pickHost: (server) => {
          this.#heartbeat.arm();
          return this.#pickHost(server, this.#catalog.entry(server));
        },
        connectionOf: (hostId) => this.#links.liveConnection(hostId),
        send: (conn, frame) => sendFrame(conn, frame),
        finished: (call) => this.#traffic.finished(call),
      },
      {
        requestTimeoutMs: limits.requestTimeoutMs,
        parkTtlMs: limits.parkTtlMs ?? DEFAULT_PARK_TTL_MS,
        sse: limits.sse,
        maxCallsPerPrincipal: limits.maxCallsPerPrincipal ?? DEFAULT_MAX_CALLS_PER_PRINCIPAL,
      },
    );
    this.#links = new HostLinks({
      rt,
      guards: this.#guards,
      trust: this.#trust,
      catalog: this.#catalog,
      traffic: this.#traffic,
      heartbeat: this.#heartbeat,
      mcp: this.mcp,
      modern: this.modern,
      response: (conn, frame) => this.#onResponse(conn, frame),
      failCalls: (connId, message) => this.#failPending((p) => p.connId === connId, message),
      dropRoute: (server, session) => this.#dropRoute(server, session),
      routesGone: (hostId) => {
        for (const [key, host] of this.#routes) if (host === hostId) this.#routes.delete(key);
      },
    });
    this.#links.reconcile();
  }

  /** Periodic upkeep: writes the traffic history, ends idle MCP sessions, and asks to run again while any remain. */
  onAlarm(): void {
    this.#traffic.flush();
    if (this.mcp.reapIdle(this.#limits.mcpIdleMs) > 0) this.#rt.scheduleAlarm(this.#limits.mcpIdleMs);
  }


  // ---- host connections (host-links.ts) -----------------------------------------------------

  /** A host's WebSocket was accepted: its hello must follow within the deadline. */
  onOpen(conn: HostConnection): void {
    this.#guards.opened(conn);
  }

  onMessage(conn: HostConnection, text: string): void {
    this.#links.onMessage(conn, text);
    this.#heartbeat.sweepIfDue();
  }

  onClose(conn: HostConnection, code: number, reason: string): void {
    this.#links.onClose(conn, code, reason);
  }

  #onResponse(conn: HostConnection, frame: FrameOf<'rpc.response'>): void {
    if (this.modern.onResponse(conn, frame)) return;
    const call = this.#pending.meta(frame.id);
    // Timed out or cancelled already: nothing to do.
    if (!call) return;
    // An answer to a call this connection was never sent.
    if (call.connId !== conn.connId) return this.#links.dropForeign(conn, frame.type, call.server);
    if (frame.fault) {
      const code = isErrorCode(frame.fault.code) ? frame.fault.code : 'UPSTREAM_ERROR';
      this.#pending.reject(frame.id, new GatewayError(code, frame.fault.message));
    } else if (frame.error) {
      const { code, message } = frame.error;
      this.#pending.reject(
        frame.id,
        code === -32602
          ? new GatewayError('INVALID_ARGUMENTS', `server ${call.server} rejected the arguments: ${message}`)
          : code === RESOURCE_NOT_FOUND_RPC
            ? new GatewayError('NOT_FOUND', `server ${call.server} has no such resource: ${message}`)
            : new GatewayError('UPSTREAM_ERROR', `server ${call.server} answered with error ${code}: ${message}`),
      );
    } else {
      this.#pending.resolve(frame.id, frame.result);
    }
  }


  #failPending(match: (call: CallMeta) => boolean, message: string): void {
    this.#pending.rejectAll(() => new GatewayError('HOST_OFFLINE', message), match);
  }

  // ---- catalog ------------------------------------------------------------------------------


  // ---- REST sessions and calls --------------------------------------------------------------

  /** A new REST session; past the principal's cap, its least recently used session is ended for it. */
  createRestSession(principal: string): string {
    const { id, evicted, expired } = this.#restSessions.create(principal);
    if (evicted) this.#endRestSession(evicted);
    for (const old of expired) this.#endRestSession(old);
    return id;
  }

  /** DELETE /api/sessionid/{id}: ends the session and stops its processes (404 if not the principal's). */
  deleteRestSession(id: string, principal: string): void {
    this.#restSessions.remove(id, principal);
    this.#endRestSession(id);
  }

  /** Stops the processes a REST session runs, on whichever hosts. */
  #endRestSession(session: string): void {
    for (const row of this.#rt.sql.exec('SELECT server, host_id FROM routes WHERE session = ?', session)) {
      const server = String(row.server);
      const conn = this.#links.liveConnection(String(row.host_id));
      if (conn) sendFrame(conn, { type: 'session.close', server, session });
      this.#dropRoute(server, session);
    }
  }

  /** A tool call: the tool must exist and its arguments match its input schema (422 otherwise). */
  async callTool(call: ToolCall): Promise<unknown> {
    this.#catalog.checkCall(call.server, call.tool, call.args);
    const { tool: name, args, argsText, ...rest } = call;
    const paramsText = argsText === undefined ? undefined : `{"name":${JSON.stringify(name)},"arguments":${argsText}}`;
    return this.request({ ...rest, method: 'tools/call', params: { name, arguments: args }, ...(paramsText === undefined ? {} : { paramsText }) });
  }

  /** Every server some connected host offers, with its tools (for the OpenAPI document). */
  catalog(): { name: string; tools: Tool[] }[] {
    return this.#catalog.list();
  }

  /** The tools a server's hosts announced. */
  tools(server: string): Tool[] {
    return [...this.#catalog.entry(server).tools.values()];
  }

  /**
   * Runs one request on the session's process; without a session, on a fresh process that is
   * stopped as soon as the answer is in.
   */
  request(req: ServerRequest): Promise<unknown> {
    const inFlight = this.#inFlight.get(req.principal) ?? 0;
    const cap = this.#limits.maxCallsPerPrincipal ?? DEFAULT_MAX_CALLS_PER_PRINCIPAL;
    if (inFlight >= cap) return Promise.reject(new GatewayError('TOO_MANY_REQUESTS', `at most ${cap} calls in flight per client; wait for one to finish`));
    this.#inFlight.set(req.principal, inFlight + 1);
    const picked: { host: string | null } = { host: null };
    return this.#traffic.timed(req.server, whatOf(req.method, req.params), () => picked.host, () => this.#run(req, picked)).finally(() => {
      const left = (this.#inFlight.get(req.principal) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(req.principal, left);
      else this.#inFlight.delete(req.principal);
    });
  }

  async #run(req: ServerRequest, picked: { host: string | null }): Promise<unknown> {
    if (req.session !== null) this.#restSessions.touch(req.session, req.principal);
    const entry = this.#catalog.entry(req.server);
    if (req.session !== null) {
      const conn = this.#route(req.server, req.session, entry);
      picked.host = conn.hostId;
      return this.#request(conn, req.server, req.session, req, req.timeoutMs);
    }
    const session = `once-${randomId()}`;
    const conn = this.#pickHost(req.server, entry);
    picked.host = conn.hostId;
    try {
      return await this.#request(conn, req.server, session, req, req.timeoutMs);
    } finally {
      sendFrame(conn, { type: 'session.close', server: req.server, session });
    }
  }

  /** The connection to the host that runs (or will run) this server session. */
  #route(server: string, session: string, entry: CatalogEntry): HostConnection {
    const key = `${server}\u0000${session}`;
    let hostId = this.#routes.get(key);
    if (hostId === undefined) {
      const row = this.#rt.sql.exec('SELECT host_id FROM routes WHERE server = ? AND session = ?', server, session)[0];
      if (row) this.#routes.set(key, (hostId = String(row.host_id)));
    }
    if (hostId !== undefined && entry.hosts.includes(hostId)) {
      const conn = this.#links.liveConnection(hostId);
      if (conn) return conn;
    }
    // New session (or its host is gone).
    const conn = this.#pickHost(server, entry);
    this.#rt.sql.exec('INSERT OR REPLACE INTO routes (server, session, host_id) VALUES (?, ?, ?)', server, session, conn.hostId);
    this.#routes.set(key, conn.hostId);
    return conn;
  }

  /** A connected host for a new session of `server`: spread over the hosts that offer it. */
  #pickHost(server: string, entry: CatalogEntry): HostConnection {
    const start = Math.floor(Math.random() * entry.hosts.length);
    for (let i = 0; i < entry.hosts.length; i++) {
      const conn = this.#links.liveConnection(entry.hosts[(start + i) % entry.hosts.length]!);
      if (conn) return conn;
    }
    throw new GatewayError('HOST_OFFLINE', `no connected host offers server ${server} right now`);
  }

  #dropRoute(server: string, session: string): void {
    this.#routes.delete(`${server}\u0000${session}`);
    this.#rt.sql.exec('DELETE FROM routes WHERE server = ? AND session = ?', server, session);
  }

  #request(conn: HostConnection, server: string, session: string, { method, params, paramsText }: Pick<ServerRequest, 'method' | 'params' | 'paramsText'>, timeoutMs: number): Promise<unknown> {
    const id = `${this.#bootId}.${(++this.#callCounter).toString(36)}`;
    const frame: FrameOf<'rpc.request'> = { type: 'rpc.request', id, server, session, method, params, timeoutMs };
    const limits = sendingLimits(conn.maxMessageChars);
    const messages = paramsText === undefined ? encodeFrame(frame, limits) : chunkFrameText(requestFrameText(frame, paramsText), limits);
    // The edge owns the deadline: past it, the host is told to stop (rpc.cancel).
    const answer = this.#pending.wait(id, {
      meta: { connId: conn.connId, server },
      timeoutMs,
      onTimeout: () => {
        sendFrame(conn, { type: 'rpc.cancel', id, reason: 'deadline passed' });
        return new GatewayError('REQUEST_TIMEOUT', `server ${server} did not answer ${method} within ${timeoutMs} ms`);
      },
    });
    this.#heartbeat.arm();
    for (const message of messages) conn.send(message);
    return answer;
  }

  // ---- status -------------------------------------------------------------------------------

  health(): HubHealth {
    return healthOf(this.#rt.sql);
  }

  /** /health without credentials: up and ready, and counts only. */
  publicHealth(): PublicHealth {
    return publicHealthOf(this.health());
  }

  status(history: HistoryChoice = 'both'): HubFullStatus {
    return { ...this.#traffic.status(this.#pending.size, history), pendingFrameChars: this.#guards.pendingChars };
  }

  /** Entries the Hub holds in memory per session and per call: all of them must drain back to 0. */
  held(): { routes: number; restSessions: number; pendingCalls: number; principalsInFlight: number } {
    return { routes: this.#routes.size, restSessions: this.#restSessions.remembered, pendingCalls: this.#pending.size, principalsInFlight: this.#inFlight.size };
  }

  /** Ends any session (the status page's button): its processes stop, its next request is 404. */
  endSession(id: string): boolean {
    if (this.mcp.end(id, 'ended from the status page')) return true;
    if (!this.#restSessions.end(id)) return false;
    this.#endRestSession(id);
    return true;
  }
}
