/**
 * MCP client sessions (Streamable HTTP and the legacy HTTP+SSE transport) inside the Hub.
 * Each session has one server process on one host; its JSON-RPC messages are relayed unchanged.
 *
 * Every server message goes on exactly one stream: a response on the stream of the POST that
 * asked for it; a progress notification on its request's stream; anything else on the session's
 * GET stream, else on an open request stream, else into a bounded backlog that the next GET
 * stream replays (also after `Last-Event-ID`).
 */
import { DEFAULT_MAX_CALLS_PER_PRINCIPAL, SSE_BACKLOG_CHARS } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import { PendingRequests } from '../../shared/pending.ts';
import type { JsonRpcMessage } from '../../shared/protocol.ts';
import { randomId } from '../../shared/secure.ts';
import { responseOf, toResponse, type Answer, type PlainAnswer } from './answer.ts';
import { EventLog, type BacklogEntry } from './event-log.ts';
import { hostTextOf } from './host-text.ts';
import type { HostConnection } from './hub.ts';
import {
  answerMode,
  errorText,
  idKey,
  isRequest,
  isResponse,
  LEGACY_PROBE_MS,
  LiveSessions,
  RECONNECT_AFTER_MS,
  SSE_HEADERS,
  streamOf,
  TOUCH_EVERY_MS,
  type AnswerMode,
  type Live,
  type McpLimits,
  type McpPorts,
  type PostRequest,
  type Transport,
  type Waiter,
} from './mcp-session-parts.ts';
import { answerOutcome, whatOf } from './outcome.ts';
import { SseStream } from './sse.ts';

export type { McpLimits, McpPorts, PostRequest, Transport } from './mcp-session-parts.ts';

export class McpSessions {
  readonly #ports: McpPorts;
  readonly #limits: McpLimits;
  readonly #live = new LiveSessions();
  /** Event ids and the replay backlog, in storage. */
  readonly #events: EventLog;

  constructor(ports: McpPorts, limits: McpLimits) {
    this.#ports = ports;
    this.#limits = limits;
    this.#events = new EventLog(ports.sql, { events: limits.backlog, chars: limits.backlogChars ?? SSE_BACKLOG_CHARS });
  }

  // ---- Streamable HTTP -------------------------------------------------------------------------

  /** A POST to /{server}/mcp: one JSON-RPC message. */
  post(req: PostRequest): Response | Promise<Response> {
    return responseOf(this.answer(req));
  }

  /** `post`, with an answer that is not a stream as plain data (for Durable Object RPC; see answer.ts). */
  answer(req: PostRequest): Answer | Promise<Answer> {
    const { message } = req;
    if (message.method === 'initialize' && isRequest(message)) {
      const conn = this.#ports.pickHost(req.server);
      const live = this.#create(req.server, req.principal, conn.hostId, 'streamable');
      return this.#forwardRequest(live, conn, message, answerMode(req), { 'mcp-session-id': live.id });
    }
    if (!req.sessionId) throw new GatewayError('SESSION_REQUIRED', 'Mcp-Session-Id header is required after initialize');
    const live = this.#resolve(req.server, req.sessionId, req.principal, 'streamable');
    const conn = this.#connection(live);
    if (isRequest(message)) return this.#forwardRequest(live, conn, message, answerMode(req));
    this.#ports.send(conn, { type: 'mcp.message', server: live.server, session: live.id, message });
    return { status: 202, body: null };
  }

  /** A GET to /{server}/mcp: the session's stream for server-initiated messages. */
  openStream(server: string, sessionId: string, principal: string, lastEventId: string | null): Response {
    const live = this.#resolve(server, sessionId, principal, 'streamable');
    this.#connection(live);
    // A newer GET stream replaces the old one; the session itself carries on.
    live.main?.close();
    const stream = new SseStream(this.#limits.sse);
    live.main = stream;
    stream.onClose(() => {
      if (live.main === stream) live.main = undefined;
    });
    const after = lastEventId !== null && /^\d+$/.test(lastEventId) ? Number(lastEventId) : undefined;
    for (const entry of this.#events.replay(live.id, after)) stream.send(entry.text, { id: String(entry.id) });
    // Primed after the replay, so the id a client resumes from is the newest it has seen.
    stream.prime(String(this.#events.nextId(live.id)), RECONNECT_AFTER_MS);
    return new Response(stream.readable, { headers: SSE_HEADERS });
  }

  /** A DELETE to /{server}/mcp. */
  delete(server: string, sessionId: string, principal: string): Response {
    const live = this.#resolve(server, sessionId, principal, 'streamable');
    this.#close(live, 'session deleted by the client');
    return new Response(null, { status: 200 });
  }

  // ---- HTTP+SSE (2024-11-05) -------------------------------------------------------------------

  /** GET /{server}: a new session whose stream carries every server message; it ends with the stream. */
  openLegacy(server: string, principal: string, endpoint: (sessionId: string) => string): Response {
    const conn = this.#ports.pickHost(server);
    const live = this.#create(server, principal, conn.hostId, 'sse');
    const stream = new SseStream({ ...this.#limits.sse, probeMs: LEGACY_PROBE_MS });
    live.main = stream;
    stream.send(endpoint(live.id), { event: 'endpoint' });
    stream.onClose(() => {
      if (this.#live.has(live.id)) this.#close(live, 'client disconnected');
    });
    return new Response(stream.readable, { headers: SSE_HEADERS });
  }

  /** POST /{server}?sessionId=…: a client message for a legacy session; answers come on its stream. */
  postLegacy(server: string, sessionId: string, principal: string, message: JsonRpcMessage): Response {
    return toResponse(this.answerLegacy(server, sessionId, principal, message));
  }

  /**
   * `postLegacy`, with its answer as plain data. A request waits for its answer as a Streamable
   * HTTP one does: counted against the client's requests in flight, and past the deadline the
   * server is told it is cancelled and the stream gets a JSON-RPC error.
   */
  answerLegacy(server: string, sessionId: string, principal: string, message: JsonRpcMessage): PlainAnswer {
    const live = this.#resolve(server, sessionId, principal, 'sse');
    const conn = this.#connection(live);
    if (isRequest(message)) {
      const { answer } = this.#awaitAnswer(live, message);
      answer.catch(() => {}); // the answer, or the error that ends the wait, goes on the session's stream
    }
    this.#ports.send(conn, { type: 'mcp.message', server: live.server, session: live.id, message });
    return { status: 202, body: 'Accepted' };
  }

  // ---- from hosts --------------------------------------------------------------------------------

  onServerMessage(session: string, message: JsonRpcMessage): void {
    const live = this.#load(session);
    if (!live) return;
    // A large message goes on as the host's text of it (host-text.ts).
    const text = hostTextOf(message) ?? JSON.stringify(message);
    if (live.transport === 'sse' && isResponse(message)) {
      const waiter = live.waiters.resolve(idKey(message.id), text);
      if (waiter) this.#finished(live, message, waiter.method, waiter.startedAt);
    } else if (live.transport === 'streamable') {
      if (isResponse(message)) {
        const waiter = live.waiters.resolve(idKey(message.id), text);
        if (waiter) {
          this.#finished(live, message, waiter.method, waiter.startedAt);
          if (!waiter.stream) return; // the JSON body of its POST
          if (!waiter.stream.closed) {
            waiter.stream.send(text, { id: String(this.#events.nextId(live.id)) });
            waiter.stream.close();
            return;
          }
        }
      } else if (message.method === 'notifications/progress') {
        const token = (message.params as { progressToken?: unknown } | undefined)?.progressToken;
        for (const [, waiter] of live.waiters.entries()) {
          const stream = waiter.progressToken !== undefined && idKey(waiter.progressToken) === idKey(token) ? streamOf(waiter) : undefined;
          if (stream && !stream.closed) {
            stream.send(text, { id: String(this.#events.nextId(live.id)) });
            return;
          }
        }
      }
    }
    this.#toMain(live, text);
    this.#touch(live);
  }

  /** The host that runs a session's process, or undefined for no such session. */
  hostOf(session: string): string | undefined {
    return this.#load(session)?.hostId;
  }

  /** The session's server process ended, or its host went away. */
  onSessionClosed(session: string, reason: string): void {
    const live = this.#load(session);
    if (live) this.#end(live, reason);
  }

  /** Whether any request is waiting for its response or any stream is open (in this object's memory). */
  get busy(): boolean {
    for (const live of this.#live.values()) if (live.waiters.size > 0 || (live.main && !live.main.closed)) return true;
    return false;
  }

  /** Ends a session by id (any transport, any principal): false if there is none. */
  end(sessionId: string, reason: string): boolean {
    const live = this.#load(sessionId);
    if (live) this.#close(live, reason);
    return live !== undefined;
  }

  onHostGone(hostId: string): void {
    for (const row of this.#ports.sql.exec('SELECT id FROM mcp_sessions WHERE host_id = ?', hostId)) {
      this.onSessionClosed(String(row.id), `host ${hostId} disconnected`);
    }
  }

  /** Ends Streamable HTTP sessions unused for `idleMs` with nothing open; returns how many remain. */
  reapIdle(idleMs: number): number {
    const cutoff = this.#ports.now() - idleMs;
    for (const row of this.#ports.sql.exec("SELECT id FROM mcp_sessions WHERE transport = 'streamable' AND last_used < ?", cutoff)) {
      const live = this.#live.get(String(row.id));
      if (live && (live.main || live.waiters.size > 0 || (live.usedAt ?? 0) >= cutoff)) continue;
      const loaded = live ?? this.#load(String(row.id));
      if (loaded) this.#close(loaded, 'idle timeout');
    }
    return Number(this.#ports.sql.exec('SELECT count(*) AS n FROM mcp_sessions')[0]?.n ?? 0);
  }

  // ---- internals ---------------------------------------------------------------------------------

  #create(server: string, principal: string, hostId: string, transport: Transport): Live {
    const held = Number(this.#ports.sql.exec('SELECT count(*) AS n FROM mcp_sessions WHERE principal = ?', principal)[0]?.n ?? 0);
    if (held >= this.#limits.maxSessionsPerPrincipal) {
      throw new GatewayError('TOO_MANY_SESSIONS', `at most ${this.#limits.maxSessionsPerPrincipal} MCP sessions at once; end one (DELETE) first`);
    }
    const id = randomId();
    const now = this.#ports.now();
    const row = [id, server, hostId, principal, transport, now, now];
    this.#ports.sql.exec('INSERT INTO mcp_sessions (id, server, host_id, principal, transport, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?, ?)', ...row);
    const live: Live = { id, server, principal, hostId, transport, waiters: new PendingRequests({ oneTimer: true }) };
    this.#live.add(live);
    return live;
  }

  /** The live state of a stored session (memory is rebuilt after hibernation). */
  #load(session: string): Live | undefined {
    const cached = this.#live.get(session);
    if (cached) return cached;
    const row = this.#ports.sql.exec('SELECT server, principal, host_id, transport FROM mcp_sessions WHERE id = ?', session)[0];
    if (!row) return undefined;
    const live: Live = {
      id: session,
      server: String(row.server),
      principal: String(row.principal),
      hostId: String(row.host_id),
      transport: row.transport === 'sse' ? 'sse' : 'streamable',
      waiters: new PendingRequests({ oneTimer: true }),
    };
    this.#live.add(live);
    return live;
  }

  /** A session of this server, transport and principal, or 404: an id is never a credential. */
  #resolve(server: string, sessionId: string, principal: string, transport: Transport): Live {
    // A session in memory is its stored row (both go together at #end); storage is read only for others.
    const live = this.#live.get(sessionId) ?? this.#load(sessionId);
    if (!live || live.server !== server || live.principal !== principal || live.transport !== transport) {
      throw new GatewayError('SESSION_NOT_FOUND', 'unknown or ended session: initialize a new one');
    }
    this.#touch(live);
    return live;
  }

  #connection(live: Live): HostConnection {
    const conn = this.#ports.connectionOf(live.hostId);
    if (conn) return conn;
    this.#end(live, 'its host is gone');
    throw new GatewayError('SESSION_NOT_FOUND', 'the session ended with its host: initialize a new one');
  }

  /**
   * Records a use of the session. Storage is written at most every TOUCH_EVERY_MS, not on every
   * message (two writes per call otherwise); the idle timeout it feeds is minutes long.
   */
  #touch(live: Live): void {
    const now = this.#ports.now();
    live.usedAt = now;
    if (live.touchedAt !== undefined && now - live.touchedAt < TOUCH_EVERY_MS) return;
    this.#ports.sql.exec('UPDATE mcp_sessions SET last_used = ? WHERE id = ?', now, live.id);
    live.touchedAt = now;
  }

  #forwardRequest(live: Live, conn: HostConnection, message: JsonRpcMessage, mode: AnswerMode, headers: Record<string, string> = {}): Answer | Promise<Answer> {
    const { waiter, answer } = this.#awaitAnswer(live, message);
    this.#ports.send(conn, { type: 'mcp.message', server: live.server, session: live.id, message });
    const openStream = () => {
      const stream = new SseStream(this.#limits.sse);
      stream.prime(String(this.#events.nextId(live.id)), RECONNECT_AFTER_MS);
      waiter.stream = stream;
      return stream;
    };
    const sse = (stream: SseStream) => new Response(stream.readable, { headers: { ...SSE_HEADERS, ...headers } });
    if (mode === 'sse') {
      answer.catch(() => {}); // the stream itself carries the outcome
      return sse(openStream());
    }
    const json = { 'content-type': 'application/json', ...headers };
    return new Promise<Answer>((resolve) => {
      if (mode === 'either') {
        // Most answers come alone: one JSON body then, with no stream, keepalive timer or priming event.
        waiter.upgrade = () => {
          waiter.upgrade = undefined;
          const stream = openStream();
          resolve(sse(stream));
          return stream;
        };
      }
      // Once upgraded, the answer goes on the stream (onServerMessage, #timeout, #end) and this
      // resolve is a no-op.
      answer.then(
        (text) => resolve({ status: 200, headers: json, body: text }),
        (err: GatewayError) => resolve({ status: 200, headers: json, body: errorText(message.id, err) }),
      );
    });
  }

  /**
   * Starts waiting for a client request's answer: refused if its id is already in flight in the
   * session or the client has the most requests in flight it may (over both transports). The edge
   * owns the deadline: past it, the server is told the request is cancelled and the client gets a
   * JSON-RPC error.
   */
  #awaitAnswer(live: Live, message: JsonRpcMessage): { waiter: Waiter; answer: Promise<string> } {
    const key = idKey(message.id);
    if (live.waiters.has(key)) {
      throw new GatewayError('BAD_REQUEST', `request id ${key} is already in flight in this session`);
    }
    const cap = this.#limits.maxCallsPerPrincipal ?? DEFAULT_MAX_CALLS_PER_PRINCIPAL;
    if (this.#live.requestsInFlight(live.principal) >= cap) throw new GatewayError('TOO_MANY_REQUESTS', `at most ${cap} requests in flight per client; wait for one to finish`);
    const progressToken = (message.params as { _meta?: { progressToken?: unknown } } | undefined)?._meta?.progressToken;
    const waiter: Waiter = { progressToken, method: whatOf(message.method, message.params), startedAt: this.#ports.now() };
    const answer = live.waiters.wait(key, { meta: waiter, timeoutMs: this.#limits.requestTimeoutMs, onTimeout: (w) => this.#timeout(live, message, w) });
    return { waiter, answer };
  }

  /** A request past its deadline: the server is told, the client answered with an error. */
  #timeout(live: Live, request: JsonRpcMessage, waiter: Waiter): GatewayError {
    const conn = this.#ports.connectionOf(live.hostId);
    const params = { requestId: request.id, reason: 'the gateway deadline passed' };
    if (conn) this.#ports.send(conn, { type: 'mcp.message', server: live.server, session: live.id, message: { jsonrpc: '2.0', method: 'notifications/cancelled', params } });
    const error = new GatewayError('REQUEST_TIMEOUT', `request timed out after ${this.#limits.requestTimeoutMs} ms`);
    this.#finished(live, JSON.parse(errorText(request.id, error)) as JsonRpcMessage, waiter.method, waiter.startedAt);
    if (waiter.stream && !waiter.stream.closed) {
      waiter.stream.send(errorText(request.id, error), { id: String(this.#events.nextId(live.id)) });
      waiter.stream.close();
    } else if (waiter.stream || live.transport === 'sse') {
      // Its stream is gone, or it is an HTTP+SSE request: the session's stream, or the backlog.
      this.#toMain(live, errorText(request.id, error));
    }
    this.#touch(live);
    return error;
  }

  /** Counts an answered request in /status and its history. */
  #finished(live: Live, answer: JsonRpcMessage, what: string, startedAt: number): void {
    this.#ports.finished({ server: live.server, host: live.hostId, ms: this.#ports.now() - startedAt, code: answerOutcome(answer), what });
  }

  #toMain(live: Live, text: string): void {
    const id = this.#events.nextId(live.id);
    const entry: BacklogEntry = { id, text, delivered: false };
    const event = live.transport === 'sse' ? 'message' : undefined;
    if (live.main && !live.main.closed) {
      entry.delivered = live.main.send(text, { id: String(id), event });
    } else {
      // An open request stream, else one that can still become a stream.
      const waiters = live.waiters.entries().map(([, w]) => w);
      const target = waiters.find((w) => w.stream && !w.stream.closed) ?? waiters.find((w) => w.upgrade);
      const stream = target && streamOf(target);
      if (stream && !stream.closed) entry.delivered = stream.send(text, { id: String(id) });
    }
    // Only a Streamable HTTP session can replay (GET with Last-Event-ID); an HTTP+SSE session
    // ends with its one stream, so keeping its messages would only hold memory and storage.
    if (live.transport === 'streamable') this.#events.append(live.id, entry);
  }

  /** Tells the session's host (if still connected) to stop its process, and ends the session. */
  #close(live: Live, reason: string): void {
    const conn = this.#ports.connectionOf(live.hostId);
    if (conn) this.#ports.send(conn, { type: 'session.close', server: live.server, session: live.id });
    this.#end(live, reason);
  }

  #end(live: Live, reason: string): void {
    this.#live.delete(live);
    this.#ports.sql.exec('DELETE FROM mcp_sessions WHERE id = ?', live.id);
    this.#events.drop(live.id);
    const ended = new GatewayError('SESSION_NOT_FOUND', `session ended: ${reason}`);
    live.waiters.rejectAll((waiter, key) => {
      if (waiter.stream) {
        waiter.stream.send(errorText(JSON.parse(key), ended));
        waiter.stream.close();
      }
      return ended;
    });
    live.main?.close();
  }
}
