/**
 * The Hub Durable Object: a thin wrapper that gives the Hub its storage, its host WebSockets
 * (hibernation API), and typed methods the Worker calls over Durable Object RPC. Failures come
 * back as results carrying their error code (rpc.ts); the Worker turns them into responses.
 */
import { DurableObject } from 'cloudflare:workers';
import {
  CLOSE_REPLACED,
  NAME_PATTERN,
  PING_TEXT,
  PONG_TEXT,
  SSE_BACKLOG_EVENTS,
  SSE_MAX_QUEUED_BYTES,
} from '../../shared/constants.ts';
import type { JsonRpcMessage, Tool } from '../../shared/protocol.ts';
import { fitResult } from '../../shared/results.ts';
import { randomId } from '../../shared/secure.ts';
import type { EdgeEnv } from '../env.ts';
import { edgeLog } from '../log.ts';
import { edgeLimits } from '../settings.ts';
import { Hub, type HostConnection, type HubHealth, type HubStatus, type SqlValue } from './hub.ts';
import { settle, type HubResult, type McpPost, type McpTarget, type RestServerRequest, type RestToolCall } from './rpc.ts';

interface Attachment {
  hostId: string;
  connId: string;
  /** Server names the host's token may announce; null for any. */
  allowed: string[] | null;
}

export class HubObject extends DurableObject<EdgeEnv> {
  readonly #hub: Hub;
  readonly #callTimeoutMs: number;
  readonly #maxResultChars: number;

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    super(ctx, env);
    const limits = edgeLimits(env);
    this.#callTimeoutMs = limits.callTimeoutMs;
    this.#maxResultChars = limits.maxResultChars;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_TEXT, PONG_TEXT));
    const sql = ctx.storage.sql;
    this.#hub = new Hub({
      sql: { exec: (query: string, ...params: SqlValue[]) => sql.exec(query, ...params).toArray() as Record<string, SqlValue>[] },
      connectionsOf: (hostId) => ctx.getWebSockets(hostId).filter(isOpen).map(toConnection),
      liveConnIds: () => ctx.getWebSockets().filter(isOpen).map((ws) => attachmentOf(ws).connId),
      now: Date.now,
      log: edgeLog,
      scheduleAlarm: (delayMs) => {
        void ctx.storage.getAlarm().then((at) => {
          if (at === null) return ctx.storage.setAlarm(Date.now() + delayMs);
        });
      },
    }, {
      requestTimeoutMs: this.#callTimeoutMs,
      mcpIdleMs: limits.mcpSessionIdleMs,
      maxSessionsPerPrincipal: limits.maxSessionsPerPrincipal,
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
    return this.#acceptHost(url.searchParams.get('host') ?? '', allowed === null ? null : allowed.split(',').filter(Boolean));
  }

  /** A REST tool call; the value is the result as REST clients get it, as JSON text. */
  callTool(call: RestToolCall): Promise<HubResult<string>> {
    return settle(async () => {
      const result = await this.#hub.callTool({ ...call, timeoutMs: this.#callTimeoutMs });
      return fitResult(normalizeToolResult(result), this.#maxResultChars);
    });
  }

  /** resources/list, resources/read, prompts/list, prompts/get for REST clients. */
  serverRequest(req: RestServerRequest): Promise<HubResult<unknown>> {
    return settle(async () => (await this.#hub.request({ ...req, timeoutMs: this.#callTimeoutMs })) ?? {});
  }

  createRestSession(principal: string): Promise<HubResult<string>> {
    return settle(() => this.#hub.createRestSession(principal));
  }

  tools(server: string): Promise<HubResult<Tool[]>> {
    return settle(() => this.#hub.tools(server));
  }

  catalog(): { name: string; tools: Tool[] }[] {
    return this.#hub.catalog();
  }

  health(): HubHealth {
    return this.#hub.health();
  }

  status(): HubStatus {
    return this.#hub.status();
  }

  /** A POST to /{server}/mcp; the response's body is an SSE stream or one JSON message. */
  mcpPost(req: McpPost): Promise<HubResult<Response>> {
    return settle(() => this.#hub.mcp.post({ server: req.server, sessionId: req.session, principal: req.principal, message: req.message, wantsSse: req.wantsSse }));
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

  ssePost(target: McpTarget, message: JsonRpcMessage): Promise<HubResult<Response>> {
    return settle(() => this.#hub.mcp.postLegacy(target.server, target.session ?? '', target.principal, message));
  }

  #acceptHost(hostId: string, allowed: string[] | null): Response {
    if (!NAME_PATTERN.test(hostId)) return new Response('host id must be 1 to 64 letters, digits, "_" or "-"', { status: 400 });
    for (const old of this.ctx.getWebSockets(hostId)) {
      try {
        old.close(CLOSE_REPLACED, 'replaced by a newer connection from the same host');
      } catch {
        // already closing
      }
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [hostId]);
    server.serializeAttachment({ hostId, connId: randomId(), allowed } satisfies Attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message !== 'string') {
      ws.send(JSON.stringify({ type: 'frame.error', code: 'BAD_FRAME', message: 'frames are JSON text, not binary' }));
      return;
    }
    this.#hub.onMessage(toConnection(ws), message);
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    this.#hub.onClose(toConnection(ws), code, reason);
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    this.#hub.onClose(toConnection(ws), 1011, String(error));
  }
}

function isOpen(ws: WebSocket): boolean {
  return ws.readyState === WebSocket.OPEN;
}

function attachmentOf(ws: WebSocket): Attachment {
  return ws.deserializeAttachment() as Attachment;
}

function toConnection(ws: WebSocket): HostConnection {
  const { hostId, connId, allowed } = attachmentOf(ws);
  return {
    hostId,
    connId,
    allowedServers: allowed ?? undefined,
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
  };
}

/** A tools/call result as REST clients get it: `content`, `structuredContent` if any, and `isError` always. */
function normalizeToolResult(result: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = result && typeof result === 'object' ? { ...(result as Record<string, unknown>) } : { content: [] };
  body.isError = body.isError === true;
  return body;
}
