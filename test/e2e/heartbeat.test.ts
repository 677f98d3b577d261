/**
 * A stalled link: two real host agents, one behind a TCP proxy that stops forwarding without
 * closing anything. Both sides must notice within the heartbeat timeout: the edge answers the
 * calls in flight on the silent host with 503 and sends new sessions to the other host; the
 * host reconnects by itself.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, TEST_SERVER, health, killLeftovers, newSession, postJson, startEdge, startHost, tempDir, waitUntil, writeConfig } from './harness.ts';
import { hostSide } from '../soak/faults.ts';
import { TcpProxy } from './tcp-proxy.ts';

const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
const processes: GatewayProcess[] = [];
let base: string;
let proxy: TcpProxy;
let behindProxy: GatewayProcess;

const hostConfig = (tag: string) =>
  writeConfig(tempDir(), `servers:\n  test:\n    command: ${process.execPath}\n    args: [${TEST_SERVER}]\n    env: { HOST_TAG: ${tag} }\n`);

beforeAll(async () => {
  const started = await startEdge(writeConfig(tempDir(), 'hostname: 127.0.0.1\nport: 0\nservers: {}\n'), token, marker);
  base = started.base;
  processes.push(started.edge);
  proxy = new TcpProxy(base);
  const proxied = await proxy.listen();
  processes.push(await startHost(hostConfig('direct'), base, token, 'direct', marker));
  // The host dials the proxy; the edge is reached through it.
  behindProxy = new GatewayProcess(['host', '--config', hostConfig('proxied'), '--edge', proxied, '--token', token, '--host-id', 'proxied'], marker);
  processes.push(behindProxy);
  await waitUntil(async () => ((await health(base)).hosts.some((h) => h.id === 'proxied') ? true : undefined), 30_000, 'the proxied host at the edge');
});

afterAll(async () => {
  await proxy?.close();
  for (const p of processes) await p.kill();
  expect(killLeftovers(marker)).toBe(0);
});

const tagOf = async (session: string) => {
  const res = await postJson(`${base}/api/test/env?sessionId=${session}`, { name: 'HOST_TAG' });
  return res.status === 200 ? (res.body.content[0].text as string) : `status ${res.status}`;
};

describe('a stalled host link (no close, no data)', () => {
  it('fails the calls in flight on it with 503 long before their deadline, routes new sessions to the other host, and the host reconnects', async () => {
    const placed: { session: string; tag: string }[] = [];
    while (new Set(placed.map((p) => p.tag)).size < 2 || placed.length < 8) {
      const session = await newSession(base);
      placed.push({ session, tag: await tagOf(session) });
    }
    // Calls on the proxied host would take 25 s (the call deadline is 30 s); the others 4 s.
    const burst = placed.map(async ({ session, tag }) => ({ tag, res: await postJson(`${base}/api/test/sleep?sessionId=${session}`, { ms: tag === 'proxied' ? 25_000 : 4000 }) }));
    await waitUntil(async () => ((await (await fetch(`${base}/status`)).json()) as { callsInFlight: number }).callsInFlight >= placed.length || undefined, 10_000, 'the burst in flight');
    const stalledAt = Date.now();
    const stalled = proxy.stall();
    expect(stalled).toBe(1);

    const answeredAt: number[] = [];
    const results = await Promise.race([
      Promise.all(burst.filter((_, i) => placed[i]!.tag === 'proxied').map((p) => p.then((r) => (answeredAt.push(Date.now()), r)))),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('calls on the stalled host still waiting after 15 s')), 15_000)),
    ]);
    for (const { res } of results) {
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('HOST_OFFLINE');
    }
    // New sessions go to the host that still answers, while the other one is away.
    expect(await tagOf(await newSession(base))).toBe('direct');
    // The calls on the other host were not disturbed.
    for (const { tag, res } of await Promise.all(burst)) if (tag === 'direct') expect(res.status).toBe(200);

    // The host noticed the silence by itself and came back over a fresh connection.
    await behindProxy.waitForOutput(/the edge stopped answering pings; reconnecting/, 15_000);
    await waitUntil(async () => ((await health(base)).hosts.some((h) => h.id === 'proxied') ? true : undefined), 20_000, 'the proxied host back at the edge');
    // The figures (asserted only loosely above: timings belong in the soak and the benchmark).
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.info(`stalled link: first 503 after ${seconds(Math.min(...answeredAt) - stalledAt)}${hostSide(behindProxy.stdout + behindProxy.stderr, stalledAt)}`);
    const tags = new Set<string>();
    for (let i = 0; i < 12 && tags.size < 2; i++) tags.add(await tagOf(await newSession(base)));
    expect(tags).toEqual(new Set(['direct', 'proxied']));
  });
});
