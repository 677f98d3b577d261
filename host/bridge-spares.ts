/**
 * Processes the 2026-07-28 bridge spawns ahead, per server: not initialized, since the
 * capabilities of the client each will serve are not known yet. Taking one skips the spawn (the
 * slow part); its messages and exit go to whoever took it.
 */
import { randomId } from '../shared/secure.ts';
import type { Instance, JsonRpcMessage } from './instance.ts';
import type { Logger } from './logger.ts';
import type { ServerSet } from './servers.ts';

export interface Spare<T> {
  instance: Instance;
  /** Who the process serves, once taken. */
  owner?: T;
  spawnedAt: number;
}

export interface SparesOptions<T> {
  servers: ServerSet;
  logger: Logger;
  onMessage(owner: T, message: JsonRpcMessage): void;
  onExit(owner: T, reason: string): void;
}

export class Spares<T> {
  readonly #opts: SparesOptions<T>;
  readonly #byServer = new Map<string, Spare<T>[]>();

  constructor(opts: SparesOptions<T>) {
    this.#opts = opts;
  }

  /** A spare of the server if one is ready, else a fresh spawn; `owner` gets its messages from now on. */
  take(server: string, owner: T): Spare<T> {
    const spares = this.#byServer.get(server) ?? [];
    let spare = spares.shift();
    while (spare?.instance.exited) spare = spares.shift();
    spare ??= this.#spawn(server);
    spare.owner = owner;
    return spare;
  }

  /** Tops up the server's spares: as many as its `pool` (at least one). Failing to is not an error. */
  fill(server: string): void {
    const servers = this.#opts.servers;
    if (!servers.has(server)) return;
    let spares = this.#byServer.get(server);
    if (!spares) this.#byServer.set(server, (spares = []));
    try {
      while (spares.length < Math.max(1, servers.poolSize(server))) spares.push(this.#spawn(server));
    } catch (err) {
      this.#opts.logger.warn(`server ${server}: could not start a spare process for 2026-07-28 clients`, { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Stops spares spawned before `cutoff` (epoch ms). */
  reap(cutoff: number): void {
    for (const spares of this.#byServer.values()) {
      for (const spare of spares.filter((s) => s.spawnedAt <= cutoff)) {
        spares.splice(spares.indexOf(spare), 1);
        spare.instance.stop();
      }
    }
  }

  closeAll(): void {
    for (const spare of [...this.#byServer.values()].flat()) spare.instance.stop();
    this.#byServer.clear();
  }

  #spawn(server: string): Spare<T> {
    const spare: Spare<T> = { instance: undefined as unknown as Instance, spawnedAt: Date.now() };
    spare.instance = this.#opts.servers.spawnDetached(
      server,
      `modern-${randomId().slice(0, 8)}`,
      (message) => {
        if (spare.owner !== undefined) this.#opts.onMessage(spare.owner, message);
      },
      (reason) => {
        const spares = this.#byServer.get(server);
        if (spares?.includes(spare)) spares.splice(spares.indexOf(spare), 1);
        if (spare.owner !== undefined) this.#opts.onExit(spare.owner, reason);
      },
    );
    return spare;
  }
}
