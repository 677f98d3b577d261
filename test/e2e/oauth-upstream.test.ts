/**
 * Signing in through an upstream OpenID Connect provider (auth.oauth.upstream): a real one
 * (oidc-provider, with its development login pages) on a port of its own, the gateway's page
 * sending the browser there, headless Chromium signing in, and the client getting its code.
 * A subject the config does not list is refused.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type http from 'node:http';
import Provider from 'oidc-provider';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING, GatewayProcess, killLeftovers, tempDir, writeConfig } from './harness.ts';
import { freePort } from '../../scripts/procs.ts';

const marker = randomUUID();
const CHROMIUM = '/usr/bin/chromium';
const UPSTREAM_SECRET = `upstream-secret-${randomUUID()}`;

let gateway: GatewayProcess;
let base: string;
let issuer: string;
let idp: http.Server;
let browser: Browser;


beforeAll(async () => {
  const [gatewayPort, idpPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${gatewayPort}`;
  issuer = `http://127.0.0.1:${idpPort}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'gateway', client_secret: UPSTREAM_SECRET, redirect_uris: [`${base}/oauth/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
    async findAccount(_ctx: unknown, id: string) {
      return { accountId: id, claims: async () => ({ sub: id, email: `${id}@example.test`, email_verified: true }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: false,
    cookies: { keys: [randomUUID()] },
  });
  idp = provider.listen(idpPort);
  const configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: ${gatewayPort}
auth:
  bearer:
    tokens: ["client-${randomUUID()}"]
  oauth:
    upstream:
      issuer: ${issuer}
      clientId: gateway
      clientSecret: "${UPSTREAM_SECRET}"
      name: Test IdP
      allow:
        subjects: [alice]
servers:
  everything:
    command: ${EVERYTHING}
    args: [stdio]
`,
  );
  gateway = new GatewayProcess(['start', '--config', configFile], marker);
  await gateway.waitForOutput(/MCP gateway ready at/);
  if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  idp?.close();
  await gateway?.kill();
  killLeftovers(marker);
});

/** Registers a client, and signs in as `login` at the provider from the gateway's page; returns where the client was sent back to. */
async function signInUpstream(login: string): Promise<{ url: URL | undefined; page: string; verifier: string; clientId: string }> {
  const redirect = `http://127.0.0.1:${await freePort()}/cb`;
  const reg = await fetch(`${base}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'Upstream test client', redirect_uris: [redirect], token_endpoint_auth_method: 'none' }) });
  const clientId = ((await reg.json()) as { client_id: string }).client_id;
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${base}/authorize`);
  const params = { response_type: 'code', client_id: clientId, redirect_uri: redirect, state: 'st', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' };
  for (const [k, v] of Object.entries(params)) authorize.searchParams.set(k, v);

  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let returned: URL | undefined;
    await page.route(`${redirect}**`, async (route) => {
      returned = new URL(route.request().url());
      await route.fulfill({ body: 'back at the client' });
    });
    await page.goto(authorize.toString());
    await page.click('button[value=upstream]');
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'any');
    await page.click('button.login-submit');
    await page.click('button.login-submit'); // consent at the provider
    // Back at the client (a code), or on the gateway's callback page (a refusal).
    await page.waitForURL((u) => u.href.startsWith(redirect) || (u.origin === base && u.pathname === '/oauth/callback'), { timeout: 20_000 });
    return { url: returned, page: await page.content(), verifier, clientId };
  } finally {
    await context.close();
  }
}

describe('sign-in through an upstream OpenID Connect provider', () => {
  it.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('a listed subject signs in; the token works, as the principal of a JWT for that subject', { timeout: 60_000 }, async () => {
    const { url, page, verifier, clientId } = await signInUpstream('alice');
    const code = url?.searchParams.get('code');
    expect(code, page).toBeTruthy();
    expect(url!.searchParams.get('state')).toBe('st');
    const token = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: `${url!.origin}${url!.pathname}`, client_id: clientId, code_verifier: verifier }),
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const session = await fetch(`${base}/api/sessionid`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(session.status).toBe(200);
    const { sessionId } = (await session.json()) as { sessionId: string };
    // The session's principal is the one a JWT from that provider for `alice` has: jwt:<hash of issuer and sub>.
    const status = (await (await fetch(`${base}/status`, { headers: { authorization: `Bearer ${access_token}` } })).json()) as { liveSessions: { id: string; principal: string }[] };
    const expected = `jwt:${createHash('sha256').update(`jwt\u0000${issuer}\u0000alice`).digest('hex').slice(0, 24)}`;
    expect(status.liveSessions.find((x) => x.id === sessionId)?.principal).toBe(expected);
  });

  it.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('a subject the config does not list is refused: no code', { timeout: 60_000 }, async () => {
    const { url, page } = await signInUpstream('mallory');
    expect(url).toBeUndefined();
    expect(page).toContain('Not allowed here');
  });

  it('a callback without the browser that started it is refused', async () => {
    const res = await fetch(`${base}/oauth/callback?state=${'a'.repeat(64)}&code=x`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});
