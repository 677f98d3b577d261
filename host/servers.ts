/**
 * The host's servers, as the agent uses them, keyed by name: per server its config, its
 * processes (an `Instances`) and its MCP client sessions, so that a server whose configuration
 * changes (hot reload) can be stopped and started again alone while the others keep running.
 * Every server shares the host-wide cap on processes. It also leaves out `enabled: false`
 * servers and applies each server's `tools` allow/deny filter: to the tools announced, to REST
 * calls (`checkRequest`), and to MCP client sessions in both directions.
 */
import { isEnabled, type Config, type ServerConfig } from '../shared/config.ts';
import { GatewayError } from '../shared/errors.ts';
import type { Tool } from '../shared/protocol.ts';
import type { Instance, JsonRpcMessage } from './instance.ts';
import { Instances, type InstancesOptions } from './instances.ts';
import { ProcessSlots } from './process-slots.ts';
import { filterServerMessage, filterTools, refusal, refusedTool, unmatchedAllows } from './tool-filter.ts';

export interface ServerSetOptions extends Omit<InstancesOptions, 'host'> {
  config: Config;
}

export interface ServerChanges {
  added: string[];
  removed: string[];
  /** Servers whose settings changed: their processes were stopped, new ones use the new settings. */
  changed: string[];
}

interface Entry {
  config: ServerConfig;
  instances: Instances;
  /** MCP client sessions with a process here (the edge must hear when they end). */
  mcpSessions: Set<string>;
}

/** The servers a config runs, in its order: every server not `enabled: false`. */
export function enabledServers(config: Config): [string, ServerConfig][] {
  return Object.entries(config.servers).filter(([, server]) => isEnabled(server));
}

export class ServerSet {
  readonly #opts: ServerSetOptions;
  readonly #entries = new Map<string, Entry>();
  #poolsStarted = false;

  constructor(opts: ServerSetOptions) {
    // One cap on processes for the whole host, whatever server they belong to.
    this.#opts = { ...opts, slots: opts.slots ?? new ProcessSlots(opts.config.host.maxProcesses) };
    for (const [name, server] of enabledServers(opts.config)) this.#entries.set(name, this.#create(name, server));
  }

  #create(name: string, config: ServerConfig): Entry {
    const entry: Entry = { config, mcpSessions: new Set(), instances: undefined as unknown as Instances };
    // Callbacks of a server's processes count only while its entry is the current one.
    const current = () => this.#entries.get(name) === entry;
    const { config: { host }, ...opts } = this.#opts;
    entry.instances = new Instances(name, config, {
      ...opts,
      host,
      onSessionEnded: (server, session, reason) => {
        if (!current()) return;
        entry.mcpSessions.delete(session);
        this.#opts.onSessionEnded?.(server, session, reason);
      },
      onServerMessage: (server, session, message) => {
        if (current()) this.#opts.onServerMessage?.(server, session, filterServerMessage(entry.config.tools, message));
      },
      onServerHealth: (server, error) => {
        if (current()) this.#opts.onServerHealth?.(server, error);
      },
    });
    return entry;
  }

  /** Names of the servers this host runs, in the config's order. */
  get names(): string[] {
    return [...this.#entries.keys()];
  }

  has(server: string): boolean {
    return this.#entries.has(server);
  }

  #entry(server: string): Entry {
    const entry = this.#entries.get(server);
    if (!entry) throw new GatewayError('SERVER_NOT_FOUND', `this host has no server named ${server}`);
    return entry;
  }

  /** Refuses a REST request that calls a tool the server's `tools` filter leaves out. */
  checkRequest(server: string, method: string, params: unknown): void {
    const entry = this.#entries.get(server);
    const tool = entry && refusedTool(entry.config.tools, method, params);
    if (tool !== undefined) throw new GatewayError('TOOL_NOT_FOUND', `server ${server} has no tool named ${tool}`);
  }

  /** What the server answered to `initialize` when its tools were first listed. */
  initializeResult(server: string): unknown {
    return this.#entries.get(server)?.instances.initializeResult;
  }

  /** The server's `tools` filter, if it has one. */
  toolFilter(server: string): ServerConfig['tools'] {
    return this.#entries.get(server)?.config.tools;
  }

  /** Whether the server speaks MCP 2026-07-28 itself (asked once, in a throwaway process). */
  probeModern(server: string): Promise<boolean> {
    return this.#entry(server).instances.probeModern();
  }

  /** Processes the server keeps ready at all times (a number `pool`; `auto` keeps none while idle). */
  poolSize(server: string): number {
    const pool = this.#entries.get(server)?.config.pool ?? 0;
    return pool === 'auto' ? 0 : pool;
  }

  /** Whether every session of the server shares one process. */
  isShared(server: string): boolean {
    return this.#entries.get(server)?.config.instances === 'shared';
  }

  /** A process of the server for the 2026-07-28 bridge, outside any session and not yet initialized. */
  spawnDetached(server: string, session: string, onMessage: (m: JsonRpcMessage) => void, onExit: (reason: string) => void): Instance {
    return this.#entry(server).instances.spawnDetached(session, onMessage, onExit);
  }

  startPools(): void {
    this.#poolsStarted = true;
    for (const entry of this.#entries.values()) entry.instances.startPools();
  }

  get(server: string, session: string): Promise<Instance> {
    const entry = this.#entries.get(server);
    if (!entry) return Promise.reject(new GatewayError('SERVER_NOT_FOUND', `this host has no server named ${server}`));
    return entry.instances.get(session);
  }

  relay(server: string, session: string, message: JsonRpcMessage): void {
    const entry = this.#entries.get(server);
    if (!entry) {
      this.#opts.onSessionEnded?.(server, session, `no server named ${server} on this host`);
      return;
    }
    const refused = refusal(entry.config.tools, message);
    if (refused) {
      this.#opts.onServerMessage?.(server, session, refused);
      return;
    }
    if (message.method === 'initialize') entry.mcpSessions.add(session);
    entry.instances.relay(session, message);
  }

  close(server: string, session: string): Promise<void> {
    const entry = this.#entries.get(server);
    if (!entry) return Promise.resolve();
    entry.mcpSessions.delete(session);
    return entry.instances.close(session);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((entry) => {
      entry.mcpSessions.clear();
      return entry.instances.closeAll();
    }));
  }

  /** Stops the processes of every MCP client session (after a hello, the edge has forgotten them). */
  async closeMcpSessions(): Promise<void> {
    await Promise.all(
      [...this.#entries.values()].flatMap((entry) => {
        const sessions = [...entry.mcpSessions];
        entry.mcpSessions.clear();
        return sessions.map((session) => entry.instances.close(session));
      }),
    );
  }

  async dispose(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((entry) => entry.instances.dispose()));
  }

  get size(): number {
    let size = 0;
    for (const entry of this.#entries.values()) size += entry.instances.size;
    return size;
  }

  counts(): { sessions: number; pooled: number; watching: number } {
    const total = { sessions: 0, pooled: 0, watching: 0 };
    for (const entry of this.#entries.values()) {
      const counts = entry.instances.counts();
      total.sessions += counts.sessions;
      total.pooled += counts.pooled;
      total.watching += counts.watching;
    }
    return total;
  }

  /** Starts a throwaway process of the server to learn its tools (filtered). */
  async listTools(server: string): Promise<Tool[]> {
    const entry = this.#entry(server);
    return filterTools(entry.config.tools, await entry.instances.listTools());
  }

  /** As `Instances.watchTools`, with the server's filter applied to every list. */
  async watchTools(server: string, onChange: (tools: Tool[]) => void): Promise<Tool[]> {
    const entry = this.#entry(server);
    const tools = await entry.instances.watchTools((changed) => {
      if (this.#entries.get(server) === entry) onChange(filterTools(entry.config.tools, changed));
    });
    const unmatched = unmatchedAllows(entry.config.tools, tools);
    if (unmatched.length) this.#opts.logger.warn(`server ${server}: tools.allow names tools it does not have`, { unmatched: unmatched.join(', ') });
    return filterTools(entry.config.tools, tools);
  }

  /**
   * Takes a new config's servers: removed and changed servers' processes stop (their MCP
   * sessions are reported ended), changed and added ones are ready to start with the new
   * settings. Host-wide settings (`host.*`) keep their old values until a restart.
   */
  async update(config: Config): Promise<ServerChanges> {
    const next = new Map(enabledServers(config));
    const changes: ServerChanges = { added: [], removed: [], changed: [] };
    for (const [name, entry] of this.#entries) {
      const wanted = next.get(name);
      if (!wanted) changes.removed.push(name);
      else if (JSON.stringify(wanted) !== JSON.stringify(entry.config)) changes.changed.push(name);
    }
    for (const name of next.keys()) if (!this.#entries.has(name)) changes.added.push(name);

    const stopping: Promise<void>[] = [];
    for (const name of [...changes.removed, ...changes.changed]) {
      const entry = this.#entries.get(name)!;
      this.#entries.delete(name);
      for (const session of entry.mcpSessions) this.#opts.onSessionEnded?.(name, session, `server ${name} was reconfigured`);
      stopping.push(entry.instances.dispose());
    }
    // Rebuilt in the new config's order.
    const kept = new Map(this.#entries);
    this.#entries.clear();
    for (const [name, server] of next) {
      const entry = kept.get(name) ?? this.#create(name, server);
      this.#entries.set(name, entry);
      if (!kept.has(name) && this.#poolsStarted) entry.instances.startPools();
    }
    await Promise.all(stopping);
    return changes;
  }
}
