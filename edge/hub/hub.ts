/**
 * The Hub's logic, free of `cloudflare:workers`: host connections, routing of server sessions to
 * hosts, REST sessions, and calls in flight. The Durable Object in `object.ts` is a thin wrapper;
 * tests drive this class directly in Node with an in-memory SQLite and fake sockets.
 *
 * What must survive hibernation (hosts, their servers, routes, REST sessions) lives in SQL.
 * In-memory maps are caches of it, rebuilt on demand, or state (pending calls) that only lives
 * as long as the request that created it.
 */
import { CLOSE_BAD_HELLO, CLOSE_FORBIDDEN, CLOSE_PROTOCOL_MISMATCH, PROTOCOL_VERSION } from '../../shared/constants.ts';
import { GatewayError, isErrorCode } from '../../shared/errors.ts';
import { encodeFrame, FrameDecoder } from '../../shared/framing.ts';
import { majorOf, type Frame, type FrameOf, type Tool } from '../../shared/protocol.ts';
import { PendingRequests } from '../../shared/pending.ts';
import { randomId } from '../../shared/secure.ts';
import { Catalog, type CatalogEntry } from './catalog.ts';
import { SCHEMA } from './schema.ts';
import { McpSessions } from './mcp-sessions.ts';
import { RestSessions } from './rest-sessions.ts';
import { healthOf, ServerStats, statusOf, type HubHealth, type HubStatus } from './status.ts';

export type { HubHealth, HubStatus } from './status.ts';
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
  readonly #decoders = new Map<string, FrameDecoder>();
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
  readonly #stats: ServerStats;
  readonly #limits: HubLimits;

  constructor(rt: HubRuntime, limits: HubLimits) {
    this.#rt = rt;
    this.#limits = limits;
    for (const statement of SCHEMA) rt.sql.exec(statement);
    this.#stats = new ServerStats(rt.sql, rt.now);
    this.#restSessions = new RestSessions(rt.sql, rt.now, limits.maxSessionsPerPrincipal);
    this.#catalog = new Catalog(rt.sql);
    this.mcp = new McpSessions(
      {
        sql: rt.sql,
        now: rt.now,
        pickHost: (server) => {
          const entry = this.#catalog.entry(server);
          rt.scheduleAlarm(limits.mcpIdleMs);
          return this.#pickHost(server, entry);
        },
        connectionOf: (hostId) => this.#liveConnection(hostId),
        send: (conn, frame) => this.#send(conn, frame),
        count: (server, ok) => this.#count(server, ok),
      },
      limits,
    );
    this.#reconcile();
  }

  /** Periodic upkeep: ends idle MCP sessions, and asks to run again while any remain. */
  onAlarm(): void {
    if (this.mcp.reapIdle(this.#limits.mcpIdleMs) > 0) this.#rt.scheduleAlarm(this.#limits.mcpIdleMs);
  }

  /** Forget hosts whose connection did not survive (a restart drops every WebSocket). */
  #reconcile(): void {
    const live = new Set(this.#rt.liveConnIds());
    for (const row of this.#rt.sql.exec('SELECT id, conn_id FROM hosts')) {
      if (!live.has(String(row.conn_id))) this.#forgetHost(String(row.id));
    }
  }

  // ---- host connections -------------------------------------------------------------------

  onMessage(conn: HostConnection, text: string): void {
    let frame: Frame | null;
    try {
      frame = this.#decoder(conn).decode(text);
    } catch (err) {
      const error = err instanceof GatewayError ? err : new GatewayError('BAD_FRAME', String(err));
      this.#rt.log('warn', 'bad frame from host', { host: conn.hostId, code: error.code, reason: error.message });
      this.#send(conn, { type: 'frame.error', code: error.code, message: error.message });
      return;
    }
    if (frame) this.#dispatch(conn, frame);
  }

  onClose(conn: HostConnection, code: number, reason: string): void {
    this.#decoders.delete(conn.connId);
    this.#failPending((p) => p.connId === conn.connId, `host ${conn.hostId} disconnected during the call`);
    if (this.#currentConn(conn.hostId) === conn.connId) {
      this.#forgetHost(conn.hostId);
      this.#rt.log('info', 'host disconnected', { host: conn.hostId, code, reason });
    }
  }

  #decoder(conn: HostConnection): FrameDecoder {
    let decoder = this.#decoders.get(conn.connId);
    if (!decoder) this.#decoders.set(conn.connId, (decoder = new FrameDecoder()));
    return decoder;
  }

  #dispatch(conn: HostConnection, frame: Frame): void {
    if (frame.type === 'host.hello') return this.#onHello(conn, frame);
    if (this.#currentConn(conn.hostId) !== conn.connId) {
      this.#send(conn, { type: 'frame.error', code: 'BAD_FRAME', message: `expected host.hello first, got ${frame.type}` });
      return;
    }
    switch (frame.type) {
      case 'rpc.response':
        return this.#onResponse(conn, frame);
      case 'session.closed':
        this.#dropRoute(frame.server, frame.session);
        this.mcp.onSessionClosed(frame.session, frame.reason);
        return;
      case 'mcp.message':
        this.mcp.onServerMessage(frame.session, frame.message);
        return;
      case 'server.update':
        return this.#onServerUpdate(conn, frame.server);
      case 'host.stats':
        this.#stats.host(conn.hostId, { sessions: frame.sessions, pooled: frame.pooled, watching: frame.watching });
        return;
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
    const refused = conn.allowedServers && hello.servers.find((s) => !conn.allowedServers!.includes(s.name));
    if (refused) {
      const message = `this host's token may not announce server ${refused.name} (allowed: ${conn.allowedServers!.join(', ') || 'none'})`;
      this.#send(conn, { type: 'frame.error', code: 'FORBIDDEN', message });
      this.#rt.log('warn', 'host refused: server not allowed for its token', { host: conn.hostId, server: refused.name });
      conn.close(CLOSE_FORBIDDEN, message.slice(0, 120));
      return;
    }
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
    this.#hostConns?.set(conn.hostId, conn.connId);
    this.#catalog.invalidate();
    this.#send(conn, { type: 'host.welcome', version: PROTOCOL_VERSION });
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
    this.#catalog.invalidate();
    this.#rt.log('info', 'server tools changed', { host: conn.hostId, server: server.name, tools: server.tools.length });
  }

  #onResponse(conn: HostConnection, frame: FrameOf<'rpc.response'>): void {
    const call = this.#pending.meta(frame.id);
    // Timed out or cancelled already, or an answer to a call this connection was never sent.
    if (!call || call.connId !== conn.connId) return;
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
    this.#stats.forgetHost(hostId);
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
    return connId ? this.#rt.connectionsOf(hostId).find((c) => c.connId === connId) : undefined;
  }

  #send(conn: HostConnection, frame: Frame): void {
    for (const message of encodeFrame(frame)) conn.send(message);
  }

  #failPending(match: (call: CallMeta) => boolean, message: string): void {
    this.#pending.rejectAll(() => new GatewayError('HOST_OFFLINE', message), match);
  }

  // ---- catalog ------------------------------------------------------------------------------


  // ---- REST sessions and calls --------------------------------------------------------------

  createRestSession(principal: string): string {
    return this.#restSessions.create(principal);
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
  async request(req: ServerRequest): Promise<unknown> {
    try {
      const result = await this.#run(req);
      this.#count(req.server, true);
      return result;
    } catch (err) {
      if (err instanceof GatewayError && err.code !== 'SESSION_NOT_FOUND' && err.code !== 'SERVER_NOT_FOUND') this.#count(req.server, false);
      throw err;
    }
  }

  async #run(req: ServerRequest): Promise<unknown> {
    if (req.session !== null) this.#restSessions.touch(req.session, req.principal);
    const entry = this.#catalog.entry(req.server);
    if (req.session !== null) {
      const conn = this.#route(req.server, req.session, entry);
      return this.#request(conn, req.server, req.session, req.method, req.params, req.timeoutMs);
    }
    const session = `once-${randomId()}`;
    const conn = this.#pickHost(req.server, entry);
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
    for (const message of messages) conn.send(message);
    return answer;
  }

  // ---- status -------------------------------------------------------------------------------

  health(): HubHealth {
    return healthOf(this.#rt.sql);
  }

  status(): HubStatus {
    return statusOf(this.#rt.sql, this.#stats, this.#rt.now(), this.#pending.size);
  }

  /** Counts one finished call of a server. */
  #count(server: string, ok: boolean): void {
    this.#stats.count(server, ok);
  }
}
