/**
 * The gateway under soak: the real edge on workerd (with --state, on a fixed port so it can be
 * restarted in place), three real host agents (host-c behind a TCP proxy that can stall or cut
 * its link) running server-everything, every process tagged so nothing can be left behind.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { descendants, freePort, processTable } from '../../scripts/procs.ts';
import { EVERYTHING, GatewayProcess, health, killLeftovers, processesWithMarker, tempDir, waitUntil, writeConfig } from '../e2e/harness.ts';
import { TcpProxy } from '../e2e/tcp-proxy.ts';
import { liveHeap, nodeDebuggerUrl, workerdDebuggerUrl } from './heap.ts';

export const HOST_IDS = ['host-a', 'host-b', 'host-c'] as const;
export type HostId = (typeof HOST_IDS)[number];
/** The host whose link runs through the proxy. */
export const PROXIED: HostId = 'host-c';

interface HostSlot {
  id: HostId;
  configFile: string;
  process: GatewayProcess;
  generation: number;
}

/**
 * `everything` is shared (one process per host serves every session: most of the load);
 * `private` runs a process per session, for the sessions whose server asks their client for
 * sampling (a shared process cannot tell whose request it is).
 */
function hostConfig(generation: number): string {
  return `servers:
  everything:
    command: ${EVERYTHING}
    args: [stdio]
    instances: shared
    env: { SOAK_ROLE: shared, SOAK_GENERATION: "${generation}" }
  private:
    command: ${EVERYTHING}
    args: [stdio]
    env: { SOAK_ROLE: private }
`;
}

export class Cluster {
  readonly marker = randomUUID();
  readonly #token = `soak-${randomUUID()}`;
  /** Every temp folder of the run (state, configs): removed when it stops. */
  readonly #dirs: string[] = [];
  readonly #stateDir = this.#tempDir('mcp-gateway-soak-state-');
  #edgeConfig = '';
  #edge: GatewayProcess | undefined;
  base = '';
  proxy: TcpProxy | undefined;
  #proxyUrl = '';
  readonly #hosts = new Map<HostId, HostSlot>();
  /** Where workerd's inspector listens (the same across edge restarts): for its live heap. */
  #inspector = '';
  /** How many times the edge has been started (a restart makes a new workerd). */
  edgeStarts = 0;
  readonly #hostStarts = new Map<HostId, number>();

  async start(): Promise<void> {
    const port = await freePort();
    this.#inspector = `127.0.0.1:${await freePort()}`;
    this.#edgeConfig = writeConfig(this.#tempDir(), `hostname: 127.0.0.1\nport: ${port}\nservers: {}\nlimits:\n  maxSessionsPerPrincipal: 100000\n  maxCallsPerPrincipal: 100000\n`);
    await this.startEdge();
    this.proxy = new TcpProxy(this.base);
    this.#proxyUrl = await this.proxy.listen();
    await Promise.all(HOST_IDS.map((id) => this.startHost(id)));
  }

  async startEdge(): Promise<void> {
    this.#edge = new GatewayProcess(['edge', '--config', this.#edgeConfig, '--token', this.#token, '--state', this.#stateDir], this.marker, {
      MCP_GATEWAY_WORKERD_INSPECTOR: this.#inspector,
    });
    this.edgeStarts++;
    const match = await this.#edge.waitForOutput(/edge ready at (http:\/\/\S+)/, 60_000);
    this.base = match[1]!;
  }

  /** Stops the edge (SIGTERM, as a deploy does) and starts it again on the same port and state. */
  async restartEdge(): Promise<void> {
    await this.#edge?.kill('SIGTERM');
    await this.startEdge();
  }

  async startHost(id: HostId): Promise<void> {
    const slot = this.#hosts.get(id);
    const generation = slot?.generation ?? 1;
    const configFile = slot?.configFile ?? writeConfig(this.#tempDir(), hostConfig(generation));
    const edge = id === PROXIED ? this.#proxyUrl : this.base;
    // An inspector on a free port, for the agent's live heap (its servers do not inherit NODE_OPTIONS).
    const process = new GatewayProcess(['host', '--config', configFile, '--edge', edge, '--token', this.#token, '--host-id', id, '--retry'], this.marker, {
      NODE_OPTIONS: `--inspect=127.0.0.1:0 ${globalThis.process.env.SOAK_HOST_NODE_FLAGS ?? ''}`,
    });
    this.#hosts.set(id, { id, configFile, process, generation });
    this.#hostStarts.set(id, (this.#hostStarts.get(id) ?? 0) + 1);
    await this.waitForHost(id);
  }

  async waitForHost(id: HostId, timeoutMs = 60_000): Promise<void> {
    const slot = this.#hosts.get(id)!;
    await waitUntil(
      async () => ((await health(this.base).catch(() => ({ hosts: [] }))).hosts.some((h) => h.id === id) ? true : undefined),
      timeoutMs,
      `${id} at the edge\n--- its stderr:\n${slot.process.stderr.slice(-2000)}`,
      () => slot.process.child.exitCode !== null,
    );
  }

  async waitForAllHosts(timeoutMs = 60_000): Promise<void> {
    for (const id of HOST_IDS) await this.waitForHost(id, timeoutMs);
  }

  /** SIGKILL to the host agent alone (its server processes die with it: parent-death signal). */
  async killHost(id: HostId): Promise<void> {
    const slot = this.#hosts.get(id)!;
    process.kill(slot.process.pid, 'SIGKILL');
    await slot.process.exited;
  }

  /**
   * SIGKILL to the process of the shared `everything` server that serves calls on that host: the
   * youngest one (the host starts it on the first call, after the process it lists tools with).
   */
  killSharedServer(id: HostId): number | undefined {
    const slot = this.#hosts.get(id)!;
    const candidates = descendants(slot.process.pid).filter((pid) => environ(pid).includes('SOAK_ROLE=shared\0'));
    const youngest = candidates.sort((a, b) => startTicks(b) - startTicks(a))[0];
    if (youngest !== undefined) process.kill(youngest, 'SIGKILL');
    return youngest;
  }

  /** Rewrites the host's config so `everything` changes (its env): the host restarts that server. */
  changeConfig(id: HostId): number {
    const slot = this.#hosts.get(id)!;
    slot.generation++;
    writeFileSync(slot.configFile, hostConfig(slot.generation));
    return slot.generation;
  }

  hostStarts(id: HostId): number {
    return this.#hostStarts.get(id) ?? 0;
  }

  hostPid(id: HostId): number {
    return this.#hosts.get(id)!.process.pid;
  }

  hostOutput(id: HostId): string {
    const p = this.#hosts.get(id)!.process;
    return p.stdout + p.stderr;
  }

  /** Resident memory in KiB: the edge (CLI and workerd), and each host agent alone (not its servers). */
  memory(): { edgeKiB: number; hostsKiB: Record<HostId, number> } {
    const table = processTable();
    const edgePid = this.#edge!.pid;
    const edgeKiB = [edgePid, ...descendants(edgePid, table)].reduce((sum, pid) => sum + rssKiB(pid), 0);
    const hostsKiB = Object.fromEntries(HOST_IDS.map((id) => [id, rssKiB(this.hostPid(id))])) as Record<HostId, number>;
    return { edgeKiB, hostsKiB };
  }

  /**
   * Where the edge's memory is: the CLI process alone, its workerd alone, and the bytes of the
   * Durable Objects' SQLite files in the state folder (what the storage holds on disk).
   */
  edgeDetail(): { cliKiB: number; workerdKiB: number; storageKiB: number } {
    const edgePid = this.#edge!.pid;
    const workerdKiB = descendants(edgePid).reduce((sum, pid) => sum + rssKiB(pid), 0);
    return { cliKiB: rssKiB(edgePid), workerdKiB, storageKiB: Math.round(folderBytes(this.#stateDir) / 1024) };
  }

  /**
   * Live JS heap after a full collection, in KiB: workerd's (and what V8 has committed for it),
   * and each host agent's; undefined where the inspector did not answer.
   */
  async liveHeaps(): Promise<{ edgeKiB?: number; edgeCommittedKiB?: number; hostsKiB: Record<HostId, number | undefined>; hostsCommittedKiB: Record<HostId, number | undefined> }> {
    const kib = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round(bytes / 1024));
    const edge = await liveHeap(await workerdDebuggerUrl(this.#inspector), async () => void (await (await fetch(`${this.base}/health`)).text()));
    const hostsKiB = {} as Record<HostId, number | undefined>;
    const hostsCommittedKiB = {} as Record<HostId, number | undefined>;
    for (const id of HOST_IDS) {
      const heap = await liveHeap(nodeDebuggerUrl(this.#hosts.get(id)!.process.stderr));
      hostsKiB[id] = kib(heap?.used);
      hostsCommittedKiB[id] = kib(heap?.total);
    }
    return { edgeKiB: kib(edge?.used), edgeCommittedKiB: kib(edge?.total), hostsKiB, hostsCommittedKiB };
  }

  /** Server processes now running under all hosts. */
  serverProcesses(): number {
    const table = processTable();
    return HOST_IDS.flatMap((id) => descendants(this.hostPid(id), table)).length;
  }

  /**
   * Stops everything the way a user does (SIGTERM), then counts what is still running with this
   * run's marker: the orphans. They are killed, but counted.
   */
  async stop(): Promise<number> {
    await this.proxy?.close();
    await Promise.all([...this.#hosts.values()].map((h) => h.process.kill('SIGTERM')));
    await this.#edge?.kill('SIGTERM');
    const deadline = Date.now() + 5000;
    while (processesWithMarker(this.marker).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const orphans = killLeftovers(this.marker);
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    return orphans;
  }

  #tempDir(prefix?: string): string {
    const dir = tempDir(prefix);
    this.#dirs.push(dir);
    return dir;
  }
}

function environ(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}

/** When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function startTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /, '').split(' ');
    return Number(fields[19]);
  } catch {
    return 0;
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    try {
      total += statSync(path.join(entry.parentPath, entry.name)).size;
    } catch {
      // removed meanwhile (a SQLite journal)
    }
  }
  return total;
}

function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
