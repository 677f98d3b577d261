/**
 * The floor: the least a REST tool call through this architecture can ask of workerd. A Worker
 * takes a POST, calls one Durable Object, which sends one WebSocket message to a client (the
 * bench's Node process) that echoes it back; the object answers with the echo and the Worker
 * with a Response. Nothing else: no routing library, no checks, no storage, no timers.
 *
 * Plain JavaScript, bundled by esbuild as the gateway's edge is (bench/floor/run.ts): the root
 * tsconfig checks bench/ against Node's types, not the Workers runtime's.
 *
 * Paths (the bench's client picks one per row):
 *   GET  /ws                  the echo client's WebSocket, accepted by the object (hibernation API)
 *   GET  /ws-plain            a second one, accepted with `accept()` and a message listener
 *   POST /direct              the Worker answers with the body itself: HTTP in and out, nothing else
 *   POST /rpc                 body -> typed RPC `call(text)` -> WebSocket -> echo -> Response
 *   POST /fetch               the request itself passed on with `stub.fetch`, answered by the object
 *   POST /rpc/<op>,<op>...    /rpc plus some of the gateway's per-call operations, one at a time:
 *     json     the Worker parses the body and passes an object; the object sends a JSON frame and
 *              parses the echoed one (as the gateway's rpc.request / rpc.response)
 *     timer    a setTimeout per call for its deadline, cleared on the answer
 *     sql      one `sql.exec` read per call (an indexed row)
 *     hono     the Worker's routing done by a Hono app (one route, no middleware)
 *     stubs    a new stub per request, as the gateway (the floor otherwise reuses none either)
 *     headers  the Worker reads 4 request headers and the query string (auth, origin, session)
 *     plainws  the message goes over the `accept()`ed socket instead of the hibernatable one
 *     nows     no WebSocket: the object answers the RPC with the body itself (Worker + RPC only)
 *     digest   three SHA-256 digests with crypto.subtle in the Worker (the auth middleware's, per
 *              request, with one bearer token: secretsEqual's two and the principal's id)
 *
 * The architecture floor of `npm run bench` (bench/floor/relay.ts connects to /ws and relays each
 * message to a real MCP server's stdin, each line of its stdout back; see mcp.js):
 *   POST /mcp                 MCP Streamable HTTP, JSON answers only, no sessions; GET 405
 *   GET  /sse, POST /message?sessionId=...   HTTP+SSE (2024-11-05): the stream held by the object
 *   GET  /api/sessionid, POST /api/<server>/<tool>   the REST shape of the same call
 */
import { DurableObject } from 'cloudflare:workers';
import { Hono } from 'hono';
import { mcpFetch, requestId, responseId, restFetch, sseFetch, withId } from './mcp.js';

export class Floor extends DurableObject {
  /** @type {WebSocket | undefined} */
  #socket;
  /** @type {WebSocket | undefined} */
  #plain;
  /** @type {Map<number, (text: string) => void>} */
  #waiting = new Map();
  #next = 0;
  /**
   * MCP requests relayed, by tag: the client's own id (JSON text) and the waiter.
   * @type {Map<string, { id: string, resolve: (text: string) => void, reject: (err: Error) => void }>}
   */
  #relayed = new Map();
  /** @type {Map<string, WritableStreamDefaultWriter<Uint8Array>>} HTTP+SSE streams by session */
  #streams = new Map();
  #encoder = new TextEncoder();

  /** @param {DurableObjectState} ctx @param {unknown} env */
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS routes (session TEXT PRIMARY KEY, host TEXT)');
    ctx.storage.sql.exec("INSERT OR REPLACE INTO routes VALUES ('s1', 'h1')");
  }

  /** @param {Request} request */
  async fetch(request) {
    if (request.headers.get('upgrade') === 'websocket' && request.url.endsWith('/ws-plain')) {
      const pair = new WebSocketPair();
      pair[1].accept();
      pair[1].addEventListener('message', (event) => this.webSocketMessage(pair[1], event.data));
      this.#plain = pair[1];
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    if (request.headers.get('upgrade') === 'websocket') {
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      this.#socket = pair[1];
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    if (request.url.endsWith('/sse')) return this.#openSse();
    const echoed = await this.#roundTrip(await request.text());
    return new Response(echoed, { headers: { 'content-type': 'application/json' } });
  }

  /** @param {string} text */
  call(text) {
    return this.#roundTrip(text);
  }

  /** @param {{ args: unknown, ops: string[] }} call */
  async callWith(call) {
    const ops = call.ops;
    if (ops.includes('sql')) this.ctx.storage.sql.exec('SELECT host FROM routes WHERE session = ?', 's1').toArray();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    if (ops.includes('timer')) timer = setTimeout(() => {}, 60_000);
    try {
      if (ops.includes('nows')) return JSON.stringify(call.args);
      if (ops.includes('plainws')) return await this.#roundTrip(/** @type {string} */ (call.args), this.#plain);
      if (!ops.includes('json')) return await this.#roundTrip(/** @type {string} */ (call.args));
      const id = this.#next + 1;
      const frame = JSON.stringify({ type: 'rpc.request', id: `b.${id}`, server: 'everything', session: 's1', method: 'tools/call', params: { name: 'echo', arguments: call.args }, timeoutMs: 60_000 });
      const answer = JSON.parse(await this.#roundTrip(frame));
      return JSON.stringify({ content: [{ type: 'text', text: `Echo: ${answer.params.arguments.message}` }], isError: false });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * One MCP message from a client to the relay. A request's id is swapped for a tag (sessions
   * share the server) and its answer comes back with the client's id; anything else is sent and
   * answered at once (null).
   * @param {string} text @returns {Promise<string> | null}
   */
  mcp(text) {
    /** @type {(line: string) => void} */
    let deliver = () => {};
    /** @type {(err: Error) => void} */
    let fail = () => {};
    const answer = new Promise((resolve, reject) => {
      deliver = resolve;
      fail = reject;
    });
    return this.#relay(text, deliver, fail) ? answer : null;
  }

  /**
   * One HTTP+SSE message: relayed as `mcp`, a request's answer written to the session's stream.
   * False for a session that has no stream.
   * @param {string} session @param {string} text
   */
  sseMessage(session, text) {
    if (!this.#streams.has(session)) return false;
    this.#relay(text, (line) => this.#event(session, 'message', line), () => {});
    return true;
  }

  /**
   * @param {string} text @param {(line: string) => void} deliver @param {(err: Error) => void} fail
   * @returns {boolean} whether an answer will be delivered
   */
  #relay(text, deliver, fail) {
    const socket = this.#socket ?? (this.#socket = this.ctx.getWebSockets()[0]);
    if (!socket) throw new Error('no relay');
    const id = requestId(text);
    if (id === undefined) {
      socket.send(text);
      return false;
    }
    const tag = String(++this.#next);
    this.#relayed.set(tag, { id, resolve: deliver, reject: fail });
    socket.send(withId(text, tag));
    return true;
  }

  /** A new HTTP+SSE session: its stream, whose first event names where to POST. */
  #openSse() {
    const session = crypto.randomUUID();
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    this.#streams.set(session, writer);
    writer.closed.catch(() => this.#streams.delete(session));
    this.#event(session, 'endpoint', `/message?sessionId=${session}`);
    return new Response(readable, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
  }

  /** @param {string} session @param {string} event @param {string} data */
  #event(session, event, data) {
    this.#streams.get(session)?.write(this.#encoder.encode(`event: ${event}\ndata: ${data}\n\n`)).catch(() => this.#streams.delete(session));
  }

  /** @param {string} text @param {WebSocket} [via] @returns {Promise<string>} */
  #roundTrip(text, via) {
    const socket = via ?? this.#socket ?? (this.#socket = this.ctx.getWebSockets()[0]);
    if (!socket) return Promise.reject(new Error('no echo client'));
    const id = ++this.#next;
    socket.send(`${id} ${text}`);
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  /** @param {WebSocket} _ws @param {string | ArrayBuffer} message */
  webSocketMessage(_ws, message) {
    const text = typeof message === 'string' ? message : new TextDecoder().decode(message);
    if (text.startsWith('{')) return this.#fromRelay(text);
    const space = text.indexOf(' ');
    const id = Number(text.slice(0, space));
    const resolve = this.#waiting.get(id);
    this.#waiting.delete(id);
    resolve?.(text.slice(space + 1));
  }

  /** A line of the server's stdout: the answer to a relayed request, or dropped. @param {string} line */
  #fromRelay(line) {
    const tag = responseId(line);
    const call = tag === undefined ? undefined : this.#relayed.get(tag);
    if (!call) return;
    this.#relayed.delete(/** @type {string} */ (tag));
    call.resolve(withId(line, call.id));
  }

  webSocketClose() {
    this.#socket = undefined;
    for (const call of this.#relayed.values()) call.reject(new Error('the relay went away'));
    this.#relayed.clear();
  }
}

/** @type {WeakMap<object, DurableObjectId>} */
const ids = new WeakMap();

/** @param {{ FLOOR: DurableObjectNamespace }} env */
function stubOf(env, fresh = false) {
  let id = ids.get(env.FLOOR);
  if (!id) ids.set(env.FLOOR, (id = env.FLOOR.idFromName('floor')));
  return fresh ? env.FLOOR.get(env.FLOOR.idFromName('floor')) : env.FLOOR.get(id);
}

/** @param {Request} request @param {any} env @param {string[]} ops */
async function rpcWith(request, env, ops) {
  if (ops.includes('headers')) {
    const h = request.headers;
    void [h.get('authorization'), h.get('origin'), h.get('content-type'), h.get('content-length')];
    void request.url.slice(request.url.indexOf('?') + 1);
  }
  if (ops.includes('digest')) {
    const bytes = new TextEncoder().encode(request.headers.get('authorization') ?? 'Bearer none');
    await Promise.all([crypto.subtle.digest('SHA-256', bytes), crypto.subtle.digest('SHA-256', bytes)]);
    await crypto.subtle.digest('SHA-256', bytes);
  }
  const text = await request.text();
  const args = ops.includes('json') ? JSON.parse(text) : text;
  const stub = stubOf(env, ops.includes('stubs'));
  const body = ops.length ? await stub.callWith({ args, ops }) : await stub.call(text);
  return new Response(body, { headers: { 'content-type': 'application/json' } });
}

const hono = new Hono();
hono.post('/rpc/:ops', (c) => rpcWith(c.req.raw, c.env, c.req.param('ops').split(',')));

export default {
  /** @param {Request} request @param {any} env */
  async fetch(request, env) {
    const url = request.url;
    const start = url.indexOf('/', url.indexOf('//') + 2);
    const end = url.indexOf('?', start);
    const path = url.slice(start, end < 0 ? undefined : end);
    if (path === '/rpc') {
      const text = await request.text();
      return new Response(await stubOf(env).call(text), { headers: { 'content-type': 'application/json' } });
    }
    if (path === '/direct') return new Response(await request.text(), { headers: { 'content-type': 'application/json' } });
    if (path === '/mcp') return mcpFetch(request, stubOf(env));
    if (path === '/sse' || path === '/message') return sseFetch(request, path, stubOf(env));
    if (path.startsWith('/api/')) return restFetch(request, path, stubOf(env));
    if (path === '/fetch' || path === '/ws' || path === '/ws-plain') return stubOf(env).fetch(request);
    if (path.startsWith('/rpc/')) {
      const ops = path.slice(5).split(',');
      return ops.includes('hono') ? hono.fetch(request, env) : rpcWith(request, env, ops);
    }
    return new Response('not found', { status: 404 });
  },
};
