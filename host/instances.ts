/**
 * The server processes of one host. Per server, by its `instances` policy:
 * - `per-session` (the default): one process per (server, session), started on first use, or
 *   taken ready-made from a warm pool of `pool` initialized processes;
 * - `shared`: one process serves every session of the server (MCP sessions through SharedRelay).
 * Per-session MCP client sessions get a process of their own, whose `initialize` is the client's.
 * Processes stop when their session closes, after `host.idleTimeoutMs` with nothing in flight
 * (REST; the edge times out MCP sessions, which may hold open streams), after
 * `host.maxLifetimeMs`, or when the host disconnects.
 */
import type { Config } from '../shared/config.ts';
import { GatewayError } from '../shared/errors.ts';
import type { Tool } from '../shared/protocol.ts';
import { nextDelay } from './backoff.ts';
import { META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PROTOCOL_VERSION, MODERN_PROTOCOL_VERSIONS } from '../shared/mcp2026.ts';
import { Instance, type InstanceOptions, type JsonRpcMessage } from './instance.ts';
import type { Logger } from './logger.ts';
import { ProcessSlots } from './process-slots.ts';
import { SharedRelay } from './shared-relay.ts';

export interface InstancesOptions {
  config: Config;
  baseDir: string;
  logger: Logger;
  /** A session's process ended on its own (crash, exit) or was reaped. */
  onSessionEnded?: (server: string, session: string, reason: string) => void;
  /** A message from the server process of an MCP client session. */
  onServerMessage?: (server: string, session: string, message: JsonRpcMessage) => void;
  /** A server's warm pool cannot start processes (error), or can again (undefined). */
  onServerHealth?: (server: string, error: string | undefined) => void;
  /** The host-wide cap on session processes, shared by every server (default: one of `host.maxProcesses`). */
  slots?: ProcessSlots;
}

interface Entry {
  promise: Promise<Instance>;
  instance?: Instance;
}

interface Pool {
  spares: Instance[];
  starting: number;
  failures: number;
  retry?: ReturnType<typeof setTimeout>;
}

const key = (server: string, session: string) => `${server}\u0000${session}`;
/** The one session key of a `shared` server's process. */
const SHARED = '(shared)';
/** A pooled process that dies younger than this counts as a failed start. */
const HEALTHY_AFTER_MS = 10_000;
/** How long a server has to answer the 2026-07-28 probe. */
const PROBE_TIMEOUT_MS = 5000;

export class Instances {
  readonly #opts: InstancesOptions;
  readonly #running = new Map<string, Entry>();
  readonly #pools = new Map<string, Pool>();
  /** MCP client sessions of `shared` servers. */
  readonly #relays = new Map<string, SharedRelay>();
  readonly #reaper: ReturnType<typeof setInterval>;
  /** Processes kept to hear about tool list changes. */
  readonly #watchers = new Set<Instance>();
  #disposed = false;
  readonly #slots: ProcessSlots;
  /** What the server answered to the catalog process's `initialize`. */
  initializeResult: unknown;

  constructor(opts: InstancesOptions) {
    this.#opts = opts;
    this.#slots = opts.slots ?? new ProcessSlots(opts.config.host.maxProcesses);
    const { idleTimeoutMs, maxLifetimeMs } = opts.config.host;
    const every = Math.min(30_000, Math.max(250, Math.min(idleTimeoutMs, maxLifetimeMs) / 4));
    this.#reaper = setInterval(() => this.#reap(), every);
    this.#reaper.unref();
  }

  has(server: string): boolean {
    return Object.hasOwn(this.#opts.config.servers, server);
  }

  /** Fills every server's warm pool. */
  startPools(): void {
    for (const [server, config] of Object.entries(this.#opts.config.servers)) {
      if (config.pool > 0 && config.instances === 'per-session') this.#fill(server);
    }
  }

  /** The process for a REST session's request, started and initialized if needed. */
  get(server: string, session: string): Promise<Instance> {
    const shared = this.#opts.config.servers[server]?.instances === 'shared';
    const k = key(server, shared ? SHARED : session);
    let entry = this.#running.get(k);
    if (!entry) {
      const created: Entry = { promise: this.#start(server, shared ? SHARED : session) };
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
  relay(server: string, session: string, message: JsonRpcMessage): void {
    if (this.#opts.config.servers[server]?.instances === 'shared') {
      this.#relayOf(server).relay(session, message);
      return;
    }
    const k = key(server, session);
    let entry = this.#running.get(k);
    if (!entry) {
      if (message.method !== 'initialize') {
        this.#opts.onSessionEnded?.(server, session, 'this host runs no such session');
        return;
      }
      const created: Entry = {
        promise: this.#slots.acquire().then((release) => {
          const options = this.#options(server, session, (m) => this.#opts.onServerMessage?.(server, session, m));
          return Instance.spawnRaw({ ...options, onExit: releasing(release, options.onExit) });
        }),
      };
      entry = created;
      this.#running.set(k, created);
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
    entry.promise.then((i) => i.send(message), () => {});
  }

  #relayOf(server: string): SharedRelay {
    let relay = this.#relays.get(server);
    if (!relay) {
      relay = new SharedRelay({
        instance: () => this.get(server, SHARED),
        send: (session, message) => this.#opts.onServerMessage?.(server, session, message),
        end: (session, reason) => this.#opts.onSessionEnded?.(server, session, reason),
      });
      this.#relays.set(server, relay);
    }
    return relay;
  }

  /** Spawns a process of the server outside any session, not yet initialized (the 2026-07-28 bridge owns it). */
  spawnDetached(server: string, session: string, onMessage: (m: JsonRpcMessage) => void, onExit: (reason: string) => void): Instance {
    const free = this.#slots.tryAcquire();
    if (!free) throw new GatewayError('HOST_BUSY', `this host already runs its maximum of ${this.#slots.max} server processes (host.maxProcesses); try again shortly`);
    try {
      return Instance.spawnUninitialized({ ...this.#options(server, session, onMessage), onExit: releasing(free, (reason) => onExit(reason)) });
    } catch (err) {
      free();
      throw err;
    }
  }

  /**
   * Whether the server speaks MCP 2026-07-28: a throwaway process is asked `server/discover`.
   * Any error, exit or silence (5 s) means no: such servers get the 2025-era handshake.
   */
  async probeModern(server: string): Promise<boolean> {
    const instance = this.spawnDetached(server, 'probe', () => {}, () => {});
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

  #options(server: string, session: string, onMessage?: (m: JsonRpcMessage) => void): InstanceOptions {
    const config = this.#opts.config.servers[server];
    if (!config) throw new GatewayError('SERVER_NOT_FOUND', `this host has no server named ${server}`);
    return {
      server,
      session,
      config,
      baseDir: this.#opts.baseDir,
      logger: this.#opts.logger,
      inheritEnv: this.#opts.config.host.inheritEnv,
      onMessage,
      onExit: (reason, instance) => this.#onExit(instance, reason),
    };
  }

  async #start(server: string, session: string): Promise<Instance> {
    if (session === SHARED) {
      const options = this.#options(server, session, (m) => this.#relays.get(server)?.onServerMessage(m, instance));
      const instance: Instance = await this.#startCounted(options);
      return instance;
    }
    const pool = this.#pools.get(server);
    // A spare past half its lifetime would be replaced soon after: stop it, take a younger one.
    while (pool?.spares[0] && Date.now() - pool.spares[0].startedAt > this.#opts.config.host.maxLifetimeMs / 2) pool.spares.shift()!.stop();
    const spare = pool?.spares.shift();
    if (spare) {
      spare.session = session;
      this.#fill(server);
      return spare;
    }
    return this.#startCounted(this.#options(server, session));
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
    const pool = this.#pools.get(instance.server);
    const spareAt = pool?.spares.indexOf(instance) ?? -1;
    if (pool && spareAt >= 0) {
      pool.spares.splice(spareAt, 1);
      if (Date.now() - instance.startedAt < HEALTHY_AFTER_MS) pool.failures++;
      this.#opts.logger.warn(`server ${instance.server}: a pooled process ended`, { reason });
      this.#fill(instance.server);
      return;
    }
    const k = key(instance.server, instance.session);
    if (this.#running.get(k)?.instance !== instance) return;
    this.#running.delete(k);
    this.#opts.logger.info('server process ended', { server: instance.server, session: instance.session.slice(0, 8), reason });
    if (instance.session === SHARED) this.#relays.get(instance.server)?.onExit(reason);
    else this.#opts.onSessionEnded?.(instance.server, instance.session, reason);
  }

  /** Starts processes until the pool is full; failures back off instead of looping. */
  #fill(server: string): void {
    const size = this.#opts.config.servers[server]?.pool ?? 0;
    let pool = this.#pools.get(server);
    if (!pool) this.#pools.set(server, (pool = { spares: [], starting: 0, failures: 0 }));
    if (this.#disposed || pool.retry) return;
    const p = pool;
    const missing = size - p.spares.length - p.starting;
    if (missing <= 0) return;
    if (p.failures > 0) {
      // Crashing at start: wait, longer each time, before the next try.
      const delay = nextDelay(p.failures + 2);
      p.retry = setTimeout(() => {
        p.retry = undefined;
        this.#spawnSpares(server, p, missing);
      }, delay);
      p.retry.unref();
      return;
    }
    this.#spawnSpares(server, p, missing);
  }

  #spawnSpares(server: string, pool: Pool, count: number): void {
    for (let i = 0; i < count; i++) {
      // Spares count against host.maxProcesses too, but never wait for a slot: the pool refills later.
      const release = this.#slots.tryAcquire();
      if (!release) return;
      pool.starting++;
      this.#startCounted(this.#options(server, 'pool'), release).then(
        (instance) => {
          pool.starting--;
          if (this.#disposed) return instance.stop();
          pool.spares.push(instance);
          if (pool.failures > 0) this.#opts.onServerHealth?.(server, undefined);
          pool.failures = 0;
        },
        (err: Error) => {
          pool.starting--;
          pool.failures++;
          this.#opts.logger.warn(`server ${server}: a pooled process failed to start`, { error: err.message, failures: pool.failures });
          this.#opts.onServerHealth?.(server, err.message);
          this.#fill(server);
        },
      );
    }
  }

  /** Stops a session's process, if it runs (a shared process keeps serving the others). */
  async close(server: string, session: string): Promise<void> {
    this.#relays.get(server)?.closeSession(session);
    const k = key(server, session);
    const entry = this.#running.get(k);
    if (!entry) return;
    this.#running.delete(k);
    (await entry.promise.catch(() => undefined))?.stop();
  }

  /** Stops every session's process (warm pools and watchers stay). */
  async closeAll(): Promise<void> {
    for (const relay of this.#relays.values()) relay.closeAll();
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map(async (e) => (await e.promise.catch(() => undefined))?.stop()));
  }

  dispose(): Promise<void> {
    this.#disposed = true;
    clearInterval(this.#reaper);
    for (const watcher of this.#watchers) watcher.stop();
    this.#watchers.clear();
    for (const pool of this.#pools.values()) {
      clearTimeout(pool.retry);
      for (const spare of pool.spares.splice(0)) spare.stop();
    }
    return this.closeAll();
  }

  get size(): number {
    return this.#running.size;
  }

  /** Counts for the status page: session processes, pooled spares, watchers. */
  counts(): { sessions: number; pooled: number; watching: number } {
    let pooled = 0;
    for (const pool of this.#pools.values()) pooled += pool.spares.length;
    return { sessions: this.#running.size, pooled, watching: this.#watchers.size };
  }

  #reap(): void {
    const now = Date.now();
    const { idleTimeoutMs, maxLifetimeMs } = this.#opts.config.host;
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
      if (instance.session !== SHARED) this.#opts.onSessionEnded?.(instance.server, instance.session, idle ? 'idle timeout' : 'lifetime reached');
    }
    for (const pool of this.#pools.values()) {
      for (const spare of [...pool.spares]) {
        if (now - spare.startedAt > maxLifetimeMs / 2) {
          pool.spares.splice(pool.spares.indexOf(spare), 1);
          spare.stop();
          this.#fill(spare.server);
        }
      }
    }
  }

  /** Starts a throwaway process of the server to learn its tools. */
  async listTools(server: string): Promise<Tool[]> {
    const instance = await this.#startCounted(this.#options(server, 'probe'));
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
  async watchTools(server: string, onChange: (tools: Tool[]) => void): Promise<Tool[]> {
    let debounce: ReturnType<typeof setTimeout> | undefined;
    const options = this.#options(server, 'catalog', (message) => {
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
function releasing(release: () => void, onExit: InstanceOptions['onExit']): InstanceOptions['onExit'] {
  return (reason, instance) => {
    release();
    onExit?.(reason, instance);
  };
}

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
