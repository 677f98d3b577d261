/**
 * The Hub Durable Object: a thin wrapper that gives the Hub its storage, its host WebSockets
 * (hibernation API) and an HTTP face for the Worker.
 */
import { DurableObject } from 'cloudflare:workers';
import {
  CLOSE_REPLACED,
  DEFAULT_MAX_RESULT_CHARS,
  DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
  DEFAULT_MCP_IDLE_MS,
  DEFAULT_SSE_KEEPALIVE_MS,
  NAME_PATTERN,
  PING_TEXT,
  PONG_TEXT,
  SSE_BACKLOG_EVENTS,
  SSE_MAX_QUEUED_BYTES,
} from '../../shared/constants.ts';
import { errorResponse, GatewayError, jsonRpcErrorResponse } from '../../shared/errors.ts';
import type { JsonRpcMessage } from '../../shared/protocol.ts';
import { fitResult } from '../../shared/results.ts';
import { randomId } from '../../shared/secure.ts';
import type { EdgeEnv } from '../env.ts';
import { edgeLog } from '../log.ts';
import { Hub, type HostConnection, type SqlValue } from './hub.ts';
import type { ModernRequest } from '../mcp2026/modern-calls.ts';

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
    this.#callTimeoutMs = Number(env.CALL_TIMEOUT_MS) || 30_000;
    this.#maxResultChars = env.MAX_RESULT_CHARS === undefined ? DEFAULT_MAX_RESULT_CHARS : Number(env.MAX_RESULT_CHARS);
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
      mcpIdleMs: Number(env.MCP_IDLE_MS) || DEFAULT_MCP_IDLE_MS,
      maxSessionsPerPrincipal: Number(env.MAX_SESSIONS_PER_PRINCIPAL) || DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
      backlog: SSE_BACKLOG_EVENTS,
      sse: { keepaliveMs: Number(env.SSE_KEEPALIVE_MS) || DEFAULT_SSE_KEEPALIVE_MS, maxQueuedBytes: SSE_MAX_QUEUED_BYTES },
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

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname.startsWith('/mcp/') || url.pathname.startsWith('/sse/')) return await this.#mcp(url.pathname, request);
      switch (url.pathname) {
        case '/agent':
          return this.#acceptHost(url.searchParams.get('host') ?? '', request.headers.get('x-allowed-servers'));
        case '/call':
          return await this.#call(request);
        case '/request':
          return await this.#request(request);
        case '/modern': {
          const h = request.headers;
          const { message, meta } = (await request.json()) as Pick<ModernRequest, 'message' | 'meta'>;
          return await this.#hub.modern.serve({ server: h.get('x-server') ?? '', principal: h.get('x-principal') ?? '', message, meta, wantsSse: h.get('x-sse') === '1' });
        }
        case '/catalog':
          return Response.json({ servers: this.#hub.catalog() });
        case '/tools':
          return Response.json({ tools: this.#hub.tools(request.headers.get('x-server') ?? '') });
        case '/session':
          return Response.json({ sessionId: this.#hub.createRestSession(request.headers.get('x-principal') ?? '') });
        case '/health':
          return Response.json(this.#hub.health());
        case '/status':
          return Response.json(this.#hub.status());
        default:
          throw new GatewayError('NOT_FOUND', `hub has no route ${url.pathname}`);
      }
    } catch (err) {
      const error = err instanceof GatewayError ? err : new GatewayError('INTERNAL', 'internal error in the hub');
      if (!(err instanceof GatewayError)) edgeLog('error', 'hub request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      return url.pathname.startsWith('/mcp/') || url.pathname.startsWith('/sse/') ? jsonRpcErrorResponse(error) : errorResponse(error);
    }
  }

  /** MCP transports; the Worker has authenticated and validated the request. */
  async #mcp(path: string, request: Request): Promise<Response> {
    const h = request.headers;
    const server = h.get('x-server') ?? '';
    const session = h.get('x-session');
    const principal = h.get('x-principal') ?? '';
    const mcp = this.#hub.mcp;
    switch (path) {
      case '/mcp/post':
        return mcp.post({ server, sessionId: session, principal, message: (await request.json()) as JsonRpcMessage, wantsSse: h.get('x-sse') === '1' });
      case '/mcp/get':
        return mcp.openStream(server, session ?? '', principal, h.get('x-last-event-id'));
      case '/mcp/delete':
        return mcp.delete(server, session ?? '', principal);
      case '/sse/open': {
        const endpoint = h.get('x-endpoint') ?? '';
        return mcp.openLegacy(server, principal, (id) => `${endpoint}${endpoint.includes('?') ? '&' : '?'}sessionId=${id}`);
      }
      case '/sse/post':
        return mcp.postLegacy(server, session ?? '', principal, (await request.json()) as JsonRpcMessage);
      default:
        throw new GatewayError('NOT_FOUND', `hub has no route ${path}`);
    }
  }

  #acceptHost(hostId: string, allowedServers: string | null): Response {
    if (!NAME_PATTERN.test(hostId)) {
      throw new GatewayError('BAD_REQUEST', 'host id must be 1 to 64 letters, digits, "_" or "-"');
    }
    for (const old of this.ctx.getWebSockets(hostId)) {
      try {
        old.close(CLOSE_REPLACED, 'replaced by a newer connection from the same host');
      } catch {
        // already closing
      }
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [hostId]);
    const allowed = allowedServers ? (JSON.parse(allowedServers) as string[]) : null;
    server.serializeAttachment({ hostId, connId: randomId(), allowed } satisfies Attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  async #call(request: Request): Promise<Response> {
    const h = request.headers;
    const args = (await request.json()) as Record<string, unknown>;
    const result = await this.#hub.callTool({
      server: h.get('x-server') ?? '',
      tool: h.get('x-tool') ?? '',
      session: h.get('x-session') || null,
      principal: h.get('x-principal') ?? '',
      args,
      timeoutMs: this.#callTimeoutMs,
    });
    return new Response(fitResult(normalizeToolResult(result), this.#maxResultChars), { headers: { 'content-type': 'application/json' } });
  }

  /** resources/list, resources/read, prompts/list, prompts/get for REST clients. */
  async #request(request: Request): Promise<Response> {
    const h = request.headers;
    const result = await this.#hub.request({
      server: h.get('x-server') ?? '',
      session: h.get('x-session') || null,
      principal: h.get('x-principal') ?? '',
      method: h.get('x-method') ?? '',
      params: await request.json(),
      timeoutMs: this.#callTimeoutMs,
    });
    return Response.json(result ?? {});
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
