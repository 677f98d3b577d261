/**
 * The edge's floor: workerd CPU per sequential call of a bare Worker -> Durable Object ->
 * WebSocket -> Node echo -> answer path (bench/floor/worker.js), side by side with the gateway's
 * REST echo in the same run. Rows alternate (floor, gateway, floor, ...) so the machine's swings
 * hit them alike; each row's workerd CPU comes from /proc (utime + stime), as in bench/rest.ts.
 *
 *   npm run bench:floor                       # 2,000 calls a row, 2 rounds
 *   npm run bench:floor -- --calls 1000 --rounds 3
 *   npm run bench:floor -- --rows rpc,rpc/json,rpc/json+timer+sql,gateway
 *   FLOOR_COMPAT_DATE=2024-09-23 npm run bench:floor   # the floor at another compatibility date
 *   npm run bench:floor -- --auth              # the gateway with one bearer token, sent on every call
 *
 * Rows, comma-separated: `direct` (the Worker alone answers), `rpc` (typed RPC), `fetch` (stub.fetch), `rpc/<op>+<op>` (rpc plus some of the gateway's
 * per-call operations, see worker.js), `gateway` (the gateway's REST echo on server-everything).
 * See bench/README.md, "The edge's floor".
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { buildFloor } from './build.ts';
import { listening, spawnWorkerd } from './workerd.ts';
import { getJson, restEcho, startGateway, type Gateway } from '../gateway.ts';
import { fixed, formatTable, percentile, runLoad, type Cell, type LoadResult } from '../load.ts';
import { clockTicksPerSecond, gatewayRoles, machineBusyMs, sampleTicks } from '../proc.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SERVER_BIN = path.join(ROOT, 'node_modules/.bin/mcp-server-everything');
const TIMEOUT_MS = 10_000;

class UsageError extends Error {}

interface Options {
  calls: number;
  rounds: number;
  rows: string[];
  auth: boolean;
}

function options(argv: string[]): Options {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*?|^ \* ?/gm, '') + '\n');
    process.exit(0);
  }
  const opts: Options = { calls: 2000, rounds: 2, rows: ['direct', 'rpc', 'fetch', 'gateway'], auth: false };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--auth') {
      opts.auth = true;
      i--;
    } else if (flag === '--calls' || flag === '--rounds') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a positive integer`);
      opts[flag === '--calls' ? 'calls' : 'rounds'] = n;
    } else if (flag === '--rows') {
      opts.rows = value.split(',').filter(Boolean);
      if (opts.rows.some((r) => !/^(gateway|direct|fetch|rpc(\/[a-z]+(\+[a-z]+)*)?)$/.test(r))) throw new UsageError(`unknown row in ${value} (try --help)`);
    } else throw new UsageError(`unknown argument ${flag} (try --help)`);
  }
  return opts;
}

interface Floor {
  pid: number;
  port: number;
  echo: WebSocket[];
  stop(): Promise<void>;
}

async function startFloor(): Promise<Floor> {
  const built = await buildFloor();
  const child = spawnWorkerd(built.configFile);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    built.remove();
  };
  try {
    const port = await listening(child);
    // The hibernatable socket and the accept()ed one (row `rpc/plainws`), each echoing.
    const echo = await Promise.all(['ws', 'ws-plain'].map(async (p) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/${p}`);
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
      return socket;
    }));
    return { pid: child.pid!, port, echo, stop: async () => { for (const s of echo) s.terminate(); await stop(); } };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One POST to the floor; resolves when the answer carries the message back. */
function floorCall(agent: http.Agent, url: URL, message: string, headers: http.OutgoingHttpHeaders): Promise<void> {
  const body = JSON.stringify({ message });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 && text.includes(message) ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 160)}`))));
      res.on('error', reject);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface Row {
  row: string;
  round: number;
  load: LoadResult;
  workerdMs: number;
  othersPct: number;
}

let gateway: Gateway | undefined;
let floor: Floor | undefined;

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  floor = await startFloor();
  const needGateway = opts.rows.includes('gateway');
  let gatewayUrl: URL | undefined;
  let gatewayWorkerd = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const token = randomBytes(24).toString('base64url');
  const headers: http.OutgoingHttpHeaders = opts.auth ? { authorization: `Bearer ${token}` } : {};
  if (needGateway) {
    const configLines = opts.auth ? ['auth:', '  bearer:', `    tokens: [${JSON.stringify(token)}]`] : [];
    gateway = await startGateway({ root: ROOT, serverCommand: SERVER_BIN, serverArgs: ['stdio'], env, configLines });
    gatewayWorkerd = [...gatewayRoles(gateway.pid, 'mcp-server-everything')].find(([, r]) => r === 'edge')?.[0] ?? 0;
    if (!gatewayWorkerd) throw new Error('no workerd under the gateway');
    const { sessionId } = (await getJson(agent, `${gateway.url}/api/sessionid`, headers)) as { sessionId: string };
    gatewayUrl = new URL(`${gateway.url}/api/everything/echo?sessionId=${encodeURIComponent(sessionId)}`);
  }
  const callOf = (row: string): ((i: number) => Promise<void>) => {
    if (row === 'gateway') return (i) => restEcho(agent, gatewayUrl!, `m-${i}`, TIMEOUT_MS, headers);
    const url = new URL(`http://127.0.0.1:${floor!.port}/${row.replaceAll('+', ',')}`);
    return (i) => floorCall(agent, url, `m-${i}`, headers);
  };
  const warmup = Math.min(500, opts.calls);
  for (const row of opts.rows) await runLoad(callOf(row), 1, warmup);
  console.log(`load avg ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}; ${opts.calls} sequential calls a row, ${opts.rounds} rounds; warm-up ${warmup} calls a row\n`);

  const rows: Row[] = [];
  // Every process of ours, so that "others" is the rest of the machine.
  const ours = [floor.pid, ...(gateway ? gatewayRoles(gateway.pid, 'mcp-server-everything').keys() : [])];
  const msOf = (ticks: number) => (ticks * 1000) / clockTicksPerSecond();
  for (let round = 1; round <= opts.rounds; round++) {
    for (const row of opts.rows) {
      const pid = row === 'gateway' ? gatewayWorkerd : floor.pid;
      const before = sampleTicks(ours);
      const busy0 = machineBusyMs();
      const load = await runLoad(callOf(row), 1, opts.calls);
      const busy1 = machineBusyMs();
      const after = sampleTicks(ours);
      const workerdMs = msOf(after.get(pid)! - before.get(pid)!);
      const oursMs = msOf([...after].reduce((a, [p, t]) => a + t - (before.get(p) ?? t), 0));
      const othersPct = (Math.max(0, busy1 - busy0 - oursMs - load.clientCpuMs) / (load.wallMs * os.cpus().length)) * 100;
      rows.push({ row, round, load, workerdMs, othersPct });
    }
  }
  agent.destroy();
  console.log(table(rows, opts.rows));
  const errors = rows.reduce((n, r) => n + r.load.errors, 0);
  if (errors) console.log(`\n${errors} calls failed: ${[...new Set(rows.flatMap((r) => [...r.load.reasons.keys()]))].slice(0, 5).join('; ')}`);
  return errors ? 1 : 0;
}

function table(rows: Row[], order: string[]): string {
  const header = ['row', 'round', 'calls', 'p50 ms', 'workerd CPU ms/call', 'others CPU %', 'errors'];
  const out: Cell[][] = rows.map((r) => [r.row, r.round, r.load.calls, fixed(percentile(r.load.latencies, 50), 3), fixed(r.workerdMs / r.load.calls, 3), fixed(r.othersPct, 0), r.load.errors]);
  for (const row of order) {
    const mine = rows.filter((r) => r.row === row);
    const ms = mine.reduce((a, r) => a + r.workerdMs, 0) / mine.reduce((a, r) => a + r.load.calls, 0);
    out.push([row, 'mean', mine.reduce((a, r) => a + r.load.calls, 0), undefined, fixed(ms, 3), undefined, mine.reduce((a, r) => a + r.load.errors, 0)]);
  }
  return formatTable(header, out);
}

async function cleanup(): Promise<void> {
  await floor?.stop().catch(() => {});
  floor = undefined;
  await gateway?.stop().catch(() => {});
  gateway = undefined;
}

process.on('exit', () => gateway?.kill());
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));

try {
  const code = await main();
  await cleanup();
  process.exit(code);
} catch (err) {
  const tail = gateway?.tail();
  await cleanup();
  console.error(err instanceof UsageError ? err.message : `floor benchmark failed: ${(err as Error).stack ?? String(err)}${tail ? `\ngateway output:\n${tail}` : ''}`);
  process.exit(err instanceof UsageError ? 64 : 1);
}
