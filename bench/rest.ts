/**
 * REST echo benchmark: latency (p50, p99), throughput and CPU per call through the gateway
 * (`node bin/mcp-gateway.js start`: workerd edge + host agent + server-everything), side by side with
 * the same echo made directly over stdio to a freshly spawned server-everything.
 *
 *   npm run bench                 # full run (2000 calls at c=1, 10000 at c=16 and c=64)
 *   npm run bench -- --quick      # a fast run
 *   BENCH_CALLS=5000 npm run bench            # the same count at every level
 *   BENCH_CALLS=1000,4000,4000 BENCH_CONCURRENCY=1,16,64 npm run bench
 *
 * See bench/README.md for how to read the table. Exits non-zero if any call failed.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DirectServer } from './direct.ts';
import { getJson, restEcho, startGateway, type Gateway } from './gateway.ts';
import { fixed, formatTable, percentile, runLoad, type Cell, type LoadResult } from './load.ts';
import { describeRun } from './machine.ts';
import { cpuMsByRole, gatewayRoles, machineBusyMs, sampleTicks, type Role } from './proc.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_BIN = path.join(ROOT, 'node_modules/.bin/mcp-server-everything');
const SERVER_ARGS = ['stdio'];
const SERVER_MARKER = 'mcp-server-everything';
const CALL_TIMEOUT_MS = 10_000;

/** A mistake in the command line or environment: reported without a stack trace. */
class UsageError extends Error {}

interface Options {
  concurrency: number[];
  calls: number[];
  warmup: number;
}

function options(argv: string[], env: NodeJS.ProcessEnv): Options {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*?|^ \* ?/gm, '') + '\n');
    process.exit(0);
  }
  const unknown = argv.filter((a) => a !== '--quick');
  if (unknown.length) throw new UsageError(`unknown argument ${unknown[0]} (try --help)`);
  const quick = argv.includes('--quick') || env.BENCH_QUICK === '1';
  const list = (value: string | undefined) => value?.split(',').map((s) => Number(s.trim()));
  const concurrency = list(env.BENCH_CONCURRENCY) ?? [1, 16, 64];
  const defaults = concurrency.map((c) => (c === 1 ? (quick ? 300 : 2000) : quick ? 1500 : 10_000));
  let calls = list(env.BENCH_CALLS) ?? defaults;
  if (calls.length === 1) calls = concurrency.map(() => calls[0]!);
  if (calls.length !== concurrency.length || [...calls, ...concurrency].some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UsageError('BENCH_CALLS and BENCH_CONCURRENCY must be positive integers, BENCH_CALLS one number or one per level');
  }
  return { concurrency, calls, warmup: quick ? 300 : 1000 };
}

interface Row {
  path: 'direct stdio' | 'gateway REST';
  concurrency: number;
  load: LoadResult;
  cpu: Partial<Record<Role, number>>;
  /** CPU used by processes outside this benchmark during the level, in % of the whole machine. */
  othersPct: number;
}

let gateway: Gateway | undefined;
/** Calls made outside the measured levels (warm-up), still checked and counted. */
const unmeasured: LoadResult[] = [];
let direct: DirectServer | undefined;

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2), process.env);
  // Both paths run the server on the Node running this script, whatever `node` is on PATH.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };

  gateway = await startGateway({ root: ROOT, serverCommand: SERVER_BIN, serverArgs: SERVER_ARGS, env });
  const base = gateway.url;
  console.log(describeRun(ROOT, gateway.pid, SERVER_MARKER));

  const setupAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const { sessionId } = (await getJson(setupAgent, `${base}/api/sessionid`)) as { sessionId: string };
  const callUrl = new URL(`${base}/api/everything/echo?sessionId=${encodeURIComponent(sessionId)}`);
  let t = performance.now();
  await restEcho(setupAgent, callUrl, 'first', 30_000);
  const firstGatewayMs = performance.now() - t;

  t = performance.now();
  direct = new DirectServer(SERVER_BIN, SERVER_ARGS, env);
  await direct.initialize();
  await direct.echo('first', 30_000);
  const firstDirectMs = performance.now() - t;
  console.log(`first call: gateway (new session, spawns the server) ${firstGatewayMs.toFixed(0)} ms; direct (spawn + initialize + call) ${firstDirectMs.toFixed(0)} ms`);

  // Warm-up: JIT on every side, sockets open.
  const d = direct;
  unmeasured.push(
    await runLoad((i) => d.echo(`warm-${i}`, CALL_TIMEOUT_MS), 16, opts.warmup),
    await runLoad((i) => restEcho(setupAgent, callUrl, `warm-${i}`, CALL_TIMEOUT_MS), 4, opts.warmup),
  );
  setupAgent.destroy();
  console.log(`warm-up: ${opts.warmup} calls on each path; measuring ${opts.concurrency.map((c, i) => `${opts.calls[i]} calls at c=${c}`).join(', ')}\n`);

  const rows: Row[] = [];
  for (const [level, concurrency] of opts.concurrency.entries()) {
    const calls = opts.calls[level]!;
    rows.push(await measureDirect(d, gateway.pid, concurrency, calls));
    rows.push(await measureGateway(gateway.pid, d.pid, callUrl, concurrency, calls));
  }

  await gateway.stop();
  gateway = undefined;
  direct.close();
  direct = undefined;

  console.log(table(rows));
  const busy = rows.filter((r) => r.othersPct > 10);
  if (busy.length) {
    console.log(`\nnote: other programs used more than 10% of the machine during ${busy.length} of ${rows.length} rows ("others CPU %"); those numbers are skewed, rerun on a quiet machine`);
  }
  return reportErrors([...unmeasured, ...rows.map((r) => r.load)]);
}

async function measureDirect(server: DirectServer, gatewayPid: number, concurrency: number, calls: number): Promise<Row> {
  unmeasured.push(await runLoad((i) => server.echo(`pre-${i}`, CALL_TIMEOUT_MS), concurrency, concurrency * 4));
  const { load, cpu, othersPct } = await measured(gatewayPid, server.pid, () =>
    runLoad((i) => server.echo(`direct-${concurrency}-${i}`, CALL_TIMEOUT_MS), concurrency, calls),
  );
  return { path: 'direct stdio', concurrency, load, othersPct, cpu: { server: cpu.direct } };
}

async function measureGateway(gatewayPid: number, directPid: number, url: URL, concurrency: number, calls: number): Promise<Row> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    // Open `concurrency` sockets before the clock starts.
    unmeasured.push(await runLoad((i) => restEcho(agent, url, `pre-${i}`, CALL_TIMEOUT_MS), concurrency, concurrency * 4));
    const { load, cpu, othersPct, roles } = await measured(gatewayPid, directPid, () =>
      runLoad((i) => restEcho(agent, url, `gateway-${concurrency}-${i}`, CALL_TIMEOUT_MS), concurrency, calls),
    );
    const has = (role: Role) => [...roles.values()].includes(role);
    return {
      path: 'gateway REST',
      concurrency,
      load,
      othersPct,
      cpu: { edge: has('edge') ? cpu.edge : undefined, host: cpu.host, server: has('server') ? cpu.server : undefined },
    };
  } finally {
    agent.destroy();
  }
}

/**
 * Runs one level and samples CPU around it: per role in the gateway's process tree, the direct
 * server, and what the rest of the machine used (other programs skew the numbers on 2 cores).
 */
async function measured(gatewayPid: number, directPid: number, run: () => Promise<LoadResult>) {
  const roles = gatewayRoles(gatewayPid, SERVER_MARKER);
  roles.set(directPid, 'direct');
  const before = sampleTicks(roles.keys());
  const busy0 = machineBusyMs();
  const load = await run();
  const busy1 = machineBusyMs();
  // Processes that appeared during the level (a respawned server) count from zero.
  for (const [pid, role] of gatewayRoles(gatewayPid, SERVER_MARKER)) if (!roles.has(pid)) roles.set(pid, role);
  const after = sampleTicks(roles.keys());
  const cpu = cpuMsByRole(roles, before, after);
  const ours = Object.values(cpu).reduce((a, b) => a + b, 0) + load.clientCpuMs;
  const othersPct = (Math.max(0, busy1 - busy0 - ours) / (load.wallMs * os.cpus().length)) * 100;
  return { load, cpu, othersPct, roles };
}

function table(rows: Row[]): string {
  const header = [
    'path', 'c', 'calls', 'p50 ms', 'p99 ms', 'calls/s', 'p50 gw/direct', 'calls/s direct/gw',
    'edge CPU ms/call', 'host CPU ms/call', 'server CPU ms/call', 'gw total CPU ms/call', 'client CPU ms/call', 'others CPU %', 'errors',
  ];
  const out: Cell[][] = [];
  for (const row of rows) {
    const { load } = row;
    const p50 = percentile(load.latencies, 50);
    const rate = (load.ok / load.wallMs) * 1000;
    const per = (ms: number | undefined) => (ms === undefined || load.calls === 0 ? undefined : ms / load.calls);
    const ref = rows.find((r) => r.path === 'direct stdio' && r.concurrency === row.concurrency);
    const gw = row.path === 'gateway REST';
    const refP50 = ref ? percentile(ref.load.latencies, 50) : NaN;
    const refRate = ref ? (ref.load.ok / ref.load.wallMs) * 1000 : NaN;
    const total = gw && row.cpu.edge !== undefined && row.cpu.server !== undefined ? row.cpu.edge + row.cpu.host! + row.cpu.server : undefined;
    out.push([
      row.path, row.concurrency, load.calls,
      fixed(p50, 3), fixed(percentile(load.latencies, 99), 3), fixed(rate, 0),
      gw ? `${fixed(p50 / refP50, 1) ?? '-'}x` : undefined,
      gw ? `${fixed(refRate / rate, 1) ?? '-'}x` : undefined,
      fixed(per(row.cpu.edge), 3), fixed(per(row.cpu.host), 3), fixed(per(row.cpu.server), 3),
      fixed(per(total), 3), fixed(per(load.clientCpuMs), 3), fixed(row.othersPct, 0), load.errors,
    ]);
  }
  return formatTable(header, out);
}

function reportErrors(loads: LoadResult[]): number {
  const failed = loads.reduce((n, l) => n + l.errors, 0);
  const total = loads.reduce((n, l) => n + l.calls, 0);
  if (!failed) {
    console.log(`\nall ${total} calls (warm-up included) answered 200 with the expected echo`);
    return 0;
  }
  console.log(`\n${failed} of ${total} calls failed:`);
  const reasons = new Map<string, number>();
  for (const l of loads) for (const [r, n] of l.reasons) reasons.set(r, (reasons.get(r) ?? 0) + n);
  for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${n} x ${r}`);
  if (loads.some((l) => l.aborted)) console.log('  (a level stopped early after too many failures)');
  return 1;
}

function cleanupSync(): void {
  gateway?.kill();
  direct?.close();
}

async function abort(why: string, code: number): Promise<never> {
  console.error(why);
  direct?.close();
  direct = undefined;
  await gateway?.stop().catch(() => {});
  gateway = undefined;
  process.exit(code);
}

process.on('exit', cleanupSync);
process.on('SIGINT', () => void abort('interrupted', 130));
process.on('SIGTERM', () => void abort('terminated', 143));
const watchdog = setTimeout(() => void abort('benchmark took longer than BENCH_TIMEOUT_S; stopped', 2), Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000);
watchdog.unref();

try {
  const code = await main();
  process.exit(code);
} catch (err) {
  const tail = gateway?.tail();
  if (err instanceof UsageError) await abort(err.message, 64);
  await abort(`benchmark failed: ${(err as Error).stack ?? String(err)}${tail ? `\ngateway output:\n${tail}` : ''}`, 1);
}
