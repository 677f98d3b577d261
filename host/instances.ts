/**
 * The server processes of one host: one per (server, session), started on first use,
 * stopped when the session closes, when idle too long, or when the host disconnects.
 */
import type { Config } from '../shared/config.ts';
import { GatewayError } from '../shared/errors.ts';
import type { Tool } from '../shared/protocol.ts';
import { Instance, type JsonRpcMessage } from './instance.ts';
import type { Logger } from './logger.ts';

export interface InstancesOptions {
  config: Config;
  baseDir: string;
  logger: Logger;
  /** A session's process ended on its own (crash, exit) or was reaped. */
  onSessionEnded?: (server: string, session: string, reason: string) => void;
  /** A message from the server process of an MCP client session. */
  onServerMessage?: (server: string, session: string, message: JsonRpcMessage) => void;
}

const key = (server: string, session: string) => `${server}\u0000${session}`;

export class Instances {
  readonly #opts: InstancesOptions;
  readonly #running = new Map<string, Promise<Instance>>();
  readonly #reaper: ReturnType<typeof setInterval>;
  /** Processes kept to hear about tool list changes. */
  readonly #watchers = new Set<Instance>();

  constructor(opts: InstancesOptions) {
    this.#opts = opts;
    const idle = opts.config.host.idleTimeoutMs;
    this.#reaper = setInterval(() => this.#reapIdle(), Math.min(30_000, Math.max(250, idle / 4)));
    this.#reaper.unref();
  }

  has(server: string): boolean {
    return Object.hasOwn(this.#opts.config.servers, server);
  }

  /** The session's server process, started and initialized if it is not running yet. */
  get(server: string, session: string): Promise<Instance> {
    const k = key(server, session);
    let instance = this.#running.get(k);
    if (!instance) {
      instance = this.#start(server, session);
      this.#running.set(k, instance);
      instance.catch(() => {
        if (this.#running.get(k) === instance) this.#running.delete(k);
      });
    }
    return instance;
  }

  /**
   * Relays an MCP client's message to its session's server process. An `initialize` request
   * starts the process; any other message for a session this host does not run ends it.
   */
  relay(server: string, session: string, message: JsonRpcMessage): void {
    const k = key(server, session);
    let instance = this.#running.get(k);
    if (!instance) {
      if (message.method !== 'initialize') {
        this.#opts.onSessionEnded?.(server, session, 'this host runs no such session');
        return;
      }
      instance = this.#start(server, session, true);
      this.#running.set(k, instance);
    }
    instance.then((i) => i.send(message), () => {});
  }

  #start(server: string, session: string, raw = false): Promise<Instance> {
    const config = this.#opts.config.servers[server];
    if (!config) return Promise.reject(new GatewayError('SERVER_NOT_FOUND', `this host has no server named ${server}`));
    const k = key(server, session);
    const options = {
      server,
      session,
      config,
      baseDir: this.#opts.baseDir,
      logger: this.#opts.logger,
      onMessage: raw ? (message: JsonRpcMessage) => this.#opts.onServerMessage?.(server, session, message) : undefined,
      onExit: (reason: string) => {
        if (this.#running.get(k) !== self) return;
        this.#running.delete(k);
        this.#opts.logger.info('server process ended', { server, session: session.slice(0, 8), reason });
        this.#opts.onSessionEnded?.(server, session, reason);
      },
    };
    const self: Promise<Instance> = raw ? Promise.resolve(Instance.spawnRaw(options)) : Instance.start(options);
    return self;
  }

  /** Stops a session's process, if it runs. */
  async close(server: string, session: string): Promise<void> {
    const k = key(server, session);
    const instance = this.#running.get(k);
    if (!instance) return;
    this.#running.delete(k);
    (await instance.catch(() => undefined))?.stop();
  }

  /** Stops every process this host started. */
  async closeAll(): Promise<void> {
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.stop()));
  }

  dispose(): Promise<void> {
    clearInterval(this.#reaper);
    for (const watcher of this.#watchers) watcher.stop();
    this.#watchers.clear();
    return this.closeAll();
  }

  get size(): number {
    return this.#running.size;
  }

  async #reapIdle(): Promise<void> {
    const cutoff = Date.now() - this.#opts.config.host.idleTimeoutMs;
    for (const [k, pending] of this.#running) {
      const instance = await pending.catch(() => undefined);
      if (!instance || instance.inFlight > 0 || instance.lastActive > cutoff) continue;
      if (this.#running.get(k) !== pending) continue;
      this.#running.delete(k);
      instance.stop();
      this.#opts.onSessionEnded?.(instance.server, instance.session, 'idle timeout');
    }
  }

  /** Starts a throwaway process of the server to learn its tools. */
  async listTools(server: string): Promise<Tool[]> {
    const instance = await this.#start(server, 'probe');
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
    const config = this.#opts.config.servers[server];
    if (!config) throw new GatewayError('SERVER_NOT_FOUND', `this host has no server named ${server}`);
    let debounce: ReturnType<typeof setTimeout> | undefined;
    const instance = await Instance.start({
      server,
      session: 'catalog',
      config,
      baseDir: this.#opts.baseDir,
      logger: this.#opts.logger,
      onMessage: (message) => {
        if (message.method !== 'notifications/tools/list_changed') return;
        clearTimeout(debounce);
        debounce = setTimeout(() => {
          listAllTools(instance).then(onChange, (err: Error) => this.#opts.logger.warn(`could not list the tools of ${server} again`, { error: err.message }));
        }, 200);
      },
      onExit: (reason) => {
        clearTimeout(debounce);
        if (this.#watchers.delete(instance)) this.#opts.logger.warn(`server ${server}: the process watching its tools ended`, { reason });
      },
    });
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
