/**
 * The host agent: dials the edge's /agent WebSocket, announces its servers, runs the calls the
 * edge sends on per-session server processes, keeps the link alive, and reconnects by itself.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Config } from '../shared/config.ts';
import { DEFAULT_PARK_TTL_MS, HOST_DEADLINE_GRACE_MS, PING_INTERVAL_MS, PING_TEXT, PONG_TEXT, PROTOCOL_VERSION, REFUSAL_CLOSE_CODES, WHOLE_MESSAGE_CHARS } from '../shared/constants.ts';
import { GatewayError } from '../shared/errors.ts';
import { FrameDecoder, type FramingLimits } from '../shared/framing.ts';
import { MAX_PAYLOAD_BYTES, RECEIVING, unwelcomedFraming, welcomedFraming } from './link-framing.ts';
import type { Frame, FrameOf, ServerInfo } from '../shared/protocol.ts';
import type { Instance } from './instance.ts';
import { ServerSet, type ServerChanges } from './servers.ts';
import type { Logger } from './logger.ts';
import { nextDelay } from './backoff.ts';
import { HostHeartbeat } from './heartbeat.ts';
import { Bridge } from './bridge.ts';
import { outgoing } from './outgoing.ts';
import { hotFrame } from '../shared/hot-frames.ts';
import { RAW_MIN_CHARS } from '../shared/json-spans.ts';
import { rememberFrameText } from './raw-json.ts';
import { StartError, type StartCause } from './start-failure.ts';
import { failedCallResponse, initializeInfo, publicReason } from './public-info.ts';

export interface AgentOptions {
  /** Base URL of the edge, http(s) or ws(s). */
  edgeUrl: string;
  token: string;
  hostId: string;
  config: Config;
  baseDir: string;
  logger: Logger;
}

/** How long the start waits for a server's 2026-07-28 probe once its tools are listed. */
const PROBE_GRACE_MS = 1000;
/** How often the host looks whether its process counts changed. */
const STATS_INTERVAL_MS = 1000;

interface Running {
  instance: Instance;
  rpcId: number;
}

/**
 * Events: `welcome` (the edge accepted the hello), `disconnected`, `fatal` (a GatewayError
 * that retrying cannot fix: refused token, protocol mismatch), and `connectError` (an Error: a
 * connection attempt failed, or the edge answered it with an HTTP error; the agent retries).
 */
export class HostAgent extends EventEmitter {
  readonly #opts: AgentOptions;
  readonly #log: Logger;
  readonly #instances: ServerSet;
  /** MCP 2026-07-28 requests on 2025-era server processes. */
  readonly #bridge: Bridge;
  readonly #running = new Map<string, Running>();
  #servers: ServerInfo[] = [];
  /** Why each server that failed its first start failed, for the CLI's fix hint. */
  readonly #startFailures = new Map<string, StartCause>();
  #ws: WebSocket | undefined;
  #decoder = new FrameDecoder(RECEIVING);
  /** Frames larger than the edge accepts are refused here (the edge names its limit in its welcome). */
  #framing: FramingLimits = unwelcomedFraming();
  #attempt = 0;
  #stopped = false;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #statsSent = '';
  /** When the edge last showed it is alive (a pong or any frame). */
  #heartbeat = new HostHeartbeat();

  constructor(opts: AgentOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.logger.child('host');
    this.#instances = new ServerSet({
      config: opts.config,
      baseDir: opts.baseDir,
      logger: opts.logger,
      onSessionEnded: (server, session, reason) => this.#send({ type: 'session.closed', server, session, reason: publicReason(this.#log, server, reason) }),
      onServerMessage: (server, session, message) => this.#send({ type: 'mcp.message', server, session, message }),
      onServerHealth: (server, error) => this.#serverHealth(server, error),
    });
    this.#bridge = new Bridge({
      servers: this.#instances,
      send: (frame) => this.#send(frame),
      logger: this.#log,
      idleTimeoutMs: opts.config.host.idleTimeoutMs,
      parkTtlMs: DEFAULT_PARK_TTL_MS,
    });
  }

  get servers(): readonly ServerInfo[] {
    return this.#servers;
  }

  /** Why a server's start failed, when it failed for a known cause. */
  startFailure(server: string): StartCause | undefined {
    return this.#startFailures.get(server);
  }

  /** Learns every server's tools, then connects. */
  async start(): Promise<void> {
    this.#servers = await Promise.all(this.#instances.names.map((name) => this.#describe(name)));
    this.#instances.startPools();
    this.#bridge.warm();
    this.#connect();
  }

  /** Starts the server's catalog process to learn its tools, or the error that kept it from starting. */
  async #describe(name: string): Promise<ServerInfo> {
    try {
      // The 2026-07-28 probe runs beside the tool listing; a slow verdict is announced later instead of holding up the start.
      let verdict: boolean | undefined;
      const probe = this.#instances.probeModern(name).then((modern) => (verdict = modern));
      const tools = await this.#instances.watchTools(name, (changed) => this.#toolsChanged(name, changed));
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([probe, new Promise((resolve) => (grace = setTimeout(resolve, PROBE_GRACE_MS)))]);
      clearTimeout(grace);
      if (verdict === undefined) void probe.then((modern) => modern && this.#markModern(name));
      const modern = verdict === true;
      this.#log.info(`server ${name}: ${tools.length} tools${modern ? ', speaks MCP 2026-07-28' : ''}`);
      this.#startFailures.delete(name);
      const initialize = initializeInfo(this.#instances.initializeResult(name));
      return { name, tools, ...(initialize ? { initialize } : {}), ...(modern ? { modern } : {}) };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (err instanceof StartError) this.#startFailures.set(name, err.why);
      else this.#startFailures.delete(name);
      this.#log.error(`server ${name} failed to start`, { error });
      return { name, tools: [], error: error.slice(0, 2000) };
    }
  }

  /**
   * Hot reload: takes a new config's servers. A changed server's processes stop and it is
   * announced again with `server.update` (its MCP sessions are reported closed); the others keep
   * running. Added or removed servers need a new `host.hello`, after which the edge has forgotten
   * this host's MCP sessions, so their processes are stopped too (REST sessions keep theirs).
   */
  async applyConfig(config: Config): Promise<ServerChanges> {
    const changes = await this.#instances.update(config);
    const fresh = new Map<string, ServerInfo>();
    await Promise.all([...changes.added, ...changes.changed].map(async (name) => fresh.set(name, await this.#describe(name))));
    const old = new Map(this.#servers.map((s) => [s.name, s]));
    this.#servers = this.#instances.names.map((name) => fresh.get(name) ?? old.get(name)!).filter(Boolean);
    if (changes.added.length || changes.removed.length) {
      await this.#instances.closeMcpSessions();
      this.#send(this.#hello());
    } else {
      for (const name of changes.changed) this.#send({ type: 'server.update', server: fresh.get(name)! });
    }
    return changes;
  }

  /** A server's processes stopped (or started again) starting: /health follows. */
  #serverHealth(name: string, error: string | undefined): void {
    const current = this.#servers.find((s) => s.name === name);
    if (!current || current.error === error) return;
    const { error: _previous, ...rest } = current;
    const server: ServerInfo = { ...rest, ...(error ? { error: error.slice(0, 2000) } : {}) };
    this.#servers = this.#servers.map((s) => (s.name === name ? server : s));
    this.#send({ type: 'server.update', server });
  }

  /** The probe answered after the start: the edge hears that the server speaks 2026-07-28. */
  #markModern(name: string): void {
    const current = this.#servers.find((s) => s.name === name);
    if (!current || current.modern) return;
    const server: ServerInfo = { ...current, modern: true };
    this.#servers = this.#servers.map((s) => (s.name === name ? server : s));
    this.#log.info(`server ${name}: speaks MCP 2026-07-28`);
    this.#send({ type: 'server.update', server });
  }

  #toolsChanged(name: string, tools: ServerInfo['tools']): void {
    const { error: _error, ...current } = this.#servers.find((s) => s.name === name) ?? { name, tools };
    const server: ServerInfo = { ...current, name, tools };
    if (JSON.stringify(this.#servers.find((s) => s.name === name)) === JSON.stringify(server)) return;
    this.#servers = this.#servers.map((s) => (s.name === name ? server : s));
    this.#log.info(`server ${name}: its tools changed, now ${tools.length}`);
    this.#send({ type: 'server.update', server });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#pingTimer);
    clearInterval(this.#statsTimer);
    this.#ws?.close(1000, 'host stopping');
    await Promise.all([this.#instances.dispose(), this.#bridge.dispose()]);
  }

  #connect(): void {
    const url = new URL('/agent', this.#opts.edgeUrl.replace(/^http/, 'ws'));
    url.searchParams.set('host', this.#opts.hostId);
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.#opts.token}` },
      perMessageDeflate: false,
      maxPayload: MAX_PAYLOAD_BYTES,
    });
    this.#ws = ws;
    this.#decoder = new FrameDecoder(RECEIVING);

    ws.on('open', () => {
      this.#log.debug('connected to the edge, saying hello', { url: url.origin });
      this.#framing = unwelcomedFraming();
      this.#send(this.#hello());
      this.#heartbeat = new HostHeartbeat();
      const link = {
        current: () => this.#ws === ws,
        ping: () => ws.readyState === WebSocket.OPEN && (ws.send(PING_TEXT), true),
        dead: (silentMs: number) => {
          this.#log.warn('the edge stopped answering pings; reconnecting', { silentMs });
          ws.terminate();
        },
      };
      this.#pingTimer = setInterval(() => this.#heartbeat.beat(link), PING_INTERVAL_MS);
      this.#statsSent = '';
      this.#statsTimer = setInterval(() => this.#sendStats(), STATS_INTERVAL_MS);
    });
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      this.#heartbeat.heard();
      if (text === PONG_TEXT) return;
      // ws gives one Buffer for a text message (binaryType 'nodebuffer', the default).
      this.#onMessage(text, data as Buffer);
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401 || status === 403) {
        this.#fatal(new GatewayError('UNAUTHORIZED', `the edge at ${url.origin} refused the host token (HTTP ${status})`));
      } else {
        this.#log.warn('the edge refused the connection', { status });
        this.emit('connectError', Object.assign(new Error(`the edge answered HTTP ${status} on /agent`), { status }));
      }
      ws.terminate();
    });
    ws.on('error', (err) => {
      this.#log.debug('connection error', { error: err.message });
      this.emit('connectError', err);
    });
    ws.on('close', (code, reason) => this.#onClose(ws, code, reason.toString()));
  }

  /** The host's hello: its servers, and the longest message it takes from the edge. */
  #hello = (): Frame => ({ type: 'host.hello', version: PROTOCOL_VERSION, hostId: this.#opts.hostId, servers: this.#servers, maxMessageChars: WHOLE_MESSAGE_CHARS });

  /** Process counts for the edge's /status, sent only when they change (so an idle edge can sleep). */
  #sendStats(): void {
    const counts = this.#instances.counts();
    const text = JSON.stringify(counts);
    if (text === this.#statsSent) return;
    this.#statsSent = text;
    this.#send({ type: 'host.stats', ...counts });
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    clearInterval(this.#pingTimer);
    clearInterval(this.#statsTimer);
    this.#ws = undefined;
    // Sessions end with the connection: the edge forgets them too.
    this.#running.clear();
    void this.#instances.closeAll();
    void this.#bridge.closeAll();
    this.emit('disconnected', code, reason);
    if (this.#stopped) return;
    const refusedAs = REFUSAL_CLOSE_CODES[code];
    if (refusedAs) {
      this.#fatal(new GatewayError(refusedAs, `the edge refused this host: ${reason}`));
      return;
    }
    const delay = nextDelay(this.#attempt++);
    this.#log.info(`disconnected from the edge; reconnecting in ${Math.round(delay)} ms`, { code, reason });
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  #fatal(error: GatewayError): void {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.emit('fatal', error);
  }

  #send(frame: Frame): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const out = outgoing(frame, this.#framing);
    if (out.bytes) ws.send(out.bytes, { binary: false });
    else if (out.messages) for (const message of out.messages) ws.send(message);
    else {
      const what = out.refused === 'too large' ? 'a frame too large for the edge was not sent' : 'a server answer nests too deeply for the edge';
      this.#log.warn(what, { type: frame.type, ...(out.reason ? { reason: out.reason } : {}), replacedBy: out.instead ? 'an error' : 'nothing' });
      if (out.instead) this.#send(out.instead);
    }
  }

  /** `bytes`: the message's UTF-8 as it arrived. */
  #onMessage(message: string, bytes?: Buffer): void {
    let frame: Frame | undefined;
    try {
      // A call's request or a session's message is checked by hand; the rest goes through the schema.
      frame = hotFrame(message);
      let text = message;
      if (!frame) {
        const decoded = this.#decoder.decodeWithText(message);
        if (!decoded) return;
        ({ frame, text } = decoded);
      }
      // A large request's params (or session message) go to the server as the edge's own text,
      // or its bytes where the frame came in one message.
      if (text.length >= RAW_MIN_CHARS) rememberFrameText(frame, text, text === message ? bytes : undefined);
    } catch (err) {
      const error = err instanceof GatewayError ? err : new GatewayError('BAD_FRAME', String(err));
      this.#log.warn('bad frame from the edge', { code: error.code, reason: error.message });
      this.#send({ type: 'frame.error', code: error.code, message: error.message });
      return;
    }
    this.#dispatch(frame);
  }

  #dispatch(frame: Frame): void {
    switch (frame.type) {
      case 'host.welcome':
        this.#attempt = 0;
        // The edge says how large a frame and how long a message it takes; an older edge says nothing.
        this.#framing = welcomedFraming(frame);
        this.#log.info('connected to the edge', { servers: this.#servers.map((s) => s.name).join(',') });
        this.emit('welcome');
        return;
      case 'rpc.request':
        void this.#answer(frame.id, frame.server, this.#call(frame));
        return;
      case 'modern.call':
        void this.#bridge.call(frame);
        return;
      case 'modern.resume':
        this.#bridge.resume(frame);
        return;
      case 'rpc.cancel': {
        if (this.#bridge.cancel(frame.id, frame.reason ?? 'cancelled by the edge')) return;
        const running = this.#running.get(frame.id);
        running?.instance.cancel(running.rpcId, frame.reason ?? 'cancelled by the edge');
        return;
      }
      case 'mcp.message':
        if (!this.#instances.has(frame.server)) {
          this.#send({ type: 'session.closed', server: frame.server, session: frame.session, reason: `no server named ${frame.server} on this host` });
        } else {
          this.#instances.relay(frame.server, frame.session, frame.message);
        }
        return;
      case 'session.close':
        void this.#instances.close(frame.server, frame.session);
        return;
      case 'frame.error':
        this.#log.warn('the edge reported a bad frame', { code: frame.code, reason: frame.message });
        return;
      default:
        this.#send({ type: 'frame.error', code: 'BAD_FRAME', message: `a host does not accept ${frame.type}` });
    }
  }

  /**
   * Starts a call on the session's process; the promise is its result. Nothing here holds the
   * request past its write to the server: a large request's parsed params are garbage as soon as
   * the server has its line, not kept (and promoted by the garbage collector) until the answer.
   */
  #call(frame: FrameOf<'rpc.request'>): Promise<unknown> {
    const { id, server, session, method, params, timeoutMs } = frame;
    try {
      if (!this.#instances.has(server)) throw new GatewayError('SERVER_NOT_FOUND', `host ${this.#opts.hostId} has no server named ${server}`);
      this.#instances.checkRequest(server, method, params);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#instances.get(server, session).then((instance) => {
      // The edge owns the deadline and sends rpc.cancel when it passes; the host's own limit is
      // only a backstop for a cancel that never comes, so the two never race.
      const call = instance.request(method, params, timeoutMs + HOST_DEADLINE_GRACE_MS);
      this.#running.set(id, { instance, rpcId: call.id });
      return call.done;
    });
  }

  /** Sends a call's result, or its error, back to the edge. */
  async #answer(id: string, server: string, call: Promise<unknown>): Promise<void> {
    try {
      const result = await call;
      this.#send({ type: 'rpc.response', id, result });
    } catch (err) {
      this.#send(failedCallResponse(this.#log, id, server, err));
    } finally {
      this.#running.delete(id);
    }
  }
}
