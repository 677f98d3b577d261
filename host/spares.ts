/**
 * Ready-made server processes, so that a new session does not wait for a start. Per server, by
 * its `pool` setting (per-session servers only):
 * - a number: that many initialized processes at all times (0: none);
 * - `auto` (the default): while the server is in use (it runs a session process, or did within
 *   the linger), one initialized spare for REST sessions and one spawned process that waits for
 *   an MCP client's own `initialize` (a raw spare); none once it has been idle for the linger.
 * A pool whose processes fail to start backs off instead of retrying in a loop.
 */
import type { Config } from '../shared/config.ts';
import { nextDelay } from './backoff.ts';
import { Instance, type InstanceOptions, type JsonRpcMessage } from './instance.ts';
import type { Logger } from './logger.ts';
import { releasing, type ProcessSlots } from './process-slots.ts';

/** A pooled process that dies younger than this counts as a failed start. */
const HEALTHY_AFTER_MS = 10_000;
/** An `auto` server keeps its spares this long after its last session ended. */
export const AUTO_SPARE_LINGER_MS = 60_000;
/** The session name of a spare until a session takes it. */
const SPARE = '(spare)';

interface Pool {
  spares: Instance[];
  starting: number;
  failures: number;
  retry?: ReturnType<typeof setTimeout>;
}

export interface SparesOptions {
  /** The servers whose spares these are, by name. */
  servers: Config['servers'];
  logger: Logger;
  /** The host's cap on processes: a spare takes a slot only if one is free now, never waits. */
  slots: ProcessSlots;
  /** How to start a process of `server` (its exit handler included). */
  options(server: string, session: string, onMessage?: (m: JsonRpcMessage) => void): InstanceOptions;
  /** Whether the server runs a session process right now. */
  hasSessions(server: string): boolean;
  /** Where a raw spare's messages go once a session has taken it. */
  onServerMessage?: (server: string, session: string, message: JsonRpcMessage) => void;
  /** The server's pool cannot start processes (error), or can again (undefined). */
  onServerHealth?: (server: string, error: string | undefined) => void;
  lingerMs?: number;
}

export class Spares {
  readonly #opts: SparesOptions;
  readonly #pools = new Map<string, Pool>();
  readonly #raw = new Map<string, Instance>();
  /** Per server: when a session last started or ended. */
  readonly #lastUse = new Map<string, number>();
  readonly #trimTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #disposed = false;

  constructor(opts: SparesOptions) {
    this.#opts = opts;
  }

  get #lingerMs(): number {
    return this.#opts.lingerMs ?? AUTO_SPARE_LINGER_MS;
  }

  #auto(server: string): boolean {
    const config = this.#opts.servers[server];
    return config?.instances === 'per-session' && config.pool === 'auto';
  }

  /** Fills every fixed pool (`auto` ones fill when their server is first used). */
  startPools(): void {
    for (const [server, config] of Object.entries(this.#opts.servers)) {
      if (config.pool !== 'auto' && config.pool > 0 && config.instances === 'per-session') this.fill(server);
    }
  }

  /** In use: a session process now, or one within the linger. */
  #inUse(server: string): boolean {
    return Date.now() - (this.#lastUse.get(server) ?? -Infinity) < this.#lingerMs || this.#opts.hasSessions(server);
  }

  #wanted(server: string): number {
    const config = this.#opts.servers[server];
    if (!config || config.instances !== 'per-session') return 0;
    if (config.pool !== 'auto') return config.pool;
    return this.#inUse(server) ? 1 : 0;
  }

  /** A session of the server started or ended. */
  used(server: string): void {
    this.#lastUse.set(server, Date.now());
    if (!this.#auto(server) || this.#trimTimers.has(server)) return;
    // Looked at again once the linger has passed: the spares of a server left idle stop.
    const timer = setTimeout(() => {
      this.#trimTimers.delete(server);
      if (this.#inUse(server)) this.used(server);
      else this.#trim(server);
    }, this.#lingerMs + 50);
    timer.unref();
    this.#trimTimers.set(server, timer);
  }

  /** An initialized spare, now the process of `session`; the pool refills behind it. */
  take(server: string, session: string, maxLifetimeMs: number): Instance | undefined {
    const pool = this.#pools.get(server);
    // A spare past half its lifetime would be replaced soon after: stop it, take a younger one.
    while (pool?.spares[0] && Date.now() - pool.spares[0].startedAt > maxLifetimeMs / 2) pool.spares.shift()!.stop();
    const spare = pool?.spares.shift();
    if (!spare) return undefined;
    spare.session = session;
    this.fill(server);
    return spare;
  }

  /** A raw spare (spawned, not initialized), now the process of MCP client session `session`. */
  takeRaw(server: string, session: string): Instance | undefined {
    const spare = this.#raw.get(server);
    this.#raw.delete(server);
    if (!spare || spare.exited) return undefined;
    spare.session = session;
    return spare;
  }

  /** Starts initialized processes until the pool has what it should; failures back off. */
  fill(server: string): void {
    let pool = this.#pools.get(server);
    if (!pool) this.#pools.set(server, (pool = { spares: [], starting: 0, failures: 0 }));
    if (this.#disposed || pool.retry) return;
    const p = pool;
    const missing = this.#wanted(server) - p.spares.length - p.starting;
    if (missing <= 0) return;
    if (p.failures > 0) {
      // Crashing at start: wait, longer each time, before the next try.
      p.retry = setTimeout(() => {
        p.retry = undefined;
        this.#spawn(server, p, missing);
      }, nextDelay(p.failures + 2));
      p.retry.unref();
      return;
    }
    this.#spawn(server, p, missing);
  }

  /** Spawns an `auto` server's raw spare, if it has none and is not failing to start. */
  fillRaw(server: string): void {
    if (this.#disposed || this.#raw.has(server) || !this.#auto(server) || (this.#pools.get(server)?.failures ?? 0) > 0) return;
    let spare: Instance | undefined;
    // Until a session takes it, its messages have nowhere to go.
    const onMessage = (m: JsonRpcMessage) => {
      if (spare && spare.session !== SPARE) this.#opts.onServerMessage?.(server, spare.session, m);
    };
    const release = this.#opts.slots.tryAcquire();
    if (!release) return;
    try {
      const options = this.#opts.options(server, SPARE, onMessage);
      spare = Instance.spawnRaw({ ...options, onExit: releasing(release, options.onExit) });
    } catch {
      release();
      return;
    }
    this.#raw.set(server, spare);
  }

  #spawn(server: string, pool: Pool, count: number): void {
    for (let i = 0; i < count; i++) {
      // Spares count against host.maxProcesses too, but never wait for a slot: the pool refills later.
      const release = this.#opts.slots.tryAcquire();
      if (!release) return;
      pool.starting++;
      const options = this.#opts.options(server, SPARE);
      Instance.start({ ...options, onExit: releasing(release, options.onExit) }).then(
        (instance) => {
          pool.starting--;
          if (this.#disposed) return instance.stop();
          pool.spares.push(instance);
          if (pool.failures > 0) this.#opts.onServerHealth?.(server, undefined);
          pool.failures = 0;
        },
        (err: Error) => {
          release();
          pool.starting--;
          pool.failures++;
          this.#opts.logger.warn(`server ${server}: a pooled process failed to start`, { error: err.message, failures: pool.failures });
          this.#opts.onServerHealth?.(server, err.message);
          this.fill(server);
        },
      );
    }
  }

  /** A process ended: true if it was a spare (then it is accounted for here). */
  onExit(instance: Instance, reason: string): boolean {
    if (this.#raw.get(instance.server) === instance) {
      this.#raw.delete(instance.server);
      this.#opts.logger.warn(`server ${instance.server}: a spare process ended`, { reason });
      return true;
    }
    const pool = this.#pools.get(instance.server);
    const at = pool?.spares.indexOf(instance) ?? -1;
    if (!pool || at < 0) return false;
    pool.spares.splice(at, 1);
    if (Date.now() - instance.startedAt < HEALTHY_AFTER_MS) pool.failures++;
    this.#opts.logger.warn(`server ${instance.server}: a pooled process ended`, { reason });
    this.fill(instance.server);
    return true;
  }

  /** Stops spares the server should not have now (an `auto` server left idle has none). */
  #trim(server: string): void {
    const pool = this.#pools.get(server);
    const extra = (pool?.spares.length ?? 0) - this.#wanted(server);
    for (const spare of extra > 0 ? pool!.spares.splice(0, extra) : []) spare.stop();
    const raw = this.#raw.get(server);
    if (raw && !this.#inUse(server)) {
      this.#raw.delete(server);
      raw.stop();
    }
  }

  /** Replaces spares past half their lifetime, and trims idle servers' (from the reaper). */
  reap(now: number, maxLifetimeMs: number): void {
    for (const [server, pool] of this.#pools) {
      for (const spare of [...pool.spares]) {
        if (now - spare.startedAt > maxLifetimeMs / 2) {
          pool.spares.splice(pool.spares.indexOf(spare), 1);
          spare.stop();
          this.fill(server);
        }
      }
      this.#trim(server);
    }
    for (const [server, spare] of this.#raw) {
      if (now - spare.startedAt > maxLifetimeMs / 2) {
        this.#raw.delete(server);
        spare.stop();
      }
    }
  }

  get count(): number {
    let count = this.#raw.size;
    for (const pool of this.#pools.values()) count += pool.spares.length;
    return count;
  }

  dispose(): void {
    this.#disposed = true;
    for (const pool of this.#pools.values()) {
      clearTimeout(pool.retry);
      for (const spare of pool.spares.splice(0)) spare.stop();
    }
    for (const spare of this.#raw.values()) spare.stop();
    this.#raw.clear();
    for (const timer of this.#trimTimers.values()) clearTimeout(timer);
    this.#trimTimers.clear();
  }
}
