/**
 * The Hub's logic, free of `cloudflare:workers`: host connections, routing of server sessions to
 * hosts, REST sessions, and calls in flight. The Durable Object in `object.ts` is a thin wrapper;
 * tests drive this class directly in Node with an in-memory SQLite and fake sockets.
 *
 * What must survive hibernation (hosts, their servers, routes, REST sessions) lives in SQL.
 * In-memory maps are caches of it, rebuilt on demand, or state (pending calls) that only lives
 * as long as the request that created it.
 */
import {
  CLOSE_BAD_HELLO,
  CLOSE_FORBIDDEN,
  CLOSE_LIMIT,
  CLOSE_PROTOCOL_MISMATCH,
  CLOSE_REPLACED,
  CLOSE_SILENT,
  DEFAULT_CHUNK_TIMEOUT_MS,
  DEFAULT_MAX_CALLS_PER_PRINCIPAL,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PARK_TTL_MS,
  PROTOCOL_VERSION,
} from '../../shared/constants.ts';
import { GatewayError, isErrorCode } from '../../shared/errors.ts';
import { encodeFrame, FrameLimitError } from '../../shared/framing.ts';
import { majorOf, type Frame, type FrameOf, type Tool } from '../../shared/protocol.ts';
import { PendingRequests } from '../../shared/pending.ts';
import { randomId } from '../../shared/secure.ts';
import { Catalog, type CatalogEntry } from './catalog.ts';
import { HeartbeatWatch } from './heartbeat.ts';
import { HostGuards } from './host-guard.ts';
import { hostIdRefusal, ownsSession, serversRefusal, type Refusal, type TrustPorts } from './host-trust.ts';
import { SCHEMA } from './schema.ts';
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
  readonly #pending = new PendingRequests<string, unknown, CallMeta>();
  readonly #guards: HostGuards;
  readonly #trust: TrustPorts;
  /** REST calls in flight per principal. */
  readonly #inFlight = new Map<string, number>();
  readonly #bootId = randomId().slice(0, 8);
  #callCounter = 0;
  readonly #catalog: Catalog;
  /** host id -> the connId its current hello came from. */
  #hostConns: Map<string, string> | null = null;
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

  constructor(rt: HubRuntime, limits: HubLimits) {
    this.#rt = rt;
    this.#limits = limits;
    this.#heartbeat = new HeartbeatWatch({
      now: rt.now,
      connections: () => this.#currentConnections(),
      busy: () => this.#pending.size > 0 || this.mcp.busy || this.modern.busy,
      log: rt.log,
      // Hosts before protocol 1.1 (recorded in old_hosts by ModernCalls) ping every 20 s.
      pingsSlowly: (conn) => rt.sql.exec('SELECT 1 FROM old_hosts WHERE host_id = ?', conn.hostId).length > 0,
      closed: (conn, reason) => this.onClose(conn, CLOSE_SILENT, reason),
    });
    this.#trust = { sql: rt.sql, liveConnection: (hostId) => this.#liveConnection(hostId), mcpHostOf: (session) => this.mcp.hostOf(session) };
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
      (conn, reason) => this.#closeForLimit(conn, reason),
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
          return this.#liveConnection(hostId);
        },
        send: (conn, frame) => this.#send(conn, frame),
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
        connectionOf: (hostId) => this.#liveConnection(hostId),
        send: (conn, frame) => this.#send(conn, frame),
        finished: (call) => this.#traffic.finished(call),
      },
      {
        requestTimeoutMs: limits.requestTimeoutMs,
        parkTtlMs: limits.parkTtlMs ?? DEFAULT_PARK_TTL_MS,
        sse: limits.sse,
        maxCallsPerPrincipal: limits.maxCallsPerPrincipal ?? DEFAULT_MAX_CALLS_PER_PRINCIPAL,
      },
    );
    this.#reconcile();
  }

  /** Periodic upkeep: writes the traffic history, ends idle MCP sessions, and asks to run again while any remain. */
  onAlarm(): void {
    this.#traffic.flush();
    if (this.mcp.reapIdle(this.#limits.mcpIdleMs) > 0) this.#rt.scheduleAlarm(this.#limits.mcpIdleMs);
  }

  /** Forget hosts whose connection did not survive (a restart drops every WebSocket). */
  #reconcile(): void {
    const live = new Set(this.#rt.liveConnIds());
    for (const row of this.#rt.sql.exec('SELECT id, conn_id FROM hosts')) {
      if (live.has(String(row.conn_id))) continue;
      this.#forgetHost(String(row.id));
      this.#traffic.hostDropped(String(row.id), null);
    }
  }

  // ---- host connections -------------------------------------------------------------------

  /** A host's WebSocket was accepted: its hello must follow within the deadline. */
  onOpen(conn: HostConnection): void {
    this.#guards.opened(conn);
  }

  onMessage(conn: HostConnection, text: string): void {
    let frame: Frame | null;
    try {
      frame = this.#guards.decoder(conn).decode(text);
    } catch (err) {
      if (err instanceof FrameLimitError) return this.#closeForLimit(conn, err.message);
      const error = err instanceof GatewayError ? err : new GatewayError('BAD_FRAME', String(err));
      if (this.#guards.mayLog(conn.connId)) this.#rt.log('warn', 'bad frame from host', { host: conn.hostId, code: error.code, reason: error.message });
      this.#send(conn, { type: 'frame.error', code: error.code, message: error.message });
      return;
    }
    if (frame) this.#dispatch(conn, frame);
    this.#guards.checked(conn);
  }

  /** A connection past one of its limits: closed with the reason, and everything it held freed. */
  #closeForLimit(conn: HostConnection, reason: string): void {
    this.#rt.log('warn', 'host connection closed: over a limit', { host: conn.hostId, reason });
    this.#send(conn, { type: 'frame.error', code: 'FRAME_TOO_LARGE', message: reason });
    conn.close(CLOSE_LIMIT, reason.slice(0, 120));
    this.onClose(conn, CLOSE_LIMIT, reason);
  }

  onClose(conn: HostConnection, code: number, reason: string): void {
    this.#guards.closed(conn.connId);
    this.modern.onConnectionClosed(conn.connId);
    const what = code === CLOSE_SILENT ? `went silent (${reason})` : 'disconnected';
    this.#failPending((p) => p.connId === conn.connId, `host ${conn.hostId} ${what} during the call`);
    if (this.#currentConn(conn.hostId) === conn.connId) {
      this.#forgetHost(conn.hostId);
      this.#traffic.hostDropped(conn.hostId, code);
      this.#rt.log('info', 'host disconnected', { host: conn.hostId, code, reason });
    }
  }

  #dispatch(conn: HostConnection, frame: Frame): void {
    if (frame.type === 'host.hello') return this.#onHello(conn, frame);
    if (this.#currentConn(conn.hostId) !== conn.connId) {
      // Nothing but a hello until one is accepted; a replaced connection is closing anyway.
      const message = `expected host.hello first, got ${frame.type}`;
      this.#send(conn, { type: 'frame.error', code: 'BAD_FRAME', message });
      this.#rt.log('warn', 'host connection closed: a frame before its hello', { host: conn.hostId, type: frame.type });
      conn.close(CLOSE_BAD_HELLO, message.slice(0, 120));
      this.onClose(conn, CLOSE_BAD_HELLO, message);
      return;
    }
    switch (frame.type) {
      case 'rpc.response':
        return this.#onResponse(conn, frame);
      case 'session.closed':
        if (!ownsSession(this.#trust, conn, frame.server, frame.session)) return this.#dropForeign(conn, frame.type, frame.server);
        this.#dropRoute(frame.server, frame.session);
        this.mcp.onSessionClosed(frame.session, frame.reason);
        return;
      case 'mcp.message':
        if (this.mcp.hostOf(frame.session) !== conn.hostId) return this.#dropForeign(conn, frame.type, frame.server);
        this.mcp.onServerMessage(frame.session, frame.message);
        return;
      case 'server.update':
        return this.#onServerUpdate(conn, frame.server);
      case 'host.stats':
        this.#traffic.hostProcesses(conn.hostId, { sessions: frame.sessions, pooled: frame.pooled, watching: frame.watching });
        return;
      case 'modern.input':
        return this.modern.onInput(conn, frame);
      case 'modern.event':
        return this.modern.onEvent(conn, frame);
      case 'modern.changed':
        return this.modern.listChanged(frame.server, frame.list);
      case 'rpc.notify':
        // Progress and log notifications for REST calls have nobody to go to.
        return;
      case 'frame.error':
        this.#rt.log('warn', 'host reported a bad frame', { host: conn.hostId, code: frame.code, reason: frame.message });
        return;
      default:
        this.#send(conn, { type: 'frame.error', code: 'BAD_FRAME', message: `a host may not send ${frame.type}` });
    }
  }

  /** A frame about something another connection owns: dropped, and logged a few times a minute. */
  #dropForeign(conn: HostConnection, type: string, server: string): void {
    if (this.#guards.mayLog(conn.connId)) {
      this.#rt.log('warn', 'dropped a frame about what another host owns', { host: conn.hostId, type, server });
    }
  }

  /** Tells a host why it is refused, logs it, closes its connection and forgets it. */
  #refuse(conn: HostConnection, refusal: Refusal): void {
    this.#send(conn, { type: 'frame.error', code: 'FORBIDDEN', message: refusal.message });
    this.#rt.log('warn', refusal.log, { host: conn.hostId, ...(refusal.server ? { server: refusal.server } : {}) });
    conn.close(CLOSE_FORBIDDEN, refusal.message.slice(0, 120));
    this.onClose(conn, CLOSE_FORBIDDEN, refusal.message);
  }

  #onHello(conn: HostConnection, hello: FrameOf<'host.hello'>): void {
    if (majorOf(hello.version) !== majorOf(PROTOCOL_VERSION)) {
      const message = `host speaks protocol ${hello.version}, this edge speaks ${PROTOCOL_VERSION}: run the same major version of mcp-gateway on both`;
      this.#send(conn, { type: 'frame.error', code: 'PROTOCOL_MISMATCH', message });
      this.#rt.log('warn', 'host refused: protocol mismatch', { host: conn.hostId, version: hello.version });
      conn.close(CLOSE_PROTOCOL_MISMATCH, message.slice(0, 120));
      return;
    }
    if (hello.hostId !== conn.hostId) {
      const message = `hello names host ${hello.hostId} but the connection was opened as ${conn.hostId}`;
      this.#send(conn, { type: 'frame.error', code: 'BAD_HELLO', message });
      conn.close(CLOSE_BAD_HELLO, 'host id mismatch');
      return;
    }
    const refusal = hostIdRefusal(this.#trust, conn) ?? serversRefusal(this.#trust, conn, hello.servers);
    if (refusal) return this.#refuse(conn, refusal);
    const previous = this.#currentConn(conn.hostId);
    if (previous && previous !== conn.connId) {
      this.#failPending((p) => p.connId === previous, `host ${conn.hostId} reconnected during the call`);
    }
    // A hello is a full restatement of the host: replace whatever was known of it.
    this.#forgetHost(conn.hostId);
    const { sql, now } = this.#rt;
    sql.exec('INSERT INTO hosts (id, conn_id, connected_at) VALUES (?, ?, ?)', conn.hostId, conn.connId, now());
    for (const server of hello.servers) {
      sql.exec(
        'INSERT INTO servers (name, host_id, tools, error) VALUES (?, ?, ?, ?)',
        server.name,
        conn.hostId,
        JSON.stringify(server.tools),
        server.error ?? null,
      );
      sql.exec('INSERT OR IGNORE INTO known_servers (name) VALUES (?)', server.name);
    }
    this.modern.onHello(conn.hostId, hello.servers, hello.version);
    this.#hostConns?.set(conn.hostId, conn.connId);
    this.#traffic.hostConnected(conn.hostId);
    this.#catalog.invalidate();
    this.#guards.welcomed(conn.connId);
    // Only now, after a valid hello from a token allowed this id, does the new connection replace the old.
    for (const old of this.#rt.connectionsOf(conn.hostId)) {
      if (old.connId === conn.connId) continue;
      this.#guards.closed(old.connId);
      old.close(CLOSE_REPLACED, 'replaced by a newer connection from the same host');
    }
    this.#send(conn, { type: 'host.welcome', version: PROTOCOL_VERSION, maxFrameChars: this.#guards.limits.maxFrameChars });
    this.#rt.log('info', 'host connected', { host: conn.hostId, servers: hello.servers.map((s) => s.name) });
  }

  /** A server's tools changed: the catalog (and so the OpenAPI document) follows. */
  #onServerUpdate(conn: HostConnection, server: FrameOf<'server.update'>['server']): void {
    const known = this.#rt.sql.exec('SELECT 1 FROM servers WHERE name = ? AND host_id = ?', server.name, conn.hostId).length > 0;
    if (!known) {
      this.#send(conn, { type: 'frame.error', code: 'BAD_FRAME', message: `server ${server.name} was not in this host's hello` });
      return;
    }
    this.#rt.sql.exec('UPDATE servers SET tools = ?, error = ? WHERE name = ? AND host_id = ?', JSON.stringify(server.tools), server.error ?? null, server.name, conn.hostId);
    this.modern.onServerUpdate(conn.hostId, server);
    this.modern.listChanged(server.name, 'tools');
    this.#catalog.invalidate();
    this.#rt.log('info', 'server tools changed', { host: conn.hostId, server: server.name, tools: server.tools.length });
  }

  #onResponse(conn: HostConnection, frame: FrameOf<'rpc.response'>): void {
    if (this.modern.onResponse(conn, frame)) return;
    const call = this.#pending.meta(frame.id);
    // Timed out or cancelled already: nothing to do.
    if (!call) return;
    // An answer to a call this connection was never sent.
    if (call.connId !== conn.connId) return this.#dropForeign(conn, frame.type, call.server);
    if (frame.fault) {
      const code = isErrorCode(frame.fault.code) ? frame.fault.code : 'UPSTREAM_ERROR';
      this.#pending.reject(frame.id, new GatewayError(code, frame.fault.message));
    } else if (frame.error) {
      const { code, message } = frame.error;
      this.#pending.reject(
        frame.id,
        code === -32602
          ? new GatewayError('INVALID_ARGUMENTS', `server ${call.server} rejected the arguments: ${message}`)
          : new GatewayError('UPSTREAM_ERROR', `server ${call.server} answered with error ${code}: ${message}`),
      );
    } else {
      this.#pending.resolve(frame.id, frame.result);
    }
  }

  #forgetHost(hostId: string): void {
    const { sql } = this.#rt;
    sql.exec('DELETE FROM hosts WHERE id = ?', hostId);
    sql.exec('DELETE FROM servers WHERE host_id = ?', hostId);
    sql.exec('DELETE FROM routes WHERE host_id = ?', hostId);
    this.mcp.onHostGone(hostId);
    this.#traffic.hostGone(hostId);
    this.modern?.forgetHost(hostId);
    this.#hostConns?.delete(hostId);
    for (const [key, host] of this.#routes) if (host === hostId) this.#routes.delete(key);
    this.#catalog.invalidate();
  }

  #currentConn(hostId: string): string | undefined {
    if (!this.#hostConns) {
      this.#hostConns = new Map(this.#rt.sql.exec('SELECT id, conn_id FROM hosts').map((r) => [String(r.id), String(r.conn_id)]));
    }
    return this.#hostConns.get(hostId);
  }

  #liveConnection(hostId: string): HostConnection | undefined {
    const connId = this.#currentConn(hostId);
    const conn = connId ? this.#rt.connectionsOf(hostId).find((c) => c.connId === connId) : undefined;
    return conn && !this.#heartbeat.checkOne(conn) ? conn : undefined;
  }

  /** The current connection of every known host, silent or not. */
  #currentConnections(): HostConnection[] {
    this.#currentConn('');
    return [...this.#hostConns!].flatMap(([hostId, connId]) => this.#rt.connectionsOf(hostId).filter((c) => c.connId === connId));
  }


  #send(conn: HostConnection, frame: Frame): void {
    for (const message of encodeFrame(frame)) conn.send(message);
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
      const conn = this.#liveConnection(String(row.host_id));
      if (conn) this.#send(conn, { type: 'session.close', server, session });
      this.#dropRoute(server, session);
    }
  }

  /** A tool call: the tool must exist and its arguments match its input schema (422 otherwise). */
  async callTool(call: ToolCall): Promise<unknown> {
    this.#catalog.checkCall(call.server, call.tool, call.args);
    const { tool: name, args, ...rest } = call;
    return this.request({ ...rest, method: 'tools/call', params: { name, arguments: args } });
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
      return this.#request(conn, req.server, req.session, req.method, req.params, req.timeoutMs);
    }
    const session = `once-${randomId()}`;
    const conn = this.#pickHost(req.server, entry);
    picked.host = conn.hostId;
    try {
      return await this.#request(conn, req.server, session, req.method, req.params, req.timeoutMs);
    } finally {
      this.#send(conn, { type: 'session.close', server: req.server, session });
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
      const conn = this.#liveConnection(hostId);
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
      const conn = this.#liveConnection(entry.hosts[(start + i) % entry.hosts.length]!);
      if (conn) return conn;
    }
    throw new GatewayError('HOST_OFFLINE', `no connected host offers server ${server} right now`);
  }

  #dropRoute(server: string, session: string): void {
    this.#routes.delete(`${server}\u0000${session}`);
    this.#rt.sql.exec('DELETE FROM routes WHERE server = ? AND session = ?', server, session);
  }

  #request(conn: HostConnection, server: string, session: string, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const id = `${this.#bootId}.${(++this.#callCounter).toString(36)}`;
    const messages = encodeFrame({ type: 'rpc.request', id, server, session, method, params, timeoutMs });
    // The edge owns the deadline: past it, the host is told to stop (rpc.cancel).
    const answer = this.#pending.wait(id, {
      meta: { connId: conn.connId, server },
      timeoutMs,
      onTimeout: () => {
        this.#send(conn, { type: 'rpc.cancel', id, reason: 'deadline passed' });
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
