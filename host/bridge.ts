/**
 * The host's half of MCP 2026-07-28 for 2025-era STDIO servers. A stateless request runs on an
 * initialized process of its own lease (principal, server, client capabilities: the process was
 * initialized with exactly those capabilities, so the server asks only what the client can
 * answer), one request at a time per process. When the server asks the client something during
 * the call (`elicitation/create`, `sampling/createMessage`, `roots/list`), the call is parked:
 * the edge answers the client `input_required`, and the process waits with the server's request
 * open until the client's retry brings the answers (`modern.resume`), or the park expires.
 * Progress for the request's token, and log messages at or above the request's `logLevel`, go
 * to the request's own stream; other notifications are dropped.
 */
import { GatewayError } from '../shared/errors.ts';
import { INPUT_REQUEST_CAPABILITY, LOG_LEVELS } from '../shared/mcp2026.ts';
import type { Frame, FrameOf } from '../shared/protocol.ts';
import { randomId } from '../shared/secure.ts';
import { RpcError, type Instance, type JsonRpcMessage } from './instance.ts';
import type { Logger } from './logger.ts';
import type { ServerSet } from './servers.ts';
import { Spares } from './bridge-spares.ts';
import { ModernRelay } from './modern-relay.ts';
import { filterServerMessage, refusedTool } from './tool-filter.ts';

export interface BridgeOptions {
  servers: ServerSet;
  send(frame: Frame): void;
  logger: Logger;
  idleTimeoutMs: number;
  parkTtlMs: number;
  /** Processes one lease may run at once (concurrent requests of one client). */
  maxPerLease?: number;
}

interface Proc {
  key: string;
  instance?: Instance;
  starting?: Promise<Instance>;
  call?: Call;
  lastUsed: number;
}

interface Asked {
  childId: string | number;
  method: string;
  params: unknown;
}

interface Call {
  server: string;
  proc: Proc;
  /** The edge's id for the leg in progress; undefined while parked. */
  edgeId?: string;
  childRequestId?: number;
  progressToken?: unknown;
  logLevel?: string;
  capabilities: Record<string, unknown>;
  /** Server requests waiting for the client's answer, by input key. */
  asked: Map<string, Asked>;
  park?: string;
  parkedAt: number;
  parkTimer?: ReturnType<typeof setTimeout>;
  flushTimer?: ReturnType<typeof setTimeout>;
  /** The outcome, if the server answered while the call was parked. */
  final?: FrameOf<'rpc.response'>;
}

/** Server requests arriving this close together go out as one `input_required`. */
const BATCH_MS = 20;
const DEFAULT_MAX_PER_LEASE = 8;
/** Server requests one call may have waiting for the client at once. */
const MAX_ASKED = 32;

export class Bridge {
  readonly #opts: BridgeOptions;
  readonly #procs = new Map<string, Proc[]>();
  readonly #parks = new Map<string, Call>();
  readonly #byEdgeId = new Map<string, Call>();
  readonly #spares: Spares<Proc>;
  readonly #reaper: ReturnType<typeof setInterval>;
  /** 2026-07-28 servers: requests relayed unchanged. */
  readonly #relay: ModernRelay;

  constructor(opts: BridgeOptions) {
    this.#opts = opts;
    this.#spares = new Spares<Proc>({ servers: opts.servers, logger: opts.logger, onMessage: (proc, m) => this.#onChild(proc, m), onExit: (proc, reason) => this.#onExit(proc, reason) });
    this.#relay = new ModernRelay({ servers: opts.servers, send: opts.send, filter: (server, method, result) => this.#filter(server, method, result) });
    this.#reaper = setInterval(() => this.#reap(), Math.min(30_000, Math.max(250, opts.idleTimeoutMs / 4)));
    this.#reaper.unref();
  }

  async call(frame: FrameOf<'modern.call'>): Promise<void> {
    const { id, server, method, params } = frame;
    const servers = this.#opts.servers;
    let proc: Proc | undefined;
    try {
      if (!servers.has(server)) throw new GatewayError('SERVER_NOT_FOUND', `this host has no server named ${server}`);
      const refused = refusedTool(servers.toolFilter(server), method, params);
      if (refused !== undefined) {
        this.#opts.send({ type: 'rpc.response', id, error: { code: -32602, message: `Unknown tool: ${refused}` } });
        return;
      }
      if (frame.relay) return await this.#relay.call(frame);
      if (servers.isShared(server)) {
        // One process for everybody: its requests to the client cannot be told apart, so none are bridged.
        const instance = await servers.get(server, 'modern');
        const result = await instance.request(method, params, frame.timeoutMs).done;
        this.#opts.send({ type: 'rpc.response', id, result: this.#filter(server, method, result) });
        return;
      }
      proc = this.#lease(`${server}\u0000${frame.lease}`);
      const call: Call = {
        server,
        proc,
        edgeId: id,
        progressToken: (params._meta as { progressToken?: unknown } | undefined)?.progressToken,
        logLevel: frame.logLevel,
        capabilities: frame.clientCapabilities,
        asked: new Map(),
        parkedAt: 0,
      };
      proc.call = call;
      this.#byEdgeId.set(id, call);
      const instance = await this.#instance(proc, server, frame);
      // The edge bounds each leg; this bound only keeps a forgotten call from living forever.
      const request = instance.request(method, params, frame.timeoutMs + this.#opts.parkTtlMs * 4);
      call.childRequestId = request.id;
      request.done.then(
        (result) => this.#finish(call, { type: 'rpc.response', id: '', result: this.#filter(server, method, result) }),
        (err: unknown) => this.#finish(call, errorFrame(err)),
      );
    } catch (err) {
      if (proc?.call) this.#release(proc.call);
      this.#opts.send({ ...errorFrame(err), id });
    }
  }

  /**
   * Spawns the spare process of each server that keeps a warm pool (`pool` > 0), so that even the
   * first 2026-07-28 client does not wait for a spawn; other servers get theirs on first use.
   */
  warm(): void {
    for (const server of this.#opts.servers.names) {
      if (this.#opts.servers.poolSize(server) > 0 && !this.#opts.servers.isShared(server)) this.#spares.fill(server);
    }
  }

  /** The client's answers to a parked call. */
  resume(frame: FrameOf<'modern.resume'>): void {
    const call = this.#parks.get(frame.park);
    if (!call || call.server !== frame.server) {
      this.#opts.send({ type: 'rpc.response', id: frame.id, fault: { code: 'INVALID_REQUEST_STATE', message: 'requestState refused: the call it names is over (finished, expired, or answered already); call again without requestState' } });
      return;
    }
    this.#parks.delete(frame.park);
    clearTimeout(call.parkTimer);
    call.park = undefined;
    call.edgeId = frame.id;
    this.#byEdgeId.set(frame.id, call);
    if (call.final) return this.#finish(call, call.final);
    for (const [key, asked] of call.asked) {
      const answer = frame.inputResponses[key];
      // Anything but an object is no answer: the request is asked again below. Extra keys are ignored.
      if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) continue;
      call.asked.delete(key);
      call.proc.instance?.send({ jsonrpc: '2.0', id: asked.childId, result: answer });
    }
    if (call.asked.size > 0) this.#flush(call);
  }

  /** The edge gave up on a leg (deadline, or the client closed its stream). */
  cancel(edgeId: string, reason: string): boolean {
    const call = this.#byEdgeId.get(edgeId);
    if (!call) return false;
    this.#abandon(call, reason);
    return true;
  }

  async closeAll(): Promise<void> {
    for (const call of [...this.#parks.values()]) clearTimeout(call.parkTimer);
    this.#parks.clear();
    this.#byEdgeId.clear();
    const procs = [...this.#procs.values()].flat();
    this.#procs.clear();
    this.#relay.closeAll();
    this.#spares.closeAll();
    for (const proc of procs) proc.instance?.stop();
    await Promise.all(procs.map(async (p) => (await p.starting?.catch(() => undefined))?.stop()));
  }

  dispose(): Promise<void> {
    clearInterval(this.#reaper);
    return this.closeAll();
  }

  // ---- processes -----------------------------------------------------------------------------

  #lease(key: string): Proc {
    let procs = this.#procs.get(key);
    if (!procs) this.#procs.set(key, (procs = []));
    const idle = procs.find((p) => !p.call && !(p.instance?.exited ?? false));
    if (idle) return idle;
    if (procs.length >= (this.#opts.maxPerLease ?? DEFAULT_MAX_PER_LEASE)) {
      // A call parked for the client's answers gives way first: the oldest one ends (its requestState with it).
      const parked = procs.map((p) => p.call).filter((c): c is Call => c?.park !== undefined).sort((a, b) => a.parkedAt - b.parkedAt)[0];
      if (!parked) throw new GatewayError('TOO_MANY_SESSIONS', `at most ${procs.length} 2026-07-28 requests of one client may run at once on this server`);
      this.#abandon(parked, 'a newer request of the same client needed its process');
      procs = this.#procs.get(key) ?? [];
      if (procs.length === 0) this.#procs.set(key, procs);
    }
    const proc: Proc = { key, lastUsed: Date.now() };
    procs.push(proc);
    return proc;
  }

  #instance(proc: Proc, server: string, frame: FrameOf<'modern.call'>): Promise<Instance> {
    if (proc.instance && !proc.instance.exited) return Promise.resolve(proc.instance);
    const init = {
      protocolVersion: '2025-11-25',
      capabilities: clientCapabilitiesFor2025(frame.clientCapabilities),
      clientInfo: frame.clientInfo ?? { name: 'mcp-gateway', version: '0.1.0' },
    };
    const spare = this.#spares.take(server, proc);
    proc.starting = spare.instance.initialize(init).then(() => spare.instance);
    // The next new client of this server finds a process already spawned.
    this.#spares.fill(server);
    return proc.starting.then((instance) => (proc.instance = instance));
  }

  #onExit(proc: Proc, reason: string): void {
    this.#drop(proc);
    const call = proc.call;
    if (call && !call.final) this.#finish(call, { type: 'rpc.response', id: '', fault: { code: 'SERVER_EXITED', message: `server ${call.server} ${reason}` } });
  }

  #drop(proc: Proc): void {
    const procs = this.#procs.get(proc.key);
    if (!procs) return;
    const at = procs.indexOf(proc);
    if (at >= 0) procs.splice(at, 1);
    if (procs.length === 0) this.#procs.delete(proc.key);
  }

  #reap(): void {
    const cutoff = Date.now() - this.#opts.idleTimeoutMs;
    this.#spares.reap(cutoff);
    for (const procs of [...this.#procs.values()]) {
      for (const proc of [...procs]) {
        if (proc.call || proc.lastUsed > cutoff || !proc.instance) continue;
        this.#drop(proc);
        proc.instance.stop();
      }
    }
  }

  // ---- the server's messages during a call ---------------------------------------------------

  #onChild(proc: Proc, message: JsonRpcMessage): void {
    const call = proc.call;
    const isRequest = typeof message.method === 'string' && message.id !== undefined && message.id !== null;
    if (isRequest) {
      const reply = (body: { result: unknown } | { error: { code: number; message: string } }) => proc.instance?.send({ jsonrpc: '2.0', id: message.id!, ...body });
      if (message.method === 'ping') return reply({ result: {} });
      const capability = INPUT_REQUEST_CAPABILITY[message.method!];
      if (!call || capability === undefined) return reply({ error: { code: -32601, message: `Method not found: ${message.method} (no client request is waiting for it)` } });
      if (!(capability in call.capabilities)) return reply({ error: { code: -32601, message: `Method not found: the client did not declare the ${capability} capability` } });
      if (call.asked.size >= MAX_ASKED) return reply({ error: { code: -32603, message: `at most ${MAX_ASKED} requests to the client may wait at once` } });
      call.asked.set(inputKey(message.id!), { childId: message.id!, method: message.method!, params: message.params });
      clearTimeout(call.flushTimer);
      call.flushTimer = setTimeout(() => this.#flush(call), BATCH_MS);
      return;
    }
    const list = /^notifications\/(tools|prompts|resources)\/list_changed$/.exec(message.method ?? '')?.[1];
    if (list) {
      this.#opts.send({ type: 'modern.changed', server: proc.key.slice(0, proc.key.indexOf('\u0000')), list: list as 'tools' | 'prompts' | 'resources' });
      return;
    }
    if (!call?.edgeId || message.method === undefined) return;
    const params = (message.params ?? {}) as { progressToken?: unknown; level?: string };
    if (message.method === 'notifications/progress' && call.progressToken !== undefined && JSON.stringify(params.progressToken) === JSON.stringify(call.progressToken)) {
      this.#opts.send({ type: 'modern.event', id: call.edgeId, message: message as FrameOf<'modern.event'>['message'] });
    } else if (message.method === 'notifications/message' && call.logLevel && LOG_LEVELS.indexOf(params.level ?? '') >= LOG_LEVELS.indexOf(call.logLevel)) {
      this.#opts.send({ type: 'modern.event', id: call.edgeId, message: message as FrameOf<'modern.event'>['message'] });
    }
  }

  /** Parks the call and tells the edge what the server asked. */
  #flush(call: Call): void {
    clearTimeout(call.flushTimer);
    if (call.asked.size === 0 || call.final || !call.edgeId) return;
    const edgeId = call.edgeId;
    this.#byEdgeId.delete(edgeId);
    call.edgeId = undefined;
    call.park = randomId();
    call.parkedAt = Date.now();
    this.#parks.set(call.park, call);
    const park = call.park;
    call.parkTimer = setTimeout(() => {
      if (this.#parks.get(park) === call) this.#abandon(call, 'the client did not answer in time');
    }, this.#opts.parkTtlMs);
    call.parkTimer.unref();
    const inputRequests = Object.fromEntries([...call.asked].map(([key, asked]) => [key, { method: asked.method, params: asked.params }]));
    this.#opts.send({ type: 'modern.input', id: edgeId, park, inputRequests });
  }

  #finish(call: Call, frame: FrameOf<'rpc.response'>): void {
    clearTimeout(call.flushTimer);
    if (!call.edgeId) {
      // Parked (or abandoned): kept for the client's retry, if one comes.
      if (call.park) call.final = frame;
      else this.#release(call);
      return;
    }
    this.#opts.send({ ...frame, id: call.edgeId });
    this.#release(call);
  }

  #abandon(call: Call, reason: string): void {
    if (call.edgeId) this.#byEdgeId.delete(call.edgeId);
    call.edgeId = undefined;
    if (call.park) this.#parks.delete(call.park);
    call.park = undefined;
    clearTimeout(call.parkTimer);
    if (call.childRequestId !== undefined && !call.final) call.proc.instance?.cancel(call.childRequestId, reason);
    // The server may still be busy with it: this process is not reused.
    const instance = call.proc.instance;
    this.#drop(call.proc);
    call.proc.call = undefined;
    instance?.stop();
  }

  #release(call: Call): void {
    if (call.edgeId) this.#byEdgeId.delete(call.edgeId);
    if (call.park) this.#parks.delete(call.park);
    clearTimeout(call.parkTimer);
    if (call.proc.call === call) call.proc.call = undefined;
    call.proc.lastUsed = Date.now();
  }

  #filter(server: string, method: string, result: unknown): unknown {
    if (method !== 'tools/list') return result;
    return filterServerMessage(this.#opts.servers.toolFilter(server), { jsonrpc: '2.0', id: 0, result }).result;
  }
}

function inputKey(id: string | number): string {
  return `request-${String(id)}`.slice(0, 256);
}

function errorFrame(err: unknown): FrameOf<'rpc.response'> {
  if (err instanceof RpcError) return { type: 'rpc.response', id: '', error: { code: err.code, message: err.message, data: err.data } };
  if (err instanceof GatewayError) return { type: 'rpc.response', id: '', fault: { code: err.code, message: err.message.slice(0, 4000) } };
  return { type: 'rpc.response', id: '', fault: { code: 'INTERNAL', message: 'internal error in the host agent' } };
}

/** The client's capabilities as a 2025-era server understands them (roots without list_changed: nobody relays it). */
function clientCapabilitiesFor2025(capabilities: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['elicitation', 'sampling', 'experimental']) if (capabilities[key] !== undefined) out[key] = capabilities[key];
  if (capabilities.roots !== undefined) out.roots = {};
  return out;
}
