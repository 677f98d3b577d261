/**
 * The processes of one server on this host (`ServerSet` holds one per server). By its `instances` policy:
 * - `per-session` (the default): one process per session, started on first use, or taken
 *   ready-made from the server's spares (`spares.ts`, by its `pool` setting);
 * - `shared`: one process serves every session of the server (MCP sessions through SharedRelay).
 * Per-session MCP client sessions get a process of their own, whose `initialize` is the client's.
 * Processes stop when their session closes, after `host.idleTimeoutMs` with nothing in flight
 * (REST; the edge times out MCP sessions, which may hold open streams), after
 * `host.maxLifetimeMs`, or when the host disconnects.
 */
import type { Config, ServerConfig } from '../shared/config.ts';
import { GatewayError } from '../shared/errors.ts';
import type { Tool } from '../shared/protocol.ts';
import { META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PROTOCOL_VERSION, MODERN_PROTOCOL_VERSIONS } from '../shared/mcp2026.ts';
import { Instance, type InstanceOptions, type JsonRpcMessage } from './instance.ts';
import type { Logger } from './logger.ts';
import { ProcessSlots, releasing } from './process-slots.ts';
import { SharedRelay } from './shared-relay.ts';
import { Spares } from './spares.ts';

export interface InstancesOptions {
  /** The host-wide settings (`host.*`). */
  host: Config['host'];
  baseDir: string;
  logger: Logger;
  /** A session's process ended on its own (crash, exit) or was reaped. */
  onSessionEnded?: (server: string, session: string, reason: string) => void;
  /** A message from the server process of an MCP client session. */
  onServerMessage?: (server: string, session: string, message: JsonRpcMessage) => void;
  /** A server's warm pool cannot start processes (error), or can again (undefined). */
  onServerHealth?: (server: string, error: string | undefined) => void;
  /** How long an `auto` server keeps its spares after its last session (default AUTO_SPARE_LINGER_MS in spares.ts). */
  spareLingerMs?: number;
  /** The host-wide cap on session processes, shared by every server (default: one of `host.maxProcesses`). */
  slots?: ProcessSlots;
}

interface Entry {
  promise: Promise<Instance>;
  instance?: Instance;
}

/** The one session key of a `shared` server's process. */
const SHARED = '(shared)';
/** How long a server has to answer the 2026-07-28 probe. */
const PROBE_TIMEOUT_MS = 5000;

export class Instances {
  readonly #opts: InstancesOptions;
  /** Processes by session (a `shared` server's one under SHARED). */
  readonly #running = new Map<string, Entry>();
  readonly #spares: Spares;
  /** MCP client sessions of a `shared` server. */
  #relay: SharedRelay | undefined;
  readonly #reaper: ReturnType<typeof setInterval>;
  /** Processes kept to hear about tool list changes. */
  readonly #watchers = new Set<Instance>();
  readonly #slots: ProcessSlots;
  /** What the server answered to the catalog process's `initialize`. */
  initializeResult: unknown;

  readonly server: string;
  readonly config: ServerConfig;

  constructor(server: string, config: ServerConfig, opts: InstancesOptions) {
    this.server = server;
    this.config = config;
    this.#opts = opts;
    this.#slots = opts.slots ?? new ProcessSlots(opts.host.maxProcesses);
    this.#spares = new Spares({
      servers: { [server]: config },
      logger: opts.logger,
      slots: this.#slots,
      options: (_server, session, onMessage) => this.#options(session, onMessage),
      hasSessions: () => this.#hasSessions(),
      onServerMessage: opts.onServerMessage,
      onServerHealth: opts.onServerHealth,
      lingerMs: opts.spareLingerMs,
    });
    const { idleTimeoutMs, maxLifetimeMs } = opts.host;
    const every = Math.min(30_000, Math.max(250, Math.min(idleTimeoutMs, maxLifetimeMs) / 4));
    this.#reaper = setInterval(() => this.#reap(), every);
    this.#reaper.unref();
  }

  /** Fills the server's fixed warm pool (`auto` ones fill when the server is first used). */
  startPools(): void {
    this.#spares.startPools();
  }

  #hasSessions(): boolean {
    for (const k of this.#running.keys()) if (k !== SHARED) return true;
    return false;
  }

  /** The process for a REST session's request, started and initialized if needed. */
  get(session: string): Promise<Instance> {
    const shared = this.config.instances === 'shared';
    const k = shared ? SHARED : session;
    let entry = this.#running.get(k);
    if (!entry) {
      if (!shared) this.#spares.used(this.server);
      const created: Entry = { promise: this.#start(k) };
      entry = created;
      this.#running.set(k, created);
      created.promise.then(
        (instance) => (created.instance = instance),
        () => {
          if (this.#running.get(k) === created) this.#running.delete(k);
        },
      );
    }
    return entry.promise;
  }

  /**
   * Relays an MCP client's message to its session's server process. An `initialize` request
   * starts the process; any other message for a session this host does not run ends it.
   */
  relay(session: string, message: JsonRpcMessage): void {
    const server = this.server;
    if (this.config.instances === 'shared') {
      this.#relayOf().relay(session, message);
      return;
    }
    const k = session;
    let entry = this.#running.get(k);
    if (!entry) {
      if (message.method !== 'initialize') {
        this.#opts.onSessionEnded?.(server, session, 'this host runs no such session');
        return;
      }
      this.#spares.used(server);
      const spare = this.#spares.takeRaw(server, session);
      const created: Entry = spare
        ? { promise: Promise.resolve(spare), instance: spare }
        : {
            promise: this.#slots.acquire().then((release) => {
              const options = this.#options(session, (m) => this.#opts.onServerMessage?.(server, session, m));
              return Instance.spawnRaw({ ...options, onExit: releasing(release, options.onExit) });
            }),
          };
      entry = created;
      this.#running.set(k, created);
      if (!spare) {
        created.promise.then(
          (instance) => (created.instance = instance),
          (err: Error) => {
            if (this.#running.get(k) === created) this.#running.delete(k);
            // The client's initialize gets an answer, and the session ends.
            if (message.id !== undefined && message.id !== null) {
              this.#opts.onServerMessage?.(server, session, { jsonrpc: '2.0', id: message.id, error: { code: -32000, message: err.message } });
            }
            this.#opts.onSessionEnded?.(server, session, err.message);
          },
        );
      }
      this.#spares.fillRaw(server);
    }
    entry.promise.then((i) => i.send(message), () => {});
  }

  #relayOf(): SharedRelay {
    this.#relay ??= new SharedRelay({
      instance: () => this.get(SHARED),
      send: (session, message) => this.#opts.onServerMessage?.(this.server, session, message),
      end: (session, reason) => this.#opts.onSessionEnded?.(this.server, session, reason),
    });
    return this.#relay;
  }

  /** Spawns a process of the server outside any session, not yet initialized (the 2026-07-28 bridge owns it). */
  spawnDetached(session: string, onMessage: (m: JsonRpcMessage) => void, onExit: (reason: string) => void): Instance {
    const free = this.#slots.tryAcquire();
    if (!free) throw new GatewayError('HOST_BUSY', `this host already runs its maximum of ${this.#slots.max} server processes (host.maxProcesses); try again shortly`);
    try {
      return Instance.spawnUninitialized({ ...this.#options(session, onMessage), onExit: releasing(free, (reason) => onExit(reason)) });
    } catch (err) {
      free();
      throw err;
    }
  }

  /**
   * Whether the server speaks MCP 2026-07-28: a throwaway process is asked `server/discover`.
   * Any error, exit or silence (5 s) means no: such servers get the 2025-era handshake.
   */
  async probeModern(): Promise<boolean> {
    const instance = this.spawnDetached('probe', () => {}, () => {});
    try {
      const envelope = { [META_PROTOCOL_VERSION]: MODERN_PROTOCOL_VERSIONS[0], [META_CLIENT_CAPABILITIES]: {}, [META_CLIENT_INFO]: { name: 'mcp-gateway', version: '0.1.0' } };
      const result = (await instance.request('server/discover', { _meta: envelope }, PROBE_TIMEOUT_MS).done) as { supportedVersions?: unknown } | undefined;
      return Array.isArray(result?.supportedVersions) && result.supportedVersions.some((v) => MODERN_PROTOCOL_VERSIONS.includes(String(v)));
    } catch {
      return false;
    } finally {
      instance.stop();
    }
  }

  #options(session: string, onMessage?: (m: JsonRpcMessage) => void): InstanceOptions {
    return {
      server: this.server,
      session,
      config: this.config,
      baseDir: this.#opts.baseDir,
      logger: this.#opts.logger,
      inheritEnv: this.#opts.host.inheritEnv,
      onMessage,
      onExit: (reason, instance) => this.#onExit(instance, reason),
    };
  }

  async #start(session: string): Promise<Instance> {
    if (session === SHARED) {
      const options = this.#options(session, (m) => this.#relay?.onServerMessage(m, instance));
      const instance: Instance = await this.#startCounted(options);
      return instance;
    }
    const spare = this.#spares.take(this.server, session, this.#opts.host.maxLifetimeMs);
    if (spare) return spare;
    const instance = await this.#startCounted(this.#options(session));
    // Started cold: the next session of this server finds a spare (after, not during, this start).
    this.#spares.fill(this.server);
    return instance;
  }

  /** Starts a process once a slot of `host.maxProcesses` is free (waiting briefly); the slot is freed when it exits. */
  async #startCounted(options: InstanceOptions, release?: () => void): Promise<Instance> {
    const free = release ?? (await this.#slots.acquire());
    try {
      return await Instance.start({ ...options, onExit: releasing(free, options.onExit) });
    } catch (err) {
      free();
      throw err;
    }
  }

  #onExit(instance: Instance, reason: string): void {
    if (this.#spares.onExit(instance, reason)) return;
    const k = instance.session;
    if (this.#running.get(k)?.instance !== instance) return;
    this.#running.delete(k);
    if (instance.session !== SHARED) this.#spares.used(instance.server);
    this.#opts.logger.info('server process ended', { server: instance.server, session: instance.session.slice(0, 8), reason });
    if (instance.session === SHARED) this.#relay?.onExit(reason);
    else this.#opts.onSessionEnded?.(instance.server, instance.session, reason);
  }

  /** Stops a session's process, if it runs (a shared process keeps serving the others). */
  async close(session: string): Promise<void> {
    this.#relay?.closeSession(session);
    const entry = this.#running.get(session);
    if (!entry) return;
    this.#running.delete(session);
    this.#spares.used(this.server);
    (await entry.promise.catch(() => undefined))?.stop();
  }

  /** Stops every session's process (warm pools and watchers stay). */
  async closeAll(): Promise<void> {
    this.#relay?.closeAll();
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map(async (e) => (await e.promise.catch(() => undefined))?.stop()));
  }

  dispose(): Promise<void> {
    clearInterval(this.#reaper);
    for (const watcher of this.#watchers) watcher.stop();
    this.#watchers.clear();
    this.#spares.dispose();
    return this.closeAll();
  }

  get size(): number {
    return this.#running.size;
  }

  /** Counts for the status page: session processes, pooled spares, watchers. */
  counts(): { sessions: number; pooled: number; watching: number } {
    return { sessions: this.#running.size, pooled: this.#spares.count, watching: this.#watchers.size };
  }

  #reap(): void {
    const now = Date.now();
    const { idleTimeoutMs, maxLifetimeMs } = this.#opts.host;
    for (const [k, entry] of this.#running) {
      const instance = entry.instance;
      if (!instance) continue;
      const age = now - instance.startedAt;
      const idle = !instance.raw && instance.inFlight === 0 && now - instance.lastActive > idleTimeoutMs;
      // Past its lifetime a process finishes what it is doing, unless that takes another lifetime.
      const old = age > maxLifetimeMs && (instance.inFlight === 0 || age > maxLifetimeMs * 2);
      if (!idle && !old) continue;
      this.#running.delete(k);
      instance.stop();
      if (instance.session !== SHARED) this.#spares.used(instance.server);
      if (instance.session !== SHARED) this.#opts.onSessionEnded?.(instance.server, instance.session, idle ? 'idle timeout' : 'lifetime reached');
    }
    this.#spares.reap(now, maxLifetimeMs);
  }

  /** Starts a throwaway process of the server to learn its tools. */
  async listTools(): Promise<Tool[]> {
    const instance = await this.#startCounted(this.#options('probe'));
    try {
      return await listAllTools(instance);
    } finally {
      instance.stop();
    }
  }

  /**
   * Learns the server's tools and keeps a process of it running to hear when they change
   * (`notifications/tools/list_changed`); `onChange` gets each new list.
   */
  async watchTools(onChange: (tools: Tool[]) => void): Promise<Tool[]> {
    const server = this.server;
    let debounce: ReturnType<typeof setTimeout> | undefined;
    const options = this.#options('catalog', (message) => {
      if (message.method !== 'notifications/tools/list_changed') return;
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        listAllTools(instance).then(onChange, (err: Error) => this.#opts.logger.warn(`could not list the tools of ${server} again`, { error: err.message }));
      }, 200);
    });
    options.onExit = (reason, ended) => {
      clearTimeout(debounce);
      if (this.#watchers.delete(ended)) this.#opts.logger.warn(`server ${server}: the process watching its tools ended`, { reason });
    };
    const instance = await this.#startCounted(options);
    this.initializeResult = instance.initializeResult;
    this.#watchers.add(instance);
    try {
      return await listAllTools(instance);
    } catch (err) {
      this.#watchers.delete(instance);
      instance.stop();
      throw err;
    }
  }
}

/** An onExit that gives the process's slot back first. */

async function listAllTools(instance: Instance): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = (await instance.request('tools/list', cursor ? { cursor } : {}, 30_000).done) as { tools?: Tool[]; nextCursor?: string };
    tools.push(...(page.tools ?? []));
    cursor = page.nextCursor;
  } while (cursor && tools.length < 10_000);
  return tools;
}
