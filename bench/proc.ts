/** Linux /proc helpers: the process tree under a pid, and CPU time per process. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime of the process (all its threads), in clock ticks. */
  ticks: number;
  /** The system (kernel) part of `ticks`. */
  sysTicks: number;
  /** One letter: R running, S sleeping, Z zombie (exited, not yet reaped), ... */
  state: string;
}

let clkTck: number | undefined;

/** Clock ticks per second for /proc/<pid>/stat times (`getconf CLK_TCK`, 100 if that fails). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** One process from /proc/<pid>/stat, or undefined if it has gone. */
export function readProc(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..." where comm may itself contain spaces and parentheses.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(open + 1, close);
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return { pid, ppid: Number(rest[1]), comm, ticks: Number(rest[11]) + Number(rest[12]), sysTicks: Number(rest[12]), state: rest[0] ?? '?' };
}

export function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Every live process whose parent chain leads to rootPid, rootPid included. */
export function descendants(rootPid: number): ProcInfo[] {
  const all: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProc(Number(name));
    if (info) all.push(info);
  }
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const root = all.find((p) => p.pid === rootPid);
  if (!root) return [];
  const out: ProcInfo[] = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/** `direct` is the server spawned by the benchmark itself, outside the gateway. */
export type Role = 'host' | 'edge' | 'server' | 'other' | 'direct';

/**
 * The gateway's processes by role: the gateway pid itself is the host agent (which starts the
 * local workerd), workerd processes are the edge, processes running the MCP server are servers.
 */
export function gatewayRoles(gatewayPid: number, serverMarker: string): Map<number, Role> {
  const roles = new Map<number, Role>();
  for (const p of descendants(gatewayPid)) {
    let role: Role = 'other';
    if (p.pid === gatewayPid) role = 'host';
    else if (p.comm === 'workerd') role = 'edge';
    else if (readCmdline(p.pid).includes(serverMarker)) role = 'server';
    roles.set(p.pid, role);
  }
  return roles;
}

/** CPU ticks per pid, right now. Processes that have gone are left out. */
export function sampleTicks(pids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const info = readProc(pid);
    if (info) out.set(pid, info.ticks);
  }
  return out;
}

/**
 * CPU time per pid right now, in ms: from each live thread's `/proc/<pid>/task/<tid>/schedstat`
 * (nanoseconds), where the kernel keeps it, else from `/proc/<pid>/stat`'s clock ticks (10 ms
 * apart). A thousand calls at 0.12 ms of a process's CPU each are 12 ticks, so ticks alone put
 * such a figure anywhere within +-8%. Processes that have gone are left out; a thread that ends
 * between two samples takes its time with it (Node's and workerd's threads live as long as the
 * process).
 */
export function sampleCpuMs(pids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  const msPerTick = 1000 / clockTicksPerSecond();
  for (const pid of pids) {
    const ns = threadsCpuNs(pid);
    if (ns !== undefined) out.set(pid, ns / 1e6);
    else {
      const info = readProc(pid);
      if (info) out.set(pid, info.ticks * msPerTick);
    }
  }
  return out;
}

function threadsCpuNs(pid: number): number | undefined {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    return undefined;
  }
  return Number.isFinite(total) && total > 0 ? total : undefined;
}

/** CPU milliseconds spent between two samples, summed per role. */
export function cpuMsByRole(roles: Map<number, Role>, before: Map<number, number>, after: Map<number, number>): Record<Role, number> {
  const msPerTick = 1000 / clockTicksPerSecond();
  const sums: Record<Role, number> = { host: 0, edge: 0, server: 0, other: 0, direct: 0 };
  for (const [pid, role] of roles) {
    const a = after.get(pid);
    if (a === undefined) continue;
    sums[role] += (a - (before.get(pid) ?? 0)) * msPerTick;
  }
  return sums;
}

/** Busy CPU time of the whole machine so far (all CPUs, from /proc/stat), in ms. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal ...
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0]! + f[1]! + f[2]! + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return (busy * 1000) / clockTicksPerSecond();
}

/** Resident memory of a process in bytes (VmRSS), or 0 if it has gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** True while the process exists and has not exited (a zombie waiting to be reaped counts as gone). */
export function running(pid: number): boolean {
  const info = readProc(pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X';
}

/** System (kernel) CPU ticks per pid, right now. */
export function sampleSysTicks(pids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const info = readProc(pid);
    if (info) out.set(pid, info.sysTicks);
  }
  return out;
}

/** Keeps the last `max` non-empty lines a child writes on these streams; the returned function joins them (for error messages). */
export function outputTail(streams: (NodeJS.ReadableStream | null | undefined)[], max = 40): () => string {
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > max) lines.splice(0, lines.length - max);
  };
  for (const stream of streams) stream?.on('data', keep);
  return () => lines.join('\n');
}
