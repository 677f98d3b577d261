/**
 * The status page in headless Chromium against a real edge and host: after a scripted burst of
 * calls and a few errors, its charts show them in the right buckets; a host dropped and back shows
 * in its connection history; a session ended from the page is gone; the history survives an edge
 * restart with --state. The run writes docs/status-page.png for the README.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalId } from '../../shared/auth.ts';
import { GatewayProcess, killLeftovers, ROOT, startEdge, startHost, tempDir, waitUntil, writeConfig, STANDARD_SERVERS } from './harness.ts';

const marker = randomUUID();
const HOST_TOKEN = `host-${randomUUID()}`;
const CLIENT_TOKEN = `client-${randomUUID()}`;
const PASSWORD = `pw-${randomUUID()}`;
/** A valid client credential that is not among auth.operators: the page must say so, not draw. */
const VIEWER_TOKEN = `viewer-${randomUUID()}`;
const AUTH = { authorization: `Bearer ${CLIENT_TOKEN}` };
const stateDir = tempDir('mcp-gateway-state-');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

let configFile: string;
let edge: GatewayProcess;
let host: GatewayProcess;
let base: string;
let browser: BrowserContext;
let page: Page;
/** The minutes (bucket starts, epoch ms) the burst ran in. */
let burstMinutes: number[];

const minute = (t: number) => Math.floor(t / 60_000) * 60_000;

async function call(server: string, tool: string, session: string, args: object = {}): Promise<number> {
  const res = await fetch(`${base}/api/${server}/${tool}?sessionId=${session}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(args) });
  await res.text();
  return res.status;
}

async function restSession(): Promise<string> {
  return ((await (await fetch(`${base}/api/sessionid`, { headers: AUTH })).json()) as { sessionId: string }).sessionId;
}

async function status(): Promise<any> {
  return (await fetch(`${base}/status`, { headers: AUTH })).json();
}

/** Calls per bucket as the page's traffic chart draws them: bucket start -> data-calls. */
async function bars(server: string, range: 'hour' | 'day', attribute = 'data-calls'): Promise<Map<number, number>> {
  const found = await page.locator(`svg[data-chart="traffic"][data-server="${server}"][data-range="${range}"] rect.calls`).evaluateAll(
    (rects, attr) => rects.map((r) => [r.getAttribute('data-bucket'), r.getAttribute(attr)] as [string, string]),
    attribute,
  );
  return new Map(found.map(([bucket, n]) => [Date.parse(bucket), Number(n)]));
}

/** Calls per bucket in a /status window, where there were any. */
function nonZero(win: { start: string; bucketMs: number; calls: number[] }): Map<number, number> {
  const start = Date.parse(win.start);
  return new Map(win.calls.flatMap((n, i) => (n ? [[start + i * win.bucketMs, n] as [number, number]] : [])));
}

const sumIn = (m: Map<number, number>, keys: number[]) => keys.reduce((total, k) => total + (m.get(k) ?? 0), 0);

beforeAll(async () => {
  configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: 0
auth:
  basic:
    enabled: true
    credentials: [{ username: admin, password: "${PASSWORD}" }]
  bearer:
    enabled: true
    tokens: ["${CLIENT_TOKEN}", "${VIEWER_TOKEN}"]
  operators: ["${await principalId.bearer(CLIENT_TOKEN)}", "${await principalId.basic('admin', PASSWORD)}"]
servers:
${STANDARD_SERVERS}`,
  );
  ({ edge, base } = await startEdge(configFile, HOST_TOKEN, marker, ['--state', stateDir]));
  host = await startHost(configFile, base, HOST_TOKEN, 'home', marker, AUTH.authorization);
  browser = await chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    // Answered only when the browser is challenged for Basic (at /status?login), never sent unasked.
    httpCredentials: { username: 'admin', password: PASSWORD },
    args: CHROMIUM_ARGS,
  });
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await host?.kill();
  await edge?.kill();
  killLeftovers(marker);
});

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('status page', () => {
  it('asks for a token, keeps it out of the URL, and draws a burst of calls and errors in the right buckets', async () => {
    const session = await restSession();
    const first = minute(Date.now());
    const echoes = await Promise.all(Array.from({ length: 20 }, (_, i) => call('everything', 'echo', session, { message: `m${i}` })));
    expect(echoes.every((s) => s === 200)).toBe(true);
    expect(await call('test', 'fail', session)).toBe(200); // a tool error (isError)
    expect(await call('test', 'fail', session)).toBe(200);
    expect(await call('test', 'crash', session)).toBe(502); // the process exits: SERVER_EXITED
    burstMinutes = [...new Set([first, minute(Date.now())])];

    await page.goto(`${base}/status/page`);
    await expect.poll(() => page.locator('#signin').isVisible(), { timeout: 15_000 }).toBe(true);
    await page.fill('#token', CLIENT_TOKEN);
    await page.click('#signin button[type="submit"]');
    await expect.poll(async () => sumIn(await bars('everything', 'hour'), burstMinutes), { timeout: 15_000 }).toBe(20);
    expect(page.url()).toBe(`${base}/status/page`);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(1);

    // The test server's three calls, all errors: two tool errors and a crash.
    expect(sumIn(await bars('test', 'hour'), burstMinutes)).toBe(3);
    expect(sumIn(await bars('test', 'hour', 'data-errors'), burstMinutes)).toBe(3);
    const latency = await page.locator('svg[data-chart="latency"][data-server="everything"] circle.p95').evaluateAll((dots) => dots.map((d) => [d.getAttribute('data-bucket'), Number(d.getAttribute('data-ms'))] as [string, number]));
    expect(latency.filter(([bucket]) => burstMinutes.includes(Date.parse(bucket!))).length).toBeGreaterThan(0);
    expect(latency.every(([, ms]) => ms >= 0)).toBe(true);
    const codes = await page.locator('#errors tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));
    expect(codes.filter((c) => c === 'TOOL_ERROR')).toHaveLength(2);
    expect(codes).toContain('SERVER_EXITED');

    // The day view: the same calls, in one 15-minute bucket (or two, across a boundary).
    await page.click('#range-day');
    const quarters = [...new Set(burstMinutes.map((m) => Math.floor(m / 900_000) * 900_000))];
    await expect.poll(async () => sumIn(await bars('everything', 'day'), quarters), { timeout: 15_000 }).toBe(20);
    await page.click('#range-hour');
  });

  it('shows a host that dropped and came back in its connection history', async () => {
    await host.kill('SIGKILL');
    const dropped = () => page.locator('#hosts tr[data-host="home"]').getAttribute('data-drops');
    await expect.poll(dropped, { timeout: 15_000 }).toBe('1');
    host = await startHost(configFile, base, HOST_TOKEN, 'home', marker, AUTH.authorization);
    await expect.poll(() => page.locator('#hosts tr[data-host="home"] span[data-kind="connect"]').last().innerText(), { timeout: 15_000 }).toMatch(/away \d/);
  });

  it('ends a session from the page: its next request gets 404', async () => {
    const init = await fetch(`${base}/everything/mcp`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'status-test', version: '1' } } }),
    });
    expect(init.status).toBe(200);
    await init.text();
    const id = init.headers.get('mcp-session-id')!;
    const ping = () =>
      fetch(`${base}/everything/mcp`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', accept: 'application/json', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
      }).then(async (r) => (await r.text(), r.status));
    expect(await ping()).toBe(200);

    const rowOf = page.locator(`#sessions tr[data-session="${id}"]`);
    await expect.poll(() => rowOf.count(), { timeout: 15_000 }).toBe(1);
    expect(await rowOf.innerText()).toMatch(/streamable\s+bearer:[0-9a-f]{24}\s+everything\s+home/);
    await page.screenshot({ path: path.join(ROOT, 'docs/status-page.png'), fullPage: true });
    await rowOf.locator('button').click();
    await expect.poll(() => rowOf.count(), { timeout: 15_000 }).toBe(0);
    expect(await ping()).toBe(404);
  });

  it('tells a valid credential that is not an operator which principal to add, and draws nothing', async () => {
    const viewer = await browser.newPage();
    try {
      await viewer.goto(`${base}/status/page`);
      await expect.poll(() => viewer.locator('#signin').isVisible(), { timeout: 15_000 }).toBe(true);
      await viewer.fill('#token', VIEWER_TOKEN);
      await viewer.click('#signin button[type="submit"]');
      const principal = await principalId.bearer(VIEWER_TOKEN);
      await expect.poll(() => viewer.locator('#summary').innerText(), { timeout: 15_000 }).toContain(principal);
      expect(await viewer.locator('#signin').isVisible()).toBe(true);
      expect(await viewer.locator('#servers section').count()).toBe(0);
      expect(await viewer.locator('#sessions tr[data-session]').count()).toBe(0);
    } finally {
      await viewer.close();
    }
  });

  it('signs in with the browser\'s own Basic authentication too, and reads on a phone, in dark mode', async () => {
    // A new tab: no token in its sessionStorage; the browser answers the Basic challenge itself.
    const phone = await browser.newPage();
    try {
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.emulateMedia({ colorScheme: 'dark' });
      await phone.goto(`${base}/status/page`);
      await phone.click('#basic-login');
      await expect.poll(() => phone.locator('#servers section[data-server="everything"]').count(), { timeout: 15_000 }).toBe(1);
      expect(phone.url()).toBe(`${base}/status/page`);
      expect(await phone.locator('#signin').isVisible()).toBe(false);
      // Nothing wider than the screen (wide tables scroll inside their own box), and dark colours.
      expect(await phone.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      expect(await phone.evaluate<string>('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
    } finally {
      await phone.close();
    }
  });

  it('keeps the history across an edge restart with --state', async () => {
    // One more call, then wait for a flush after it: everything counted so far is in storage.
    expect(await call('everything', 'echo', await restSession(), { message: 'last' })).toBe(200);
    const lastCall = new Date().toISOString();
    await waitUntil(async () => ((await status()).history.savedAt > lastCall ? true : undefined), 20_000, 'the history to be written to storage');
    const saved = (await status()).history.hour.servers;
    const before = { everything: nonZero(saved.everything), test: nonZero(saved.test) };
    expect(sumIn(before.everything, [minute(Date.parse(lastCall))])).toBeGreaterThan(0);
    const port = new URL(base).port;
    await edge.kill();
    const sameConfig = writeConfig(tempDir(), readFileSync(configFile, 'utf8').replace('port: 0', `port: ${port}`));
    ({ edge } = await startEdge(sameConfig, HOST_TOKEN, marker, ['--state', stateDir]));
    await page.reload();
    await expect.poll(() => bars('everything', 'hour'), { timeout: 40_000 }).toEqual(before.everything);
    expect(await bars('test', 'hour')).toEqual(before.test);
    expect(sumIn(await bars('test', 'hour', 'data-errors'), burstMinutes)).toBe(3);
    // The host's earlier drop and return are still in its history.
    expect(Number(await page.locator('#hosts tr[data-host="home"]').getAttribute('data-drops'))).toBeGreaterThanOrEqual(1);
  });
});
