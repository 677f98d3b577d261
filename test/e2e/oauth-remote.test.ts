/**
 * mcp-remote (the bridge Claude Desktop runs) signing in to the gateway the way a person does:
 * it prints the authorization URL, a headless Chromium with JavaScript turned off fills in the
 * gateway's sign-in page and follows the redirect to mcp-remote's loopback callback, and the
 * tool call then goes through. Also: the grant survives an edge restart with --state, and a
 * client identified by its metadata document (CIMD) on an https server of the test's own, whose
 * certificate the edge trusts through NODE_EXTRA_CA_CERTS.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING, GatewayProcess, killLeftovers, ROOT, tempDir, waitUntil, writeConfig } from './harness.ts';
import { signInOnPage, TestOAuthProvider } from './oauth-client.ts';
import { freePort } from '../../scripts/procs.ts';

const marker = randomUUID();
const PASSWORD = `pw-${randomUUID()}`;
const MCP_REMOTE = path.join(ROOT, 'node_modules/mcp-remote/dist/proxy.js');
const CHROMIUM = '/usr/bin/chromium';

let gateway: GatewayProcess;
let base: string;
let configFile: string;
const stateDir = tempDir('mcp-gateway-oauth-state-');
let metadataServer: https.Server | undefined;
let clientIdUrl: string;
const certDir = tempDir('mcp-gateway-cimd-');

async function startGateway(): Promise<void> {
  gateway = new GatewayProcess(['start', '--config', configFile, '--state', stateDir], marker, { NODE_EXTRA_CA_CERTS: path.join(certDir, 'cert.pem') });
  base = (await gateway.waitForOutput(/MCP gateway ready at (http:\/\/\S+)/))[1]!.replace(/\/$/, '');
  await gateway.waitForOutput(new RegExp(`OAuth: +${base}/\\.well-known/oauth-authorization-server`));
}

/** An https server on 127.0.0.1 with a fresh self-signed certificate, serving a client metadata document. */
async function startMetadataServer(): Promise<void> {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')], { stdio: 'ignore' });
  metadataServer = https.createServer({ key: readFileSync(path.join(certDir, 'key.pem')), cert: readFileSync(path.join(certDir, 'cert.pem')) }, (req, res) => {
    if (req.url !== '/oauth/client.json') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ client_id: clientIdUrl, client_name: 'Metadata document client', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }),
    );
  });
  await new Promise<void>((resolve) => metadataServer!.listen(0, '127.0.0.1', resolve));
  clientIdUrl = `https://127.0.0.1:${(metadataServer.address() as net.AddressInfo).port}/oauth/client.json`;
}

beforeAll(async () => {
  await startMetadataServer();
  const port = await freePort();
  configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: ${port}
auth:
  basic:
    credentials: [{ username: owner, password: "${PASSWORD}" }]
  oauth: { enabled: true }
servers:
  everything:
    command: ${EVERYTHING}
    args: [stdio]
`,
  );
  await startGateway();
}, 60_000);

afterAll(async () => {
  metadataServer?.close();
  await gateway?.kill();
  killLeftovers(marker);
});


describe('mcp-remote', () => {
  it.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('signs in through the page in headless Chromium, then calls tools', { timeout: 90_000 }, async () => {
    const callbackPort = await freePort();
    let stderr = '';
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, `${base}/everything/mcp`, String(callbackPort)],
      // BROWSER=true: the "browser" mcp-remote opens is `true`; the test's Chromium does the work.
      env: { ...(process.env as Record<string, string>), MCP_REMOTE_CONFIG_DIR: tempDir('mcp-remote-'), BROWSER: 'true', DISPLAY: '', MCP_GATEWAY_TEST_RUN: marker },
      stderr: 'pipe',
    });
    transport.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const client = new Client({ name: 'through-mcp-remote', version: '1' });
    const connected = client.connect(transport);

    const authorizationUrl = await waitUntil(() => stderr.match(/Please authorize this client by visiting:\s+(\S+)/)?.[1], 30_000, `the authorization URL from mcp-remote\n${stderr}`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto(authorizationUrl);
      expect(await page.locator('h1').innerText()).toMatch(/^Allow .+ to use this MCP gateway\?$/);
      expect(await page.locator('dl').innerText()).toContain(`http://localhost:${callbackPort}/oauth/callback`);
      await page.fill('#username', 'owner');
      await page.fill('#password', PASSWORD);
      await page.click('button[value=allow]');
      await page.waitForURL((url) => url.port === String(callbackPort), { timeout: 5000 }).catch(async (err) => {
        throw new Error(`${(err as Error).message}\n${await page.content()}\n${stderr}`);
      });
    } finally {
      await browser.close();
    }

    await connected;
    const result = await client.callTool({ name: 'echo', arguments: { message: 'via mcp-remote' } });
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: via mcp-remote' }]);
    await client.close();
  });

  it.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('the status page lists the applications signed in with its credential, and revokes one', { timeout: 60_000 }, async () => {
    const provider = new TestOAuthProvider({ username: 'owner', password: PASSWORD });
    const first = new StreamableHTTPClientTransport(new URL(`${base}/everything/mcp`), { authProvider: provider });
    await expect(new Client({ name: 'status-page', version: '1' }).connect(first)).rejects.toThrow(UnauthorizedError);
    await first.finishAuth(provider.code!);
    const token = provider.savedTokens!.access_token;
    const tools = () => fetch(`${base}/api/everything/tools`, { headers: { authorization: `Bearer ${token}` } });
    expect((await tools()).status).toBe(200);
    const clientId = (provider.client as { client_id: string }).client_id;

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const context = await browser.newContext({ httpCredentials: { username: 'owner', password: PASSWORD } });
      const page = await context.newPage();
      await page.goto(`${base}/status?login`);
      const grantRow = page.locator('#grants tbody tr', { hasText: clientId });
      await expect.poll(() => grantRow.count(), { timeout: 20_000 }).toBe(1);
      expect(await grantRow.innerText()).toContain('Gateway test client');
      await grantRow.locator('button', { hasText: 'Revoke' }).click();
      await expect.poll(() => grantRow.count(), { timeout: 20_000 }).toBe(0);
    } finally {
      await browser.close();
    }
    expect((await tools()).status).toBe(401);
  });

  it('grants and tokens survive an edge restart with --state', async () => {
    const provider = new TestOAuthProvider({ username: 'owner', password: PASSWORD });
    const url = new URL(`${base}/everything/mcp`);
    const first = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await expect(new Client({ name: 'restart', version: '1' }).connect(first)).rejects.toThrow(UnauthorizedError);
    await first.finishAuth(provider.code!);
    const owner = { authorization: `Basic ${Buffer.from(`owner:${PASSWORD}`).toString('base64')}` };
    const before = (await (await fetch(`${base}/oauth/grants`, { headers: owner })).json()) as { grants: { id: string }[] };
    expect(before.grants.length).toBeGreaterThan(0);

    await gateway.kill();
    await startGateway();
    const after = (await (await fetch(`${base}/oauth/grants`, { headers: owner })).json()) as { grants: { id: string }[] };
    expect(after.grants.map((g) => g.id).sort()).toEqual(before.grants.map((g) => g.id).sort());
    const client = new Client({ name: 'restart', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
    expect((await client.callTool({ name: 'echo', arguments: { message: 'after restart' } })).content).toEqual([{ type: 'text', text: 'Echo: after restart' }]);
    await client.close();
  }, 60_000);
});

describe('a client identified by its metadata document (CIMD)', () => {
  it('signs in with an https client_id the edge fetches; no registration', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${base}/authorize`);
    const params = { response_type: 'code', client_id: clientIdUrl, redirect_uri: 'http://127.0.0.1:40123/cb', state: 's', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource: base };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const page = await signInOnPage(url, { username: 'owner', password: PASSWORD });
    const code = page.location?.searchParams.get('code');
    expect(code, page.html).toBeTruthy();
    const res = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: 'http://127.0.0.1:40123/cb', client_id: clientIdUrl, code_verifier: verifier }),
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect((await fetch(`${base}/api/everything/tools`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(200);
  });

  it('a client_id URL whose document cannot be fetched: an error page, no redirect', async () => {
    const url = new URL(`${base}/authorize`);
    const params = { response_type: 'code', client_id: clientIdUrl.replace('client.json', 'missing.json'), redirect_uri: 'http://127.0.0.1/cb', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('could not be identified');
  });

  it('shows the name from the document on the sign-in page', async () => {
    const url = new URL(`${base}/authorize`);
    const params = { response_type: 'code', client_id: clientIdUrl, redirect_uri: 'http://127.0.0.1/cb', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const html = await (await fetch(url)).text();
    expect(html).toContain('Allow Metadata document client to use this MCP gateway?');
  });
});
