/**
 * The gateway side by side with its single-process peers, in one run: this gateway's REST,
 * Streamable HTTP and HTTP+SSE; supergateway 4.0 and mcp-proxy 6.7 over Streamable HTTP and
 * HTTP+SSE; server-everything directly over stdio; and the architecture floor (bench/floor/: a
 * bare Worker, one Durable Object RPC, one WebSocket message, a relay that only copies lines, the
 * same server) over REST, Streamable HTTP and HTTP+SSE. Same client (the MCP SDK; fetch for
 * REST), same server and tool (server-everything `echo`), interleaved rounds.
 *
 *   npm run bench                  # 3 rounds (about 6 minutes on a quiet 2-core machine)
 *   npm run bench -- --quick       # 1 short round
 *   npm run bench -- --smoke       # the smallest run that exercises everything (used by the tests)
 *   BENCH_ROUNDS=5 npm run bench   # more rounds
 *   npm run bench -- --only gateway,mcp-proxy   # targets whose name contains one of these
 *   npm run bench -- --only "floor,gateway REST"   # the architecture floor and the gateway's REST
 *
 * Prints one table per measure, the ratios to the best peer and the targets' checks; see
 * bench/README.md. Exits non-zero if any call failed (a missed target is reported, not an error).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openSession, type EchoSession, type Endpoint, type Transport } from './clients.ts';
import { sleep, startGateway, type Gateway } from './gateway.ts';
import { runLoad, type LoadResult } from './load.ts';
import { describeRun } from './machine.ts';
import { startFloorTarget, type FloorTarget } from './floor/target.ts';
import { PEERS, startPeer, type Service } from './peers.ts';
import { descendants, readCmdline, rssBytes, running, sampleCpuMs, sampleTicks } from './proc.ts';
import { report, type Summary } from './compare-report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_BIN = path.join(ROOT, 'node_modules/.bin/mcp-server-everything');
const SERVER = [SERVER_BIN, 'stdio'];
const SERVER_MARKER = 'mcp-server-everything';
const CALL_TIMEOUT_MS = 15_000;
const MIB = 1024 * 1024;
/** How long the benchmark waits for an ended session's process to go before calling it kept. */
const GONE_WAIT_MS = 2000;

class UsageError extends Error {}

export interface Options {
  rounds: number;
  warmup: number;
  seqCalls: number;
  parCalls: number;
  concurrency: number;
  sessions: number;
  mib1: number;
  /** Deadline of one large echo. */
  bigTimeoutMs: number;
  only: string[];
}

function options(argv: string[], env: NodeJS.ProcessEnv): Options {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*?|^ \* ?/gm, '') + '\n');
    process.exit(0);
  }
  let only: string[] = [];
  const rest = [...argv];
  const at = rest.indexOf('--only');
  if (at >= 0) {
    only = (rest[at + 1] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    if (!only.length) throw new UsageError('--only needs a comma-separated list of names');
    rest.splice(at, 2);
  }
  const mode = rest.find((a) => a === '--quick' || a === '--smoke');
  const unknown = rest.filter((a) => a !== mode);
  if (unknown.length) throw new UsageError(`unknown argument ${unknown[0]} (try --help)`);
  const base: Options =
    mode === '--smoke' ? { rounds: 1, warmup: 20, seqCalls: 20, parCalls: 128, concurrency: 64, sessions: 1, mib1: 1, bigTimeoutMs: 10_000, only }
    : mode === '--quick' || env.BENCH_QUICK === '1' ? { rounds: 1, warmup: 200, seqCalls: 300, parCalls: 1280, concurrency: 64, sessions: 3, mib1: 8, bigTimeoutMs: 30_000, only }
    : { rounds: 3, warmup: 500, seqCalls: 1000, parCalls: 3200, concurrency: 64, sessions: 5, mib1: 20, bigTimeoutMs: 30_000, only };
  if (env.BENCH_ROUNDS) {
    base.rounds = Number(env.BENCH_ROUNDS);
    if (!Number.isInteger(base.rounds) || base.rounds < 1) throw new UsageError('BENCH_ROUNDS must be a positive integer');
  }
  return base;
}

/** direct stdio, a single-process peer, the architecture floor, or this gateway. */
export type Group = 'direct' | 'peer' | 'floor' | 'gateway';

export interface Target {
  name: string;
  group: Group;
  transport: Transport;
  endpoint: Endpoint;
  /** The process whose tree holds this target's processes (the benchmark itself for direct stdio). */
  root: number;
  /** The long-lived session the latency, throughput and large-echo measures use. */
  main?: EchoSession;
}

/** A target's processes by role: the proxy itself (edge and host for the gateway, edge and relay for the floor), and servers. */
function roles(t: Target, services: number[]): Map<number, 'edge' | 'host' | 'proxy' | 'server'> {
  const out = new Map<number, 'edge' | 'host' | 'proxy' | 'server'>();
  if (t.group === 'direct') {
    // The servers the SDK's stdio transport spawned: the benchmark's own children, not services.
    for (const p of descendants(process.pid)) {
      if (p.ppid === process.pid && !services.includes(p.pid) && readCmdline(p.pid).includes(SERVER_MARKER)) out.set(p.pid, 'server');
    }
    return out;
  }
  for (const p of descendants(t.root)) {
    const own = t.group === 'peer' ? 'proxy' : 'host';
    if (p.pid === t.root) out.set(p.pid, own);
    else if (p.comm === 'workerd') out.set(p.pid, 'edge');
    else if (readCmdline(p.pid).includes(SERVER_MARKER)) out.set(p.pid, 'server');
    else out.set(p.pid, own);
  }
  return out;
}

function serverPids(t: Target, services: number[]): number[] {
  return [...roles(t, services)].filter(([, r]) => r === 'server').map(([pid]) => pid);
}

/** RSS of the target's own processes (edge + host, or the proxy), servers left out. */
function ownRss(t: Target, services: number[]): number {
  let sum = 0;
  for (const [pid, role] of roles(t, services)) if (role !== 'server') sum += rssBytes(pid);
  return sum;
}

let gateway: Gateway | undefined;
let floor: FloorTarget | undefined;
let gatewayTransports: Transport[] = [];
/** When the last new gateway session got its first answer. */
let lastGatewayStart = -Infinity;
const peers: Service[] = [];
const openSessions = new Set<EchoSession>();

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2), process.env);
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  const wanted = (name: string) => !opts.only.length || opts.only.some((o) => name.toLowerCase().includes(o));

  const targets: Target[] = [];
  if (wanted('direct stdio')) {
    targets.push({ name: 'direct stdio', group: 'direct', transport: 'stdio', root: process.pid, endpoint: { transport: 'stdio', command: SERVER_BIN, args: ['stdio'], env: env as Record<string, string> } });
  }
  for (const spec of PEERS.filter((p) => wanted(p.name))) {
    const service = await startPeer(spec, ROOT, SERVER, env);
    peers.push(service);
    targets.push({ name: spec.name, group: 'peer', transport: spec.transport, root: service.pid, endpoint: { transport: spec.transport, url: spec.url(service.port) } });
  }
  const floorTargets = (['rest', 'streamable', 'sse'] as const).filter((tr) => wanted(`architecture floor ${label(tr)}`));
  if (floorTargets.length) {
    floor = await startFloorTarget(ROOT, SERVER, env);
    for (const tr of floorTargets) {
      const endpoint: Endpoint = tr === 'rest' ? { transport: 'rest', base: floor.url } : { transport: tr, url: `${floor.url}/${tr === 'streamable' ? 'mcp' : 'sse'}` };
      targets.push({ name: `architecture floor ${label(tr)}`, group: 'floor', transport: tr, root: floor.pid, endpoint });
    }
  }
  const gatewayTargets = (['rest', 'streamable', 'sse'] as const).filter((tr) => wanted(`gateway ${label(tr)}`));
  gatewayTransports = gatewayTargets;
  if (gatewayTargets.length) {
    gateway = await startGateway({ root: ROOT, serverCommand: SERVER_BIN, serverArgs: ['stdio'], env });
    for (const tr of gatewayTargets) {
      const endpoint: Endpoint = tr === 'rest' ? { transport: 'rest', base: gateway.url } : { transport: tr, url: `${gateway.url}/everything${tr === 'streamable' ? '/mcp' : ''}` };
      targets.push({ name: `gateway ${label(tr)}`, group: 'gateway', transport: tr, root: gateway.pid, endpoint });
    }
  }
  if (!targets.length) throw new UsageError('--only matched no target');
  const services = [...peers.map((p) => p.pid), ...(floor ? [floor.pid] : []), ...(gateway ? [gateway.pid] : [])];

  console.log(describeRun(ROOT, gateway?.pid ?? process.pid, SERVER_MARKER));
  console.log(`peers: supergateway ${version('supergateway')}, mcp-proxy ${version('mcp-proxy')}; client: MCP SDK ${version('@modelcontextprotocol/sdk')}`);
  console.log(`${opts.rounds} round(s), each target in turn per round: ${opts.seqCalls} sequential calls, ${opts.parCalls} at c=${opts.concurrency}, ${opts.mib1} x 1 MiB and 1 x 5 MiB echo, ${opts.sessions} new session(s)\n`);

  // Idle: started, no session yet. The gateway's three targets share one edge and host.
  const summaries = new Map<string, Summary>();
  for (const t of targets) {
    summaries.set(t.name, {
      name: t.name, group: t.group, transport: t.transport,
      idleRssMiB: t.group === 'direct' ? undefined : ownRss(t, services) / MIB,
      seq: [], seqCalls: 0, par: [], cpuMs: {}, mib1Ms: [], mib5Ms: [], mib5Error: undefined, startMs: [], startFailed: false, goneMs: [], kept: 0, errors: 0, reasons: new Map(),
    });
  }

  for (const t of targets) {
    t.main = await track(openSession(t.endpoint));
    const warm = await runLoad((i) => t.main!.echo(`warm-${i}`, CALL_TIMEOUT_MS), 16, opts.warmup);
    addErrors(summaries.get(t.name)!, warm);
  }

  for (let round = 0; round < opts.rounds; round++) {
    // Each round starts with another target (the order itself turns: each target follows the same one as before).
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const t of order) {
      const t0 = performance.now();
      await measureRound(t, summaries.get(t.name)!, opts, round, services);
      process.stderr.write(`round ${round + 1}/${opts.rounds}: ${t.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
    const t0 = performance.now();
    await largeEchoes(order, round, summaries, opts, services);
    process.stderr.write(`round ${round + 1}/${opts.rounds}: large echoes (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }

  for (const t of targets) {
    const s = summaries.get(t.name)!;
    if (t.main) await closeSession(t.main);
    t.main = undefined;
    if (t.group !== 'direct') s.rssAfterMiB = ownRss(t, services) / MIB;
  }
  if (gateway) {
    const status = await fetch(`${gateway.url}/status`).then((r) => r.json() as Promise<{ hostProcesses?: unknown }>).catch(() => undefined);
    if (status?.hostProcesses) console.log(`gateway /status processes at the end: ${JSON.stringify(status.hostProcesses)}`);
  }
  await stopAll();

  const failed = report([...summaries.values()], opts);
  return failed ? 1 : 0;
}

function label(tr: Transport): string {
  return tr === 'rest' ? 'REST' : tr === 'streamable' ? 'Streamable' : 'HTTP+SSE';
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function track(session: Promise<EchoSession>): Promise<EchoSession> {
  const s = await session;
  openSessions.add(s);
  return s;
}

async function closeSession(s: EchoSession): Promise<void> {
  openSessions.delete(s);
  await s.close().catch(() => {});
}

function addErrors(s: Summary, load: LoadResult): void {
  s.errors += load.errors;
  for (const [r, n] of load.reasons) s.reasons.set(r, (s.reasons.get(r) ?? 0) + n);
}

function fail(s: Summary, err: unknown): void {
  s.errors++;
  const reason = ((err as Error).message ?? String(err)).replace(/\d+/g, 'N').slice(0, 160);
  s.reasons.set(reason, (s.reasons.get(reason) ?? 0) + 1);
}

async function measureRound(t: Target, s: Summary, opts: Options, round: number, services: number[]): Promise<void> {
  const main = t.main!;
  // Sequential calls, with CPU per process role read from /proc before and after.
  const pids = roles(t, services);
  const before = sampleCpuMs(pids.keys());
  const seq = await runLoad((i) => main.echo(`seq-${round}-${i}`, CALL_TIMEOUT_MS), 1, opts.seqCalls);
  const after = sampleCpuMs(pids.keys());
  for (const [pid, role] of pids) {
    const a = after.get(pid);
    if (a === undefined) continue;
    s.cpuMs[role] = (s.cpuMs[role] ?? 0) + (a - (before.get(pid) ?? a));
  }
  s.seq.push(...seq.latencies);
  s.seqCalls += seq.calls;
  addErrors(s, seq);

  const par = await runLoad((i) => main.echo(`par-${round}-${i}`, CALL_TIMEOUT_MS), opts.concurrency, opts.parCalls);
  s.par.push((par.ok / par.wallMs) * 1000);
  addErrors(s, par);

  // New sessions: connect, first call; then end them and wait for their processes to go.
  for (let i = 0; i < opts.sessions && !s.startFailed; i++) {
    if (t.group === 'gateway') await sparesReady();
    let session: EchoSession | undefined;
    const t0 = performance.now();
    try {
      session = await track(openSession(t.endpoint, opts.bigTimeoutMs));
      await session.echo(`first-${round}-${i}`, opts.bigTimeoutMs);
      s.startMs.push(performance.now() - t0);
      if (t.group === 'gateway') lastGatewayStart = performance.now();
    } catch (err) {
      // One failure is enough to know: the next would only wait for the same deadline.
      s.startFailed = true;
      fail(s, err);
      if (session) await closeSession(session);
      continue;
    }
    if (t.transport === 'rest') {
      await closeSession(session);
      continue;
    }
    // Its process is one of the target's server processes now; ending the session should stop
    // exactly one of them (a spare started meanwhile, or the main session's, stay).
    const watch = serverPids(t, services);
    const closedAt = performance.now();
    await closeSession(session);
    const gone = await waitGone(watch);
    if (gone === undefined) s.kept++;
    else s.goneMs.push(gone - closedAt);
  }

  if (process.env.BENCH_TRACE_BIG === '1') {
    // One large echo right after the new sessions, traced and not counted: what an echo costs
    // while a gateway's spare (started to replace the one a new session took) is still loading.
    const cpu = traceCpu(t, services)!;
    const ms = await timed(() => main.echo(`u${'x'.repeat(MIB)}`, opts.bigTimeoutMs)).catch(() => undefined);
    cpu(`${t.name} 1 MiB echo right after the new sessions (not counted): ${ms?.toFixed(1) ?? 'failed'} ms`);
  }
  // The spare a gateway starts for each new session loads for 100-300 ms of CPU: not during the
  // next target's sequential calls (the gateway's three targets share their server processes' CPU
  // count, and every target shares the two cores) nor the large echoes (it doubled some 1 MiB
  // echoes it overlapped).
  await serversQuiet(t, services);
}

/**
 * A round's large echoes, once every target has had the rest of its round (each round ended with
 * its server processes quiet): the 1 MiB echoes one target after another in turn (echo i of every
 * target, then echo i + 1), so that each target's echoes fall in the same seconds as the others'
 * and a slow minute of the machine's is shared rather than landing on whichever target ran then.
 * Each turn takes the targets in another order: a process that serves several targets (the
 * gateway's edge and host, the floor's) may finish collecting one echo's garbage during the next
 * echo, which in a fixed order would always be the same target's. Then one 5 MiB echo each, last,
 * because a peer that refuses one may not recover.
 */
async function largeEchoes(order: Target[], round: number, summaries: Map<string, Summary>, opts: Options, services: number[]): Promise<void> {
  for (let i = 0; i < opts.mib1; i++) {
    for (const t of shuffled(order, round * 1000 + i)) {
      const s = summaries.get(t.name)!;
      const cpu = traceCpu(t, services);
      const ms = await timed(() => t.main!.echo(`${i}${'x'.repeat(MIB)}`, opts.bigTimeoutMs)).catch((err) => fail(s, err));
      if (ms !== undefined) s.mib1Ms.push(ms);
      cpu?.(`${t.name} 1 MiB echo ${i}: ${ms?.toFixed(1) ?? 'failed'} ms`);
    }
  }
  for (const t of order) {
    const s = summaries.get(t.name)!;
    const ms5 = await timed(() => t.main!.echo('5'.repeat(5 * MIB), opts.bigTimeoutMs)).catch((err: Error) => {
      s.mib5Error = err.message.slice(0, 120);
    });
    if (ms5 !== undefined) s.mib5Ms.push(ms5);
  }
}

/**
 * A server in use keeps a spare (an initialized one for REST sessions, a spawned one for MCP
 * sessions): a new session is measured once the host reports them ready in /status, as when
 * sessions do not all arrive at once. Gives up after 5 s (then the start is measured cold).
 */
async function sparesReady(): Promise<void> {
  const kinds = new Set(gatewayTransports.map((t) => (t === 'rest' ? 'rest' : 'mcp'))).size;
  // The host reports its counts at most once a second: a report from before the last session
  // took its spare would still show it.
  const fresh = lastGatewayStart + 1200 - performance.now();
  if (fresh > 0) await sleep(fresh);
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    const status = (await fetch(`${gateway!.url}/status`).then((r) => r.json()).catch(() => undefined)) as { hostProcesses?: Record<string, { pooled: number }> } | undefined;
    const pooled = Object.values(status?.hostProcesses ?? {}).reduce((n, h) => n + h.pooled, 0);
    if (pooled >= kinds) return;
    await sleep(50);
  }
}

/**
 * Waits until none of the target's server processes (the session's, and any spare) used CPU
 * over 100 ms, or 3 s have passed.
 */
async function serversQuiet(t: Target, services: number[]): Promise<void> {
  const deadline = performance.now() + 3000;
  let before = sampleTicks(serverPids(t, services));
  while (performance.now() < deadline) {
    await sleep(100);
    const after = sampleTicks(serverPids(t, services));
    if ([...after].every(([pid, ticks]) => before.get(pid) === ticks)) return;
    before = after;
  }
}

/** When the first of `pids` stopped running, or undefined after GONE_WAIT_MS. */
async function waitGone(pids: number[]): Promise<number | undefined> {
  const deadline = performance.now() + GONE_WAIT_MS;
  for (;;) {
    if (pids.some((pid) => !running(pid))) return performance.now();
    if (performance.now() > deadline) return undefined;
    await sleep(5);
  }
}

/**
 * With BENCH_TRACE_BIG=1: the CPU each of the target's processes spent over one large echo,
 * printed after it (a server process that is not the session's is a spare starting meanwhile).
 */
function traceCpu(t: Target, services: number[]): ((what: string) => void) | undefined {
  if (process.env.BENCH_TRACE_BIG !== '1') return undefined;
  const pids = roles(t, services);
  const before = sampleCpuMs(pids.keys());
  return (what) => {
    // Processes started meanwhile count from zero.
    for (const [pid, role] of roles(t, services)) pids.set(pid, role);
    const after = sampleCpuMs(pids.keys());
    const parts = [...pids].filter(([pid]) => after.has(pid)).map(([pid, role]) => `${role} ${pid} ${(after.get(pid)! - (before.get(pid) ?? 0)).toFixed(1)}`);
    console.log(`${what}; CPU ms: ${parts.join(', ')}`);
  };
}

/** `items` in an order drawn from `seed` (the same seed, the same order: runs can be compared). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = (seed * 2654435761 + 1) >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function stopAll(): Promise<void> {
  await Promise.all([...openSessions].map(closeSession));
  await Promise.all([...peers.splice(0).map((p) => p.stop()), floor?.stop(), gateway?.stop()]);
  gateway = undefined;
  floor = undefined;
}

function killAllSync(): void {
  for (const p of peers) p.kill();
  floor?.kill();
  gateway?.kill();
}

async function abort(why: string, code: number): Promise<never> {
  console.error(why);
  await Promise.race([stopAll().catch(() => {}), sleep(8000)]);
  killAllSync();
  process.exit(code);
}

process.on('exit', killAllSync);
process.on('SIGINT', () => void abort('interrupted', 130));
process.on('SIGTERM', () => void abort('terminated', 143));
const watchdog = setTimeout(() => void abort('benchmark took longer than BENCH_TIMEOUT_S; stopped', 2), Number(process.env.BENCH_TIMEOUT_S ?? 900) * 1000);
watchdog.unref();

try {
  const code = await main();
  process.exit(code);
} catch (err) {
  if (err instanceof UsageError) await abort(err.message, 64);
  const tails = [gateway && `gateway:\n${gateway.tail()}`, floor && `architecture floor:\n${floor.tail()}`, ...peers.map((p) => `${p.name}:\n${p.tail()}`)].filter(Boolean).join('\n');
  await abort(`benchmark failed: ${(err as Error).stack ?? String(err)}${tails ? `\n${tails}` : ''}`, 1);
}
