/**
 * Child processes for scripts/conformance.ts: each started in a process group of its own, its
 * output kept (last lines in memory, everything in a log file), stopped with every descendant.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout and stderr have been read to their end and written to the log file. */
  drained: Promise<void>;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The last lines written to stdout and stderr, for error reports. */
  tail(lines?: number): string;
  /** Resolves with the first match of `pattern` in stdout or stderr; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /**
   * SIGTERM to the process (it may stop its own children: the gateway does), then after
   * `graceMs` SIGTERM and SIGKILL to its group and to every descendant seen. Safe to call twice.
   */
  stop(graceMs?: number): Promise<void>;
  /** Synchronous last resort: SIGKILL the group and every descendant seen. */
  kill(): void;
}

export interface StartOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go, besides memory. */
  logFile: string;
}

const KEEP_LINES = 200;

export function startProc(name: string, command: string, args: string[], opts: StartOptions): Proc {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true, // a process group of its own: a terminal's Ctrl-C reaches us, and we stop it
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  const log: WriteStream = createWriteStream(opts.logFile);
  const lines: string[] = [];
  let text = '';
  let all = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    const s = chunk.toString('utf8');
    log.write(s);
    all += s;
    text += s;
    if (text.length > 64_000) text = text.slice(-32_000);
    lines.push(...s.split('\n').filter((l) => l.trim() !== ''));
    if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const l of [...listeners]) l();
      resolve({ code, signal });
    });
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const drained = new Promise<void>((resolve) => {
    child.once('close', () => log.end(resolve));
    child.once('error', () => resolve());
  });

  // Every process seen under this one, with its start time: a pid is signalled only while it
  // still names the same process (pids get reused).
  const known = new Map<number, string>();
  const remember = () => {
    const table = processTable();
    const self = table.get(pid);
    if (self) known.set(pid, self.start);
    for (const p of descendants(pid, table)) known.set(p, table.get(p)!.start);
  };
  remember();
  const survivors = () => {
    const table = processTable();
    return [...known].filter(([p, start]) => table.get(p)?.start === start).map(([p]) => p);
  };
  // Processes the target starts may come and go during a run (the gateway starts one server
  // per MCP session): look now and then, so stop() reaches them even if the parent is gone.
  const watch = setInterval(remember, 1000);
  watch.unref();

  const tail = (n = 40) => lines.slice(-n).join('\n');

  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${name}: no ${pattern} within ${timeoutMs} ms\n${tail()}`)), timeoutMs);
      const check = () => {
        const match = pattern.exec(text);
        if (match) return finish(undefined, match);
        if (hasExited || child.exitCode !== null || child.signalCode !== null) {
          finish(new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before printing ${pattern}\n${tail()}`));
        }
      };
      const finish = (err?: Error, match?: RegExpExecArray) => {
        clearTimeout(timer);
        listeners.delete(check);
        if (err) reject(err);
        else resolve(match!);
      };
      listeners.add(check);
      check();
    });

  const kill = () => {
    clearInterval(watch);
    remember();
    const live = survivors();
    const table = processTable();
    const groups = new Set(live.map((p) => table.get(p)?.pgid).filter((g) => g !== undefined && known.has(g)));
    for (const g of groups) signalGroup(g!, 'SIGKILL'); // our groups, servers' own groups included
    for (const p of live) signal(p, 'SIGKILL');
  };

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 15_000) =>
    (stopping ??= (async () => {
      clearInterval(watch);
      remember();
      if (!hasExited) {
        signal(pid, 'SIGTERM');
        await Promise.race([exited, deadline(graceMs)]);
      }
      // Whatever is left: the group (esbuild, workerd under the gateway), then anything seen.
      signalGroup(pid, 'SIGTERM');
      for (const p of survivors()) signal(p, 'SIGTERM');
      const until = Date.now() + 3000;
      while (Date.now() < until && survivors().length > 0) await sleep(50);
      if (survivors().length > 0) kill();
      await Promise.race([exited, deadline(2000)]);
    })());

  return { name, pid, child, exited, drained, output: () => all, tail, waitFor, stop, kill };
}

interface ProcRow {
  ppid: number;
  pgid: number;
  /** `ps`'s lstart: tells a process from a later one that got the same pid. */
  start: string;
}

/** Every process, from `ps`; empty if `ps` is unavailable. */
export function processTable(): Map<number, ProcRow> {
  const table = new Map<number, ProcRow>();
  let out: string;
  try {
    out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,lstart='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return table;
  }
  for (const line of out.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.+?)\s*$/.exec(line);
    if (match) table.set(Number(match[1]), { ppid: Number(match[2]), pgid: Number(match[3]), start: match[4]! });
  }
  return table;
}

/** The pids under `root` (not `root` itself). */
export function descendants(root: number, table = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, row] of table) {
    const list = children.get(row.ppid) ?? [];
    list.push(pid);
    children.set(row.ppid, list);
  }
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const p = queue.shift()!;
    found.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* not a group leader, or the group is empty */
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A deadline for Promise.race: unlike sleep(), it does not keep the process alive once the race is won. */
export function deadline(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
