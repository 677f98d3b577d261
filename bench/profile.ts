/**
 * CPU profiles of the gateway under a sequential echo load: workerd (the Worker and the Hub
 * Durable Object, one isolate) through its inspector, and the host agent through `--cpu-prof`.
 * Prints the functions with the most self time in each, for the measured calls only, and keeps
 * the `.cpuprofile` files (open them in Chrome DevTools or speedscope).
 *
 *   npm run bench:profile                          # 3000 REST calls, one at a time
 *   npm run bench:profile -- --transport streamable --calls 2000 --concurrency 16
 *   npm run bench:profile -- --transport sse
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { openSession, type Endpoint } from './clients.ts';
import { monotonicUs, topFunctions, type CpuProfile } from './cpuprofile.ts';
import { sleep, startGateway, type Gateway } from './gateway.ts';
import { fixed, formatTable, runLoad } from './load.ts';
import { freePort } from '../scripts/procs.ts';
import { clockTicksPerSecond, gatewayRoles, sampleSysTicks, sampleTicks } from './proc.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_BIN = path.join(ROOT, 'node_modules/.bin/mcp-server-everything');

/** A minimal Chrome DevTools protocol client. */
class Cdp {
  readonly #ws: WebSocket;
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = msg.id === undefined ? undefined : this.#waiting.get(msg.id);
      if (!waiter) return;
      this.#waiting.delete(msg.id!);
      if (msg.error) waiter.reject(new Error(msg.error.message));
      else waiter.resolve(msg.result);
    });
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Cdp(ws);
  }

  send(method: string, params: object = {}): Promise<any> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

let gateway: Gateway | undefined;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      transport: { type: 'string', default: 'rest' },
      calls: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '1' },
      top: { type: 'string', default: '20' },
      size: { type: 'string', default: '0' },
    },
  });
  const transport = values.transport as 'rest' | 'streamable' | 'sse';
  if (!['rest', 'streamable', 'sse'].includes(transport)) throw new Error('--transport is rest, streamable or sse');
  const calls = Number(values.calls);
  const concurrency = Number(values.concurrency);
  const top = Number(values.top);
  // Characters added to each measured call's message (1048576: the 1 MiB echo of the comparison).
  const padding = 'x'.repeat(Number(values.size));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-gateway-profile-'));
  const hostDir = path.join(dir, 'host');
  const inspectorPort = await freePort();
  const env = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    MCP_GATEWAY_WORKERD_INSPECTOR: `127.0.0.1:${inspectorPort}`,
  };
  // --cpu-prof for the host agent only (its servers are spawned, not forked: they do not inherit it).
  gateway = await startGateway({
    root: ROOT,
    serverCommand: SERVER_BIN,
    serverArgs: ['stdio'],
    env,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${hostDir}`, '--cpu-prof-interval=200'],
  });
  const endpoint: Endpoint = transport === 'rest' ? { transport, base: gateway.url } : { transport, url: `${gateway.url}/everything${transport === 'streamable' ? '/mcp' : ''}` };
  const session = await openSession(endpoint);
  await runLoad((i) => session.echo(`warm-${i}`, 15_000), 4, 500);

  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl: string; title?: string }[];
  if (!targets.length) throw new Error('workerd lists no inspector target');
  const cdp = await Cdp.connect(targets[0]!.webSocketDebuggerUrl);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });

  const roles = gatewayRoles(gateway.pid, 'mcp-server-everything');
  const before = sampleTicks(roles.keys());
  const sysBefore = sampleSysTicks(roles.keys());
  await cdp.send('Profiler.start');
  const fromUs = monotonicUs();
  const load = await runLoad((i) => session.echo(`profiled-${i}${padding}`, 15_000), concurrency, calls);
  const toUs = monotonicUs();
  const { profile: edgeProfile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
  const after = sampleTicks(roles.keys());
  const sysAfter = sampleSysTicks(roles.keys());
  cdp.close();
  await session.close();

  const perRole = new Map<string, { all: number; sys: number }>();
  const msPerTick = 1000 / clockTicksPerSecond();
  for (const [pid, role] of roles) {
    const sum = perRole.get(role) ?? { all: 0, sys: 0 };
    sum.all += ((after.get(pid) ?? 0) - (before.get(pid) ?? 0)) * msPerTick;
    sum.sys += ((sysAfter.get(pid) ?? 0) - (sysBefore.get(pid) ?? 0)) * msPerTick;
    perRole.set(role, sum);
  }
  await gateway.stop();
  gateway = undefined;

  writeFileSync(path.join(dir, 'workerd.cpuprofile'), JSON.stringify(edgeProfile));
  // The host writes its profile as it exits; the servers write none. The process that started
  // itself again with the host flags (cli/host-flags.ts) may have left one of its own short life:
  // the host's is the one that covers the measured calls.
  let hostProfile: CpuProfile | undefined;
  for (let i = 0; i < 100 && !hostProfile; i++) {
    for (const file of readdirSync(hostDir).filter((name) => name.endsWith('.cpuprofile'))) {
      try {
        const profile = JSON.parse(readFileSync(path.join(hostDir, file), 'utf8')) as CpuProfile;
        if (profile.startTime <= fromUs && profile.endTime >= toUs) hostProfile = profile;
      } catch {
        // still being written
      }
    }
    if (!hostProfile) await sleep(50);
  }

  console.log(`${load.ok} ${transport} echo calls at c=${concurrency}${padding ? ` of ${padding.length} chars` : ''}, ${load.errors} errors, ${fixed((load.ok / load.wallMs) * 1000, 0)} calls/s`);
  console.log(`CPU per call from /proc: ${[...perRole].map(([role, ms]) => `${role} ${fixed(ms.all / load.calls, 3)} ms (kernel ${fixed(ms.sys / load.calls, 3)})`).join(', ')}\n`);
  const show = (title: string, profile: CpuProfile, from?: number, to?: number) => {
    const { busyMs, top: entries } = topFunctions(profile, top, from, to);
    console.log(`${title}: ${fixed(busyMs / load.calls, 3)} ms of JavaScript-visible CPU per call (samples not idle)`);
    console.log(formatTable(['self ms', '%', 'function', 'where'], entries.map((e) => [fixed(e.selfMs, 1), fixed(e.pct, 1), e.name, e.where || '-'])));
    console.log('');
  };
  show('workerd (Worker + Hub), the measured calls', edgeProfile);
  if (hostProfile) show('host agent, the measured calls', hostProfile, fromUs, toUs);
  else console.log('host agent: no profile was written');
  console.log(`profiles: ${dir}`);
}

process.on('exit', () => gateway?.kill());
try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(`profile failed: ${(err as Error).stack ?? String(err)}${gateway ? `\n${gateway.tail()}` : ''}`);
  await gateway?.stop().catch(() => {});
  process.exit(1);
}
