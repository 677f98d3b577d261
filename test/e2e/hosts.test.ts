/**
 * Processes and machines: two real host agents behind one edge, one killed with SIGKILL during a
 * burst; warm pools, the shared policy, idle and lifetime reaping, a server that exits at start,
 * /status and its page; and no process left behind.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, TEST_SERVER, health, killLeftovers, newSession, postJson, processesWithMarker, startEdge, startHost, tempDir, waitUntil, writeConfig, isAlive } from './harness.ts';
import { HOST_GLIBC_TUNABLES, HOST_NODE_FLAGS } from '../../cli/host-flags.ts';

const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
const processes: GatewayProcess[] = [];
let base: string;
let hostA: GatewayProcess;
let hostB: GatewayProcess;
let attempts: string;

const IDLE_MS = 1500;
const LIFETIME_MS = 4000;

function hostConfig(tag: string): string {
  const dir = tempDir();
  attempts = path.join(dir, 'attempts.log');
  return writeConfig(
    dir,
    `servers:
  test:
    command: ${process.execPath}
    args: [${TEST_SERVER}]
    env: { HOST_TAG: ${tag} }
    pool: 2
  shared:
    command: ${process.execPath}
    args: [${TEST_SERVER}]
    instances: shared
  broken:
    command: ${process.execPath}
    args: ["-e", "require('fs').appendFileSync('${attempts}', Date.now() + '\\\\n'); process.exit(3)"]
    pool: 1
`,
  );
}

beforeAll(async () => {
  const edgeConfig = writeConfig(tempDir(), `hostname: 127.0.0.1\nport: 0\nservers: {}\n`);
  const started = await startEdge(edgeConfig, token, marker);
  base = started.base;
  processes.push(started.edge);
  hostA = await startHost(hostConfig('a'), base, token, 'machine-a', marker);
  hostB = await startHost(hostConfig('b'), base, token, 'machine-b', marker);
  // A third machine with short idle and lifetime limits, for a server only it offers.
  const shortConfig = writeConfig(
    tempDir(),
    `host:\n  idleTimeoutMs: ${IDLE_MS}\n  maxLifetimeMs: ${LIFETIME_MS}\nservers:\n  short:\n    command: ${process.execPath}\n    args: [${TEST_SERVER}]\n`,
  );
  processes.push(hostA, hostB, await startHost(shortConfig, base, token, 'machine-c', marker));
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  expect(killLeftovers(marker)).toBe(0);
});

const tagOf = async (session: string | null) => {
  const res = await postJson(`${base}/api/test/env${session ? `?sessionId=${session}` : ''}`, { name: 'HOST_TAG' });
  return res.status === 200 ? (res.body.content[0].text as string) : `status ${res.status}`;
};
const pidOf = async (server: string, session: string) => Number((await postJson(`${base}/api/${server}/pid?sessionId=${session}`, {})).body.content[0].text);
const alive = isAlive;
const status = async () => (await (await fetch(`${base}/status`)).json()) as any;

describe('processes', () => {
  it.runIf(process.platform === 'linux')('runs each host agent, under the process id it was started with, with its Node flags and allocator settings, and not its servers', async () => {
    // cli/host-flags.ts: the agent starts itself again with them; what `ps` shows.
    // glibc's loader splits GLIBC_TUNABLES in place at its ':'s, so the settings are looked for one by one.
    const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8');
    const settings = (process.env.GLIBC_TUNABLES ?? HOST_GLIBC_TUNABLES).split(':');
    for (const host of [hostA, hostB]) {
      expect(readFileSync(`/proc/${host.pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining([...HOST_NODE_FLAGS]));
      expect(environ(host.pid).split('\0')).toContain(`GLIBC_TUNABLES=${settings[0]}`);
      for (const setting of settings) expect(environ(host.pid)).toContain(setting);
    }
    const server = await pidOf('shared', await newSession(base));
    expect(environ(server).split('\0').some((entry) => entry.startsWith('GLIBC_TUNABLES='))).toBe(false);
  });

  it('keeps a warm pool of initialized processes, refilled as sessions take them', async () => {
    await waitUntil(async () => ((await status()).hostProcesses['machine-a']?.pooled >= 2 ? true : undefined), 15_000, 'machine-a to report its pool');
    const session = await newSession(base);
    expect(await pidOf('test', session)).toBeGreaterThan(0);
    await waitUntil(async () => ((await status()).hostProcesses['machine-a']?.pooled >= 2 && (await status()).hostProcesses['machine-b']?.pooled >= 2 ? true : undefined), 15_000, 'the pools to refill');
  });

  it('serves every session of a shared server from one process', async () => {
    const [a, b] = [await newSession(base), await newSession(base)];
    const pids = new Set([await pidOf('shared', a), await pidOf('shared', b), await pidOf('shared', a)]);
    // Two hosts offer it, so the sessions may land on two machines, but each has one process.
    expect(pids.size).toBeLessThanOrEqual(2);
  });

  it('stops an idle session process and starts a fresh one on the next call', async () => {
    const session = await newSession(base);
    const first = await pidOf('short', session);
    await waitUntil(() => (alive(first) ? undefined : true), IDLE_MS * 10, `process ${first} to be reaped when idle`);
    const second = await pidOf('short', session);
    expect(second).not.toBe(first);
  });

  it('replaces a busy process once it reaches its lifetime', async () => {
    const session = await newSession(base);
    const first = await pidOf('short', session);
    await waitUntil(async () => ((await pidOf('short', session)) !== first ? true : undefined), LIFETIME_MS * 5, 'a new process after the lifetime');
  });

  it('reports a server that exits at start as failing, and does not restart it in a tight loop', async () => {
    await waitUntil(async () => ((await health(base)) as any).servers.some((s: any) => s.name === 'broken' && s.status === 'failing') || undefined, 15_000, 'broken to be failing');
    await waitUntil(() => (readFileSync(attempts, 'utf8').trim().split('\n').length >= 3 ? true : undefined), 30_000, 'a few start attempts');
    const times = readFileSync(attempts, 'utf8').trim().split('\n').map(Number);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Backoff: later attempts wait at least as long as a second, never back to back.
    expect(Math.max(...gaps.slice(-2))).toBeGreaterThanOrEqual(1000);
  });
});

describe('status', () => {
  it('reports hosts, servers, sessions, processes, uptime, calls and errors', async () => {
    const s = await status();
    expect(s.hosts.map((h: any) => h.id)).toEqual(['machine-a', 'machine-b', 'machine-c']);
    expect(s.edge.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(s.perServer.test.calls).toBeGreaterThan(0);
    expect(s.sessions.rest).toBeGreaterThan(0);
    expect(Object.keys(s.hostProcesses)).toEqual(['machine-a', 'machine-b', 'machine-c']);
  });

  it.skipIf(!existsSync('/usr/bin/chromium') && !process.env.CI)('shows the same on a page, in headless Chromium', { timeout: 60_000 }, async () => {
    const browser = await chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'chromium-')), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/status/page`);
      await expect.poll(() => page.locator('#hosts tbody tr').count(), { timeout: 20_000 }).toBe(3);
      expect(await page.locator('#hosts').innerText()).toContain('machine-a');
      expect(await page.locator('#servers').innerText()).toMatch(/broken[\s\S]*failing/);
      expect(await page.locator('#summary').innerText()).toMatch(/3 host\(s\)/);
    } finally {
      await browser.close();
    }
  });
});

describe('several hosts', () => {
  it('spreads new sessions over both hosts', async () => {
    const tags = new Set<string>();
    for (let i = 0; i < 12; i++) tags.add(await tagOf(await newSession(base)));
    expect(tags).toEqual(new Set(['a', 'b']));
  });

  it('when a host is killed during a burst: its calls fail fast, the others answer, new sessions go to the other host', async () => {
    const sessions = await Promise.all(Array.from({ length: 16 }, () => newSession(base)));
    const placed = await Promise.all(sessions.map(async (s) => ({ session: s, tag: await tagOf(s) })));
    expect(new Set(placed.map((p) => p.tag))).toEqual(new Set(['a', 'b']));

    const burst = placed.map(async ({ session, tag }) => ({ tag, res: await postJson(`${base}/api/test/sleep?sessionId=${session}`, { ms: 3000 }) }));
    await waitUntil(async () => ((await status()).callsInFlight >= placed.length ? true : undefined), 5000, 'every call of the burst to be in flight');
    process.kill(hostA.pid, 'SIGKILL');
    const results = await Promise.race([
      Promise.all(burst),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('calls still hanging 10 s after the host died')), 10_000)),
    ]);
    for (const { tag, res } of results) expect(res.status).toBe(tag === 'a' ? 503 : 200);

    await waitUntil(async () => ((await health(base)).hosts.every((h) => h.id !== 'machine-a') ? true : undefined), 10_000, 'machine-a to leave');
    for (let i = 0; i < 4; i++) expect(await tagOf(await newSession(base))).toBe('b');
    expect(await tagOf(null)).toBe('b');
    // machine-a's server processes died with it.
    await waitUntil(() => (processesWithMarker(marker).some((pid) => environOf(pid).includes('HOST_TAG=a')) ? undefined : true), 10_000, "machine-a's processes to exit");
  });
});

/** A process's environment, or '' once it has exited (it may go between listing and reading). */
function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}
