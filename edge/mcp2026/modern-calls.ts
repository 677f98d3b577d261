/**
 * 2026-07-28 requests inside the Hub: `server/discover` answered from what the hosts announced,
 * every other request run statelessly on a host's bridge (a 2025-era server process per
 * principal, server and client capabilities, initialized by the host), and the multi round-trip
 * flow: a call whose server asks the client something comes back `input_required`, with an
 * HMAC-protected `requestState`; the client's retry with `inputResponses` resumes the parked call.
 * Nothing here outlives the HTTP request that started it: a parked call lives on its host, and
 * the token says where.
 */
import { MODERN_FRAMES_SINCE } from '../../shared/constants.ts';
import { GatewayError, isErrorCode, jsonRpcErrorResponse, RESOURCE_NOT_FOUND_RPC } from '../../shared/errors.ts';
import { randomId } from '../../shared/secure.ts';
import { PendingRequests } from '../../shared/pending.ts';
import { INPUT_METHODS, META_SERVER_INFO, MISSING_CLIENT_CAPABILITY, MODERN_PROTOCOL_VERSIONS, REMOVED_METHODS } from '../../shared/mcp2026.ts';
import type { Frame, FrameOf, ServerInfo } from '../../shared/protocol.ts';
import type { HostConnection } from '../hub/types.ts';
import { SSE_HEADERS, SseStream, type SseOptions } from '../hub/sse.ts';
import { callOutcome, jsonRpcErrorCode, whatOf, type FinishedCall } from '../hub/outcome.ts';
import type { McpPorts } from '../hub/mcp-session-parts.ts';
import type { ModernMessage, ModernMeta } from './classify.ts';
import { ListenStreams, type ListKind } from './listen.ts';
import { digest, requestIdentity, RequestStates } from './request-state.ts';
import { advertised, json, ok, rpcError, stamp, withoutEnvelope } from './shape.ts';

/** What the 2026-07-28 calls need from the Hub: the same as MCP sessions. */
export type ModernPorts = McpPorts;

export interface ModernLimits {
  requestTimeoutMs: number;
  /** How long a parked call waits for the client's answers (and its requestState stays valid). */
  parkTtlMs: number;
  sse: SseOptions;
  /** Requests one principal may have in flight at once (past it: 429 TOO_MANY_REQUESTS). */
  maxCallsPerPrincipal: number;
}

export interface ModernRequest {
  server: string;
  principal: string;
  message: ModernMessage;
  meta: ModernMeta;
  wantsSse: boolean;
}

type Outcome =
  | { kind: 'result'; result: unknown }
  | { kind: 'error'; error: { code: number; message: string; data?: unknown } }
  | { kind: 'fault'; error: GatewayError }
  | { kind: 'input'; park: string; inputRequests: Record<string, unknown>; hostId: string };

interface AnswerContext {
  id: string | number;
  server: string;
  method: string;
  principal: string;
  identity: string;
  host: string;
  startedAt: number;
  what: string;
}

/** What a waiting modern call carries (shared/pending.ts holds its promise and deadline). */
interface Pending {
  connId: string;
  principal: string;
  server: string;
  event(message: unknown): void;
}

const DISCOVER_TTL_MS = 60_000;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS modern_secret (id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS server_info (name TEXT NOT NULL, host_id TEXT NOT NULL, info TEXT NOT NULL, PRIMARY KEY (name, host_id))`,
  /** Hosts whose frame protocol predates the 2026-07-28 frames. */
  `CREATE TABLE IF NOT EXISTS old_hosts (host_id TEXT PRIMARY KEY, version TEXT NOT NULL)`,
];

export class ModernCalls {
  readonly #ports: ModernPorts;
  readonly #limits: ModernLimits;
  /**
   * One timer for every deadline: in a Durable Object, a timer set and cleared per call keeps
   * about 280 bytes of workerd's memory that never comes back (docs/reliability.md).
   */
  readonly #pending = new PendingRequests<string, Outcome, Pending>({ oneTimer: true });
  readonly #states: RequestStates;
  readonly #listen: ListenStreams;

  constructor(ports: ModernPorts, limits: ModernLimits) {
    this.#ports = ports;
    this.#limits = limits;
    for (const statement of SCHEMA) ports.sql.exec(statement);
    this.#states = new RequestStates(this.#secret(), limits.parkTtlMs, ports.now);
    this.#listen = new ListenStreams(limits.sse);
  }

  /** The HMAC key, made once and kept in storage so tokens survive hibernation. */
  #secret(): Uint8Array<ArrayBuffer> {
    const row = this.#ports.sql.exec('SELECT secret FROM modern_secret WHERE id = 1')[0];
    if (row) return Uint8Array.from(atob(String(row.secret)), (c) => c.charCodeAt(0));
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    this.#ports.sql.exec('INSERT INTO modern_secret (id, secret) VALUES (1, ?)', btoa(String.fromCharCode(...bytes)));
    return bytes;
  }

  // ---- what hosts announce ---------------------------------------------------------------------

  onHello(hostId: string, servers: ServerInfo[], version: string): void {
    this.forgetHost(hostId);
    const [major, minor] = version.split('.').map(Number);
    const [sinceMajor, sinceMinor] = MODERN_FRAMES_SINCE.split('.').map(Number);
    if (major! < sinceMajor! || (major === sinceMajor && minor! < sinceMinor!)) this.#ports.sql.exec('INSERT OR REPLACE INTO old_hosts (host_id, version) VALUES (?, ?)', hostId, version);
    for (const server of servers) this.onServerUpdate(hostId, server);
  }

  /** A host from before the 2026-07-28 frames cannot run these requests: say so instead of waiting. */
  #checkHost(conn: HostConnection): void {
    const row = this.#ports.sql.exec('SELECT version FROM old_hosts WHERE host_id = ?', conn.hostId)[0];
    if (row) {
      throw new GatewayError('UPSTREAM_ERROR', `host ${conn.hostId} runs an mcp-gateway without MCP 2026-07-28 support (frame protocol ${String(row.version)}, needs ${MODERN_FRAMES_SINCE}): upgrade it`);
    }
  }

  onServerUpdate(hostId: string, server: ServerInfo): void {
    if (!server.initialize && !server.modern) return;
    const info = { ...server.initialize, ...(server.modern ? { modern: true } : {}) };
    this.#ports.sql.exec('INSERT OR REPLACE INTO server_info (name, host_id, info) VALUES (?, ?, ?)', server.name, hostId, JSON.stringify(info));
  }

  /** Whether the server on this host speaks 2026-07-28 itself. */
  #speaksModern(server: string, hostId: string): boolean {
    const row = this.#ports.sql.exec('SELECT info FROM server_info WHERE name = ? AND host_id = ?', server, hostId)[0];
    return row !== undefined && (JSON.parse(String(row.info)) as { modern?: boolean }).modern === true;
  }

  forgetHost(hostId: string): void {
    this.#ports.sql.exec('DELETE FROM server_info WHERE host_id = ?', hostId);
    this.#ports.sql.exec('DELETE FROM old_hosts WHERE host_id = ?', hostId);
  }

  // ---- requests --------------------------------------------------------------------------------

  async serve(req: ModernRequest): Promise<Response> {
    const { message } = req;
    const id = message.id ?? null;
    if (message.id === undefined) return new Response(null, { status: 202 });
    try {
      const conn = this.#ports.pickHost(req.server);
      // A listen stream would outlive the request/response relay, so the gateway serves it for
      // every server, a 2026-07-28 one too: the list changes its host reports reach it.
      if (message.method === 'subscriptions/listen') return this.#listen.open(req.server, req.principal, message.id, message.params, this.#info(req.server, conn.hostId).capabilities ?? {});
      // A 2026-07-28 server gets every other request as it came: its own discover, its own requestState.
      if (this.#speaksModern(req.server, conn.hostId)) return await this.#forward(req, conn);
      if (message.method === 'server/discover') return json(id, this.#discover(req.server));
      if (REMOVED_METHODS.has(message.method)) {
        return rpcError(404, id, -32601, `Method not found: ${message.method} is not part of protocol revision 2026-07-28 on this gateway`);
      }
      return await this.#forward(req);
    } catch (err) {
      if (err instanceof GatewayError) return jsonRpcErrorResponse(err, id);
      throw err;
    }
  }

  /** A list of the server changed: its `subscriptions/listen` streams hear it. */
  listChanged(server: string, kind: ListKind): void {
    this.#listen.changed(server, kind);
  }

  #info(server: string, hostId: string): { capabilities?: Record<string, unknown>; serverInfo?: unknown; instructions?: string } {
    const row = this.#ports.sql.exec('SELECT info FROM server_info WHERE name = ? AND host_id = ?', server, hostId)[0];
    return row ? JSON.parse(String(row.info)) : {};
  }

  #discover(server: string): Record<string, unknown> {
    const conn = this.#ports.pickHost(server);
    const info = this.#info(server, conn.hostId);
    return {
      resultType: 'complete',
      supportedVersions: [...MODERN_PROTOCOL_VERSIONS],
      capabilities: advertised(info.capabilities ?? {}),
      ...(info.instructions ? { instructions: info.instructions } : {}),
      ttlMs: DISCOVER_TTL_MS,
      cacheScope: 'private',
      ...(info.serverInfo ? { _meta: { [META_SERVER_INFO]: info.serverInfo } } : {}),
    };
  }

  async #forward(req: ModernRequest, relayTo?: HostConnection): Promise<Response> {
    const { server, principal, message, meta } = req;
    const id = message.id!;
    const params = relayTo ? message.params : withoutEnvelope(message.params);
    const identity = requestIdentity(message.method, params);
    const cap = this.#limits.maxCallsPerPrincipal;
    if (this.#pending.entries().filter(([, p]) => p.principal === principal).length >= cap) {
      throw new GatewayError('TOO_MANY_REQUESTS', `at most ${cap} requests in flight per client; wait for one to finish`);
    }
    const callId = `m.${randomId()}`;
    let conn: HostConnection;
    let frame: Frame;
    const { requestState, inputResponses, ...rest } = params as { requestState?: unknown; inputResponses?: unknown };
    if (relayTo) {
      conn = relayTo;
      frame = {
        type: 'modern.call',
        id: callId,
        server,
        lease: 'relay',
        method: message.method,
        params,
        clientCapabilities: meta.clientCapabilities,
        timeoutMs: this.#limits.requestTimeoutMs,
        relay: true,
      };
    } else if (requestState !== undefined && INPUT_METHODS.has(message.method)) {
      const parked = await this.#states.open(requestState, principal, identity);
      const found = parked.server === server ? this.#ports.connectionOf(parked.hostId) : undefined;
      if (!found) throw new GatewayError('INVALID_REQUEST_STATE', 'requestState refused: the call it names ended (its host went away); call again without requestState');
      conn = found;
      const responses = inputResponses !== null && typeof inputResponses === 'object' && !Array.isArray(inputResponses) ? (inputResponses as Record<string, unknown>) : {};
      frame = { type: 'modern.resume', id: callId, server, park: parked.park, inputResponses: responses, timeoutMs: this.#limits.requestTimeoutMs };
    } else {
      conn = this.#ports.pickHost(server);
      const lease = `${await digest(principal)}.${await digest(JSON.stringify(meta.clientCapabilities))}`;
      frame = {
        type: 'modern.call',
        id: callId,
        server,
        lease,
        method: message.method,
        params: rest,
        clientCapabilities: meta.clientCapabilities,
        ...(meta.clientInfo ? { clientInfo: meta.clientInfo } : {}),
        ...(meta.logLevel ? { logLevel: meta.logLevel } : {}),
        timeoutMs: this.#limits.requestTimeoutMs,
      };
    }
    this.#checkHost(conn);
    const progressToken = (params._meta as { progressToken?: unknown } | undefined)?.progressToken;
    const streamed = req.wantsSse && (progressToken !== undefined || meta.logLevel !== undefined);
    const stream = streamed ? new SseStream(this.#limits.sse) : undefined;
    const answered = this.#pending
      .wait(callId, {
        meta: { connId: conn.connId, principal, server, event: (event) => stream?.send(JSON.stringify(event)) },
        timeoutMs: this.#limits.requestTimeoutMs,
        onTimeout: () => {
          this.#ports.send(conn, { type: 'rpc.cancel', id: callId, reason: 'deadline passed' });
          return new GatewayError('REQUEST_TIMEOUT', `server ${server} did not answer ${message.method} within ${this.#limits.requestTimeoutMs} ms`);
        },
      })
      .catch((error: unknown): Outcome => ({ kind: 'fault', error: error instanceof GatewayError ? error : new GatewayError('INTERNAL', 'internal error') }));
    this.#ports.send(conn, frame);
    const context: AnswerContext = { id, server, method: message.method, principal, identity, host: conn.hostId, startedAt: this.#ports.now(), what: whatOf(message.method, params) };
    const finish = async (outcome: Outcome) => this.#answer(outcome, context);
    if (!stream) {
      const { status, body } = await finish(await answered);
      return new Response(body, { status, headers: { 'content-type': 'application/json' } });
    }
    // Closing the stream cancels the request upstream; nothing more is written for it.
    let cancelled = false;
    stream.onClose(() => {
      if (!this.#pending.has(callId)) return;
      cancelled = true;
      this.#pending.reject(callId, new GatewayError('BAD_REQUEST', 'the client closed the stream'));
      this.#ports.send(conn, { type: 'rpc.cancel', id: callId, reason: 'the client closed the stream' });
    });
    void answered.then(async (outcome) => {
      if (cancelled) return;
      const { body } = await finish(outcome);
      stream.send(body);
      stream.close();
    });
    return new Response(stream.readable, { headers: SSE_HEADERS });
  }

  /** The JSON-RPC answer to the client for an outcome, with its HTTP status. */
  async #answer(outcome: Outcome, context: AnswerContext): Promise<{ status: number; body: string }> {
    const { id, server, method, principal, identity } = context;
    const finished = (code: FinishedCall['code']) => this.#ports.finished({ server, host: context.host, ms: this.#ports.now() - context.startedAt, code, what: context.what });
    switch (outcome.kind) {
      case 'input': {
        const requestState = await this.#states.seal({ hostId: outcome.hostId, server, park: outcome.park }, principal, identity);
        return ok(id, { resultType: 'input_required', inputRequests: outcome.inputRequests, requestState });
      }
      case 'result':
        finished(callOutcome(outcome.result));
        return ok(id, stamp(method, outcome.result));
      case 'error': {
        finished(jsonRpcErrorCode(outcome.error.code));
        // 2025-era servers answer an unknown resource with -32002; 2026-07-28 says -32602 (SEP-2164).
        const error = method === 'resources/read' && outcome.error.code === RESOURCE_NOT_FOUND_RPC ? { ...outcome.error, code: -32602 } : outcome.error;
        const status = error.code === -32601 ? 404 : error.code === MISSING_CLIENT_CAPABILITY ? 400 : 200;
        return { status, body: JSON.stringify({ jsonrpc: '2.0', id, error }) };
      }
      case 'fault': {
        finished(outcome.error.code);
        const response = jsonRpcErrorResponse(outcome.error, id);
        return { status: response.status, body: await response.text() };
      }
    }
  }

  // ---- from hosts ------------------------------------------------------------------------------

  /** An `rpc.response` for a modern call: true if it was one. */
  onResponse(conn: HostConnection, frame: FrameOf<'rpc.response'>): boolean {
    if (!this.#owns(conn, frame.id)) return frame.id.startsWith('m.');
    if (frame.fault) {
      const code = isErrorCode(frame.fault.code) ? frame.fault.code : 'UPSTREAM_ERROR';
      this.#pending.resolve(frame.id, { kind: 'fault', error: new GatewayError(code, frame.fault.message) });
    } else if (frame.error) {
      this.#pending.resolve(frame.id, { kind: 'error', error: frame.error });
    } else {
      this.#pending.resolve(frame.id, { kind: 'result', result: frame.result });
    }
    return true;
  }

  onInput(conn: HostConnection, frame: FrameOf<'modern.input'>): void {
    if (this.#owns(conn, frame.id)) this.#pending.resolve(frame.id, { kind: 'input', park: frame.park, inputRequests: frame.inputRequests, hostId: conn.hostId });
  }

  onEvent(conn: HostConnection, frame: FrameOf<'modern.event'>): void {
    const pending = this.#pending.meta(frame.id);
    if (pending && pending.connId === conn.connId) pending.event(frame.message);
  }

  /** Whether any request waits for its host (the Hub's heartbeat sweep runs meanwhile). */
  get busy(): boolean {
    return this.#pending.size > 0;
  }

  /** A host connection closed: its calls fail at once. */
  onConnectionClosed(connId: string): void {
    this.#pending.rejectAll(
      (pending) => new GatewayError('HOST_OFFLINE', `the host running server ${pending.server} disconnected during the call`),
      (pending) => pending.connId === connId,
    );
  }

  /** Whether call `id` waits for an answer from this connection (a frame from another is dropped). */
  #owns(conn: HostConnection, id: string): boolean {
    return this.#pending.meta(id)?.connId === conn.connId;
  }
}
