/** The host side of the Hub: each host's WebSocket from open to close, its hello, and the frames it sends. */
import { CLOSE_BAD_HELLO, CLOSE_FORBIDDEN, CLOSE_LIMIT, CLOSE_PROTOCOL_MISMATCH, CLOSE_REPLACED, CLOSE_SILENT, PROTOCOL_VERSION } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import { chunkFrameText, encodeFrame, FrameLimitError, messageFrameText, sendingLimits, wholeCharsFor } from '../../shared/framing.ts';
import { majorOf, type Frame, type FrameOf } from '../../shared/protocol.ts';
import type { Catalog } from './catalog.ts';
import { hotFrame } from '../../shared/hot-frames.ts';
import { rememberHostText } from './host-text.ts';
import { clientTextOf } from './client-text.ts';
import type { HeartbeatWatch } from './heartbeat.ts';
import type { HostGuards } from './host-guard.ts';
import { hostIdRefusal, ownsSession, serversRefusal, type Refusal, type TrustPorts } from './host-trust.ts';
import type { McpSessions } from './mcp-sessions.ts';
import type { ModernCalls } from '../mcp2026/modern-calls.ts';
import type { Traffic } from './traffic.ts';
import type { HostConnection, HubRuntime } from './types.ts';

/** What the host side needs from the Hub: its parts, and the call side's reactions to host events. */
export interface HostLinkPorts {
  rt: HubRuntime;
  guards: HostGuards;
  trust: TrustPorts;
  catalog: Catalog;
  traffic: Traffic;
  heartbeat: HeartbeatWatch;
  mcp: McpSessions;
  modern: ModernCalls;
  /** An rpc.response from a host's current connection. */
  response(conn: HostConnection, frame: FrameOf<'rpc.response'>): void;
  /** Fails the REST calls in flight on a connection. */
  failCalls(connId: string, message: string): void;
  /** A server session ended: its route is forgotten. */
  dropRoute(server: string, session: string): void;
  /** A host is forgotten: so are the routes to it. */
  routesGone(hostId: string): void;
}

/** Sends a frame: whole, or as chunks past what the host takes in one message; a large client message as the client's text of it. */
export function sendFrame(conn: HostConnection, frame: Frame): void {
  const limits = sendingLimits(conn.maxMessageChars);
  const text = frame.type === 'mcp.message' ? clientTextOf(frame.message) : undefined;
  const messages = text === undefined || Object.keys(frame).length !== 4 ? encodeFrame(frame, limits) : chunkFrameText(messageFrameText(frame as FrameOf<'mcp.message'>, text), limits);
  for (const message of messages) conn.send(message);
}

export class HostLinks {
  readonly #p: HostLinkPorts;
  /** host id -> the connId its current hello came from. */
  #hostConns: Map<string, string> | null = null;

  constructor(ports: HostLinkPorts) {
    this.#p = ports;
  }

  /** Forget hosts whose connection did not survive (a restart drops every WebSocket). */
  reconcile(): void {
    const live = new Set(this.#p.rt.liveConnIds());
    for (const row of this.#p.rt.sql.exec('SELECT id, conn_id FROM hosts')) {
      if (live.has(String(row.conn_id))) continue;
      this.#forgetHost(String(row.id));
      this.#p.traffic.hostDropped(String(row.id), null);
    }
  }

  /** A host's WebSocket was accepted: its hello must follow within the deadline. */
  onOpen(conn: HostConnection): void {
    this.#p.guards.opened(conn);
  }

  onMessage(conn: HostConnection, message: string): void {
    let frame: Frame | undefined = hotFrame(message);
    if (frame) {
      rememberHostText(frame, message);
      return this.#dispatch(conn, frame);
    }
    try {
      const decoded = this.#p.guards.decoder(conn).decodeWithText(message);
      frame = decoded?.frame;
      // A large result or message goes on to its client as the host's text of it.
      if (decoded) rememberHostText(decoded.frame, decoded.text);
    } catch (err) {
      if (err instanceof FrameLimitError) return this.closeForLimit(conn, err.message);
      const error = err instanceof GatewayError ? err : new GatewayError('BAD_FRAME', String(err));
      if (this.#p.guards.mayLog(conn.connId)) this.#p.rt.log('warn', 'bad frame from host', { host: conn.hostId, code: error.code, reason: error.message });
      sendFrame(conn, { type: 'frame.error', code: error.code, message: error.message });
      return;
    }
    if (frame) this.#dispatch(conn, frame);
    this.#p.guards.checked(conn);
  }

  /** A connection past one of its limits: closed with the reason, and everything it held freed. */
  closeForLimit(conn: HostConnection, reason: string): void {
    this.#p.rt.log('warn', 'host connection closed: over a limit', { host: conn.hostId, reason });
    sendFrame(conn, { type: 'frame.error', code: 'FRAME_TOO_LARGE', message: reason });
    conn.close(CLOSE_LIMIT, reason.slice(0, 120));
    this.onClose(conn, CLOSE_LIMIT, reason);
  }

  onClose(conn: HostConnection, code: number, reason: string): void {
    this.#p.guards.closed(conn.connId);
    this.#p.modern.onConnectionClosed(conn.connId);
    const what = code === CLOSE_SILENT ? `went silent (${reason})` : 'disconnected';
    this.#p.failCalls(conn.connId, `host ${conn.hostId} ${what} during the call`);
    if (this.currentConn(conn.hostId) === conn.connId) {
      this.#forgetHost(conn.hostId);
      this.#p.traffic.hostDropped(conn.hostId, code);
      this.#p.rt.log('info', 'host disconnected', { host: conn.hostId, code, reason });
    }
  }

  #dispatch(conn: HostConnection, frame: Frame): void {
    if (frame.type === 'host.hello') return this.#onHello(conn, frame);
    if (this.currentConn(conn.hostId) !== conn.connId) {
      // Nothing but a hello until one is accepted; a replaced connection is closing anyway.
      const message = `expected host.hello first, got ${frame.type}`;
      sendFrame(conn, { type: 'frame.error', code: 'BAD_FRAME', message });
      this.#p.rt.log('warn', 'host connection closed: a frame before its hello', { host: conn.hostId, type: frame.type });
      conn.close(CLOSE_BAD_HELLO, message.slice(0, 120));
      this.onClose(conn, CLOSE_BAD_HELLO, message);
      return;
    }
    switch (frame.type) {
      case 'rpc.response':
        return this.#p.response(conn, frame);
      case 'session.closed':
        if (!ownsSession(this.#p.trust, conn, frame.server, frame.session)) return this.dropForeign(conn, frame.type, frame.server);
        this.#p.dropRoute(frame.server, frame.session);
        this.#p.mcp.onSessionClosed(frame.session, frame.reason);
        return;
      case 'mcp.message':
        if (this.#p.mcp.hostOf(frame.session) !== conn.hostId) return this.dropForeign(conn, frame.type, frame.server);
        this.#p.mcp.onServerMessage(frame.session, frame.message);
        return;
      case 'server.update':
        return this.#onServerUpdate(conn, frame.server);
      case 'host.stats':
        this.#p.traffic.hostProcesses(conn.hostId, { sessions: frame.sessions, pooled: frame.pooled, watching: frame.watching });
        return;
      case 'modern.input':
        return this.#p.modern.onInput(conn, frame);
      case 'modern.event':
        return this.#p.modern.onEvent(conn, frame);
      case 'modern.changed':
        return this.#p.modern.listChanged(frame.server, frame.list);
      case 'rpc.notify':
        // Progress and log notifications for REST calls have nobody to go to.
        return;
      case 'frame.error':
        this.#p.rt.log('warn', 'host reported a bad frame', { host: conn.hostId, code: frame.code, reason: frame.message });
        return;
      default:
        sendFrame(conn, { type: 'frame.error', code: 'BAD_FRAME', message: `a host may not send ${frame.type}` });
    }
  }

  /** A frame about something another connection owns: dropped, and logged a few times a minute. */
  dropForeign(conn: HostConnection, type: string, server: string): void {
    if (this.#p.guards.mayLog(conn.connId)) {
      this.#p.rt.log('warn', 'dropped a frame about what another host owns', { host: conn.hostId, type, server });
    }
  }

  /** Tells a host why it is refused, logs it, closes its connection and forgets it. */
  #refuse(conn: HostConnection, refusal: Refusal): void {
    sendFrame(conn, { type: 'frame.error', code: 'FORBIDDEN', message: refusal.message });
    this.#p.rt.log('warn', refusal.log, { host: conn.hostId, ...(refusal.server ? { server: refusal.server } : {}) });
    conn.close(CLOSE_FORBIDDEN, refusal.message.slice(0, 120));
    this.onClose(conn, CLOSE_FORBIDDEN, refusal.message);
  }

  #onHello(conn: HostConnection, hello: FrameOf<'host.hello'>): void {
    if (majorOf(hello.version) !== majorOf(PROTOCOL_VERSION)) {
      const message = `host speaks protocol ${hello.version}, this edge speaks ${PROTOCOL_VERSION}: run the same major version of mcp-gateway on both`;
      sendFrame(conn, { type: 'frame.error', code: 'PROTOCOL_MISMATCH', message });
      this.#p.rt.log('warn', 'host refused: protocol mismatch', { host: conn.hostId, version: hello.version });
      conn.close(CLOSE_PROTOCOL_MISMATCH, message.slice(0, 120));
      return;
    }
    if (hello.hostId !== conn.hostId) {
      const message = `hello names host ${hello.hostId} but the connection was opened as ${conn.hostId}`;
      sendFrame(conn, { type: 'frame.error', code: 'BAD_HELLO', message });
      conn.close(CLOSE_BAD_HELLO, 'host id mismatch');
      return;
    }
    const refusal = hostIdRefusal(this.#p.trust, conn) ?? serversRefusal(this.#p.trust, conn, hello.servers);
    if (refusal) return this.#refuse(conn, refusal);
    const previous = this.currentConn(conn.hostId);
    if (previous && previous !== conn.connId) {
      this.#p.failCalls(previous, `host ${conn.hostId} reconnected during the call`);
    }
    // A hello is a full restatement of the host: replace whatever was known of it.
    this.#forgetHost(conn.hostId);
    const { sql, now } = this.#p.rt;
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
    this.#p.modern.onHello(conn.hostId, hello.servers, hello.version);
    conn.maxMessageChars = hello.maxMessageChars === undefined ? undefined : wholeCharsFor(hello.maxMessageChars);
    this.#hostConns?.set(conn.hostId, conn.connId);
    this.#p.traffic.hostConnected(conn.hostId);
    this.#p.catalog.invalidate();
    this.#p.guards.welcomed(conn.connId);
    // Only now, after a valid hello from a token allowed this id, does the new connection replace the old.
    for (const old of this.#p.rt.connectionsOf(conn.hostId)) {
      if (old.connId === conn.connId) continue;
      this.#p.guards.closed(old.connId);
      old.close(CLOSE_REPLACED, 'replaced by a newer connection from the same host');
    }
    const { maxFrameChars, maxMessageChars } = this.#p.guards.limits;
    sendFrame(conn, { type: 'host.welcome', version: PROTOCOL_VERSION, maxFrameChars, maxMessageChars });
    this.#p.rt.log('info', 'host connected', { host: conn.hostId, servers: hello.servers.map((s) => s.name) });
  }

  /** A server's tools changed: the catalog (and so the OpenAPI document) follows. */
  #onServerUpdate(conn: HostConnection, server: FrameOf<'server.update'>['server']): void {
    const known = this.#p.rt.sql.exec('SELECT 1 FROM servers WHERE name = ? AND host_id = ?', server.name, conn.hostId).length > 0;
    if (!known) {
      sendFrame(conn, { type: 'frame.error', code: 'BAD_FRAME', message: `server ${server.name} was not in this host's hello` });
      return;
    }
    this.#p.rt.sql.exec('UPDATE servers SET tools = ?, error = ? WHERE name = ? AND host_id = ?', JSON.stringify(server.tools), server.error ?? null, server.name, conn.hostId);
    this.#p.modern.onServerUpdate(conn.hostId, server);
    this.#p.modern.listChanged(server.name, 'tools');
    this.#p.catalog.invalidate();
    this.#p.rt.log('info', 'server tools changed', { host: conn.hostId, server: server.name, tools: server.tools.length });
  }

  #forgetHost(hostId: string): void {
    const { sql } = this.#p.rt;
    sql.exec('DELETE FROM hosts WHERE id = ?', hostId);
    sql.exec('DELETE FROM servers WHERE host_id = ?', hostId);
    sql.exec('DELETE FROM routes WHERE host_id = ?', hostId);
    this.#p.mcp.onHostGone(hostId);
    this.#p.traffic.hostGone(hostId);
    this.#p.modern.forgetHost(hostId);
    this.#hostConns?.delete(hostId);
    this.#p.routesGone(hostId);
    this.#p.catalog.invalidate();
  }

  /** The connId of a host's current (hello-accepted) connection. */
  currentConn(hostId: string): string | undefined {
    if (!this.#hostConns) {
      this.#hostConns = new Map(this.#p.rt.sql.exec('SELECT id, conn_id FROM hosts').map((r) => [String(r.id), String(r.conn_id)]));
    }
    return this.#hostConns.get(hostId);
  }

  liveConnection(hostId: string): HostConnection | undefined {
    const connId = this.currentConn(hostId);
    if (!connId) return undefined;
    const conn = this.#p.rt.connectionOf(hostId, connId);
    return conn && !this.#p.heartbeat.checkOne(conn) ? conn : undefined;
  }

  /** The current connection of every known host, silent or not. */
  currentConnections(): HostConnection[] {
    this.currentConn('');
    return [...this.#hostConns!].flatMap(([hostId, connId]) => this.#p.rt.connectionOf(hostId, connId) ?? []);
  }
}
