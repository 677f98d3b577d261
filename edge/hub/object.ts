/**
 * The Hub Durable Object: a thin wrapper that gives the Hub its storage, its host WebSockets
 * (hibernation API), and typed methods the Worker calls over Durable Object RPC. Failures come
 * back as results carrying their error code (rpc.ts); the Worker turns them into responses.
 */
import { DurableObject } from 'cloudflare:workers';
import {
  NAME_PATTERN,
  PING_TEXT,
  PONG_TEXT,
  SSE_BACKLOG_EVENTS,
  SSE_MAX_QUEUED_BYTES,
} from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import type { JsonRpcMessage, Tool } from '../../shared/protocol.ts';
import { randomId } from '../../shared/secure.ts';
import type { EdgeEnv } from '../env.ts';
import { edgeLog } from '../log.ts';
import { edgeLimits } from '../settings.ts';
import { Hub, type HistoryChoice, type HostConnection, type HubFullStatus, type PublicHealth, type SqlValue } from './hub.ts';
import type { Answer } from './answer.ts';
import { argumentsOf, passesAsText } from './rest-body.ts';
import { parseLargeMessage } from './client-text.ts';
import { restResultText } from './rest-result.ts';
import type { HostClaim } from './types.ts';
import { settle, type HubResult, type McpPost, type McpTarget, type RestServerRequest, type RestToolCall } from './rpc.ts';
import type { ModernRequest } from '../mcp2026/modern-calls.ts';

interface Attachment {
  hostId: string;
  connId: string;
  /** Server names the host's token may announce; null for any. */
  allowed: string[] | null;
  /** When the connection was accepted (ms since the epoch): its first sign of life. */
  openedAt?: number;
  /** A hash of the host token (never the token). */
  tokenId?: string;
  hostClaim?: HostClaim;
  mayShareServers?: boolean;
  /** The longest message the host takes, from its hello (kept here so that it outlives hibernation). */
  maxMessageChars?: number;
}

export class HubObject extends DurableObject<EdgeEnv> {
  readonly #hub: Hub;
  /** connId -> when its last frame arrived (lost on hibernation; pings are counted by the runtime). */
  readonly #lastFrame = new Map<string, number>();
  readonly #callTimeoutMs: number;
  /**
   * Each host's sockets as the runtime lists them (asked for on every call otherwise); dropped
   * when one of that host's sockets is accepted or closes. Readers still skip sockets not open.
   */
  readonly #sockets = new Map<string, WebSocket[]>();
  /** The Hub's view of each host socket, by socket object. */
  readonly #connections = new WeakMap<WebSocket, HostConnection>();
  readonly #maxResultChars: number;
  /** Alarm changes, one after another, so that the earliest asked for always wins. */
  #alarmChain: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    super(ctx, env);
    const limits = edgeLimits(env);
    this.#callTimeoutMs = limits.callTimeoutMs;
    this.#maxResultChars = limits.maxResultChars;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_TEXT, PONG_TEXT));
    const sql = ctx.storage.sql;
    this.#hub = new Hub({
      sql: { exec: (query: string, ...params: SqlValue[]) => sql.exec(query, ...params).toArray() as Record<string, SqlValue>[] },
      connectionsOf: (hostId) => this.#socketsOf(hostId).filter(isOpen).map((ws) => this.#connection(ws)),
      connectionOf: (hostId, connId) => {
        for (const ws of this.#socketsOf(hostId)) {
          const conn = this.#connection(ws);
          if (conn.connId === connId) return isOpen(ws) ? conn : undefined;
        }
        return undefined;
      },
      liveConnIds: () => ctx.getWebSockets().filter(isOpen).map((ws) => attachmentOf(ws).connId),
      now: Date.now,
      log: edgeLog,
      scheduleAlarm: (delayMs) => {
        const wanted = Date.now() + delayMs;
        this.#alarmChain = this.#alarmChain
          .then(() => ctx.storage.getAlarm())
          .then((at) => (at === null || at > wanted ? ctx.storage.setAlarm(wanted) : undefined))
          .catch((err: unknown) => edgeLog('error', 'could not set the alarm', { error: String(err) }));
      },
    }, {
      requestTimeoutMs: this.#callTimeoutMs,
      mcpIdleMs: limits.mcpSessionIdleMs,
      maxSessionsPerPrincipal: limits.maxSessionsPerPrincipal,
      maxFrameChars: limits.maxFrameBytes,
      maxCallsPerPrincipal: limits.maxCallsPerPrincipal,
      backlog: SSE_BACKLOG_EVENTS,
      sse: { keepaliveMs: limits.sseKeepaliveMs, maxQueuedBytes: SSE_MAX_QUEUED_BYTES },
    });
    this.#logStart();
  }

  /** Logged on every start, first or after hibernation: the state it found in storage. */
  #logStart(): void {
    const health = this.#hub.health();
    edgeLog('info', 'hub started', { hosts: health.hosts.length, servers: health.servers.length });
  }

  override alarm(): void {
    this.#hub.onAlarm();
  }

  // ---- what the Worker calls (Durable Object RPC; see rpc.ts) ---------------------------------

  /** A host agent's WebSocket upgrade; the Worker has checked its token. */
  override fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname !== '/agent') return new Response(null, { status: 404 });
    const allowed = url.searchParams.get('servers');
    const claim = url.searchParams.get('claim');
    return this.#acceptHost(url.searchParams.get('host') ?? '', allowed === null ? null : allowed.split(',').filter(Boolean), {
      tokenId: url.searchParams.get('token') ?? undefined,
      hostClaim: claim === 'own' || claim === 'reserved' ? claim : 'any',
      mayShareServers: url.searchParams.get('share') === '1',
    });
  }

  /** A REST tool call; the value is the result as REST clients get it, as JSON text. */
  callTool(call: RestToolCall): Promise<HubResult<string>> {
    return settle(async () => {
      const { argsText, args: parsed, ...target } = call;
      const args = argsText === undefined ? (parsed ?? {}) : argumentsOf(argsText);
      // A large body goes on to the host as the client's text of it.
      const text = argsText !== undefined && passesAsText(argsText) ? { argsText } : {};
      const result = await this.#hub.callTool({ ...target, args, ...text, timeoutMs: this.#callTimeoutMs });
      return restResultText(result, this.#maxResultChars);
    });
  }

  /** resources/list, resources/read, prompts/list, prompts/get for REST clients. */
  serverRequest(req: RestServerRequest): Promise<HubResult<unknown>> {
    return settle(async () => (await this.#hub.request({ ...req, timeoutMs: this.#callTimeoutMs })) ?? {});
  }

  createRestSession(principal: string): Promise<HubResult<string>> {
    return settle(() => this.#hub.createRestSession(principal));
  }

  /** DELETE /api/sessionid/{id}: ends the principal's REST session and its processes. */
  deleteRestSession(session: string, principal: string): Promise<HubResult<null>> {
    return settle(() => {
      this.#hub.deleteRestSession(session, principal);
      return null;
    });
  }

  tools(server: string): Promise<HubResult<Tool[]>> {
    return settle(() => this.#hub.tools(server));
  }

  catalog(): { name: string; tools: Tool[] }[] {
    return this.#hub.catalog();
  }

  /** For /health without credentials: counts only. */
  health(): PublicHealth {
    return this.#hub.publicHealth();
  }

  /** GET /status: the current state, the traffic history (`history` picks its windows), live sessions. */
  status(history: HistoryChoice): HubFullStatus {
    return this.#hub.status(history);
  }

  /** Ends any session, MCP or REST (the status page's button): SESSION_NOT_FOUND if there is none. */
  endSession(id: string): Promise<HubResult<null>> {
    return settle(() => {
      if (!this.#hub.endSession(id)) throw new GatewayError('SESSION_NOT_FOUND', 'no such session (ended already?)');
      return null;
    });
  }

  /** A POST to /{server}/mcp; the response's body is an SSE stream or one JSON message. */
  mcpPost(req: McpPost): Promise<HubResult<Answer>> {
    return settle(() => {
      const message = messageOf(req.message, req.messageText);
      return this.#hub.mcp.answer({ server: req.server, sessionId: req.session, principal: req.principal, message, wantsSse: req.wantsSse, jsonToo: req.jsonToo });
    });
  }

  /** A stateless MCP 2026-07-28 POST to /{server}/mcp, classified and checked by the Worker. */
  modernPost(req: ModernRequest): Promise<HubResult<Response>> {
    return settle(() => this.#hub.modern.serve(req));
  }

  /** A GET to /{server}/mcp: the session's stream, resumed after `lastEventId` when given. */
  mcpStream(target: McpTarget, lastEventId: string | null): Promise<HubResult<Response>> {
    return settle(() => this.#hub.mcp.openStream(target.server, target.session ?? '', target.principal, lastEventId));
  }

  mcpDelete(target: McpTarget): Promise<HubResult<Response>> {
    return settle(() => this.#hub.mcp.delete(target.server, target.session ?? '', target.principal));
  }

  /** An HTTP+SSE stream (2024-11-05); `endpoint` is where the client posts, before its session id. */
  sseOpen(server: string, principal: string, endpoint: string): Promise<HubResult<Response>> {
    return settle(() => this.#hub.mcp.openLegacy(server, principal, (id) => `${endpoint}${endpoint.includes('?') ? '&' : '?'}sessionId=${id}`));
  }

  /** `message` is null when a large body comes as `messageText`. */
  ssePost(target: McpTarget, message: JsonRpcMessage | null, messageText?: string): Promise<HubResult<Answer>> {
    return settle(() => this.#hub.mcp.answerLegacy(target.server, target.session ?? '', target.principal, messageOf(message ?? undefined, messageText)));
  }

  /** A host's WebSocket; an older one with the same id is replaced only after this one's hello (in the Hub). */
  #acceptHost(hostId: string, allowed: string[] | null, token: { tokenId: string | undefined; hostClaim: HostClaim; mayShareServers: boolean }): Response {
    if (!NAME_PATTERN.test(hostId)) return new Response('host id must be 1 to 64 letters, digits, "_" or "-"', { status: 400 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [hostId]);
    this.#sockets.delete(hostId);
    server.serializeAttachment({ hostId, connId: randomId(), allowed, openedAt: Date.now(), ...token } satisfies Attachment);
    this.#hub.onOpen(this.#connection(server));
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message !== 'string') {
      ws.send(JSON.stringify({ type: 'frame.error', code: 'BAD_FRAME', message: 'frames are JSON text, not binary' }));
      return;
    }
    const conn = this.#connection(ws);
    this.#lastFrame.set(conn.connId, Date.now());
    this.#hub.onMessage(conn, message);
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    const conn = this.#connection(ws);
    this.#sockets.delete(conn.hostId);
    this.#lastFrame.delete(conn.connId);
    this.#hub.onClose(conn, code, reason);
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const conn = this.#connection(ws);
    this.#sockets.delete(conn.hostId);
    this.#lastFrame.delete(conn.connId);
    this.#hub.onClose(conn, 1011, String(error));
  }

  #socketsOf(hostId: string): WebSocket[] {
    let sockets = this.#sockets.get(hostId);
    if (!sockets) this.#sockets.set(hostId, (sockets = this.ctx.getWebSockets(hostId)));
    return sockets;
  }

  /**
   * A host socket for the Hub; its last sign of life is the latest of ping, frame and opening.
   * Made once per socket object (its attachment is read once), not on every frame and call.
   */
  #connection(ws: WebSocket): HostConnection {
    let conn = this.#connections.get(ws);
    if (conn) return conn;
    const attachment = attachmentOf(ws);
    const base = toConnection(ws, attachment);
    const openedAt = attachment.openedAt ?? Date.now();
    let maxMessageChars = attachment.maxMessageChars;
    conn = {
      ...base,
      // A socket the Hub closes (a silent host above all) may never have its close reported:
      // its last frame time is forgotten now, not at a close event that may not come.
      close: (code, reason) => {
        this.#lastFrame.delete(base.connId);
        base.close(code, reason);
      },
      lastSeen: () => Math.max(openedAt, this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0, this.#lastFrame.get(base.connId) ?? 0),
      lastFrameAt: () => this.#lastFrame.get(base.connId),
      get maxMessageChars() {
        return maxMessageChars;
      },
      set maxMessageChars(chars: number | undefined) {
        if (chars === maxMessageChars) return;
        maxMessageChars = chars;
        ws.serializeAttachment({ ...attachmentOf(ws), maxMessageChars: chars } satisfies Attachment);
      },
    };
    this.#connections.set(ws, conn);
    return conn;
  }
}

/** A client's message as the Worker parsed it, or parsed here from a large body's text. */
function messageOf(message: JsonRpcMessage | undefined, text: string | undefined): JsonRpcMessage {
  if (text !== undefined) return parseLargeMessage(text);
  if (message === undefined) throw new GatewayError('BAD_REQUEST', 'no message');
  return message;
}

function isOpen(ws: WebSocket): boolean {
  return ws.readyState === WebSocket.OPEN;
}

function attachmentOf(ws: WebSocket): Attachment {
  return ws.deserializeAttachment() as Attachment;
}

/** A socket as the Hub sees it, from its attachment (written once, at accept). */
function toConnection(ws: WebSocket, { hostId, connId, allowed, tokenId, hostClaim, mayShareServers }: Attachment): HostConnection {
  return {
    hostId,
    connId,
    allowedServers: allowed ?? undefined,
    tokenId,
    hostClaim,
    mayShareServers,
    send: (text) => ws.send(text),
    close: (code, reason) => {
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    },
  };
}
