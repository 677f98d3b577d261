/**
 * OAuth 2.1 through the real edge and host, with real clients: the MCP SDK's own OAuth flow over
 * Streamable HTTP and HTTP+SSE, signing in on the gateway's page; refresh; and the refusals a
 * user would meet (wrong password, PKCE missing or plain, unregistered redirect URI, expired,
 * revoked or foreign tokens).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EVERYTHING, GatewayProcess, killLeftovers, MAIN, ROOT, tempDir, waitUntil, writeConfig } from './harness.ts';
import { signInOnPage, TestOAuthProvider } from './oauth-client.ts';
import { freePort } from '../../scripts/procs.ts';

const marker = randomUUID();
const PASSWORD = `pw-${randomUUID()}`;
const CLIENT_TOKEN = `client-${randomUUID()}`;
const GPT_SECRET = `gpt-secret-${randomUUID()}`;
const GPT_REDIRECT = 'https://chat.openai.com/aip/g-test/oauth/callback';

let gateway: GatewayProcess;
let base: string;
let configFile: string;

beforeAll(async () => {
  configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: 0
debug: { level: verbose }
auth:
  basic:
    credentials: [{ username: owner, password: "${PASSWORD}" }]
  bearer:
    tokens: ["${CLIENT_TOKEN}"]
  oauth:
    enabled: true
    accessTokenTtlSeconds: 60
    clients:
      - id: custom-gpt
        secret: "${GPT_SECRET}"
        name: My GPT
        redirectUris: ["${GPT_REDIRECT}"]
servers:
  everything:
    command: ${EVERYTHING}
    args: [stdio]
  other:
    command: ${EVERYTHING}
    args: [stdio]
`,
  );
  gateway = new GatewayProcess(['start', '--config', configFile], marker);
  base = (await gateway.waitForOutput(/MCP gateway ready at (http:\/\/\S+)/))[1]!.replace(/\/$/, '');
}, 60_000);

afterAll(async () => {
  await gateway?.kill();
  killLeftovers(marker);
});

/** Connects an SDK client with OAuth: the first attempt signs in, the second connects. */
async function connectWithOAuth(provider: TestOAuthProvider, transport: () => StreamableHTTPClientTransport | SSEClientTransport): Promise<Client> {
  const first = transport();
  await expect(new Client({ name: 'oauth-test', version: '1' }).connect(first)).rejects.toThrow(UnauthorizedError);
  expect(provider.code, provider.last?.html).toBeTruthy();
  await first.finishAuth(provider.code!);
  const client = new Client({ name: 'oauth-test', version: '1' });
  await client.connect(transport());
  return client;
}

describe('discovery', () => {
  it('answers 401 with a pointer to the protected-resource metadata, which names the authorization server', async () => {
    const res = await fetch(`${base}/everything/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    const metadataUrl = challenge.match(/resource_metadata="([^"]+)"/)?.[1];
    expect(metadataUrl).toBe(`${base}/.well-known/oauth-protected-resource/everything/mcp`);
    expect(challenge).toMatch(/Basic realm=/);

    const rest = await fetch(`${base}/api/everything/tools`);
    expect(rest.status).toBe(401);
    expect(rest.headers.get('www-authenticate')).toContain('resource_metadata=');

    // The metadata's resource is exactly the URL requested (RFC 9728 §3.3); the root one is the gateway's.
    const prm = (await (await fetch(metadataUrl!)).json()) as { resource: string; authorization_servers: string[] };
    expect(prm.resource).toBe(`${base}/everything/mcp`);
    expect(prm.authorization_servers).toEqual([base]);
    const root = (await (await fetch(`${base}/.well-known/oauth-protected-resource`)).json()) as { resource: string };
    expect(root.resource).toBe(base);

    const as = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(as.issuer).toBe(base);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.grant_types_supported).toContain('refresh_token');
    expect(as.registration_endpoint).toBe(`${base}/oauth/register`);
    expect(as.scopes_supported).toEqual(expect.arrayContaining(['mcp', 'mcp:everything', 'mcp:other']));
    expect(as.client_id_metadata_document_supported).toBe(true);
  });

  it('the OpenAPI document offers the sign-in as an oauth2 scheme, and stays valid', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`, { headers: { authorization: `Bearer ${CLIENT_TOKEN}` } })).json()) as any;
    expect(doc.components.securitySchemes.oauth2.flows.authorizationCode).toMatchObject({
      authorizationUrl: `${base}/authorize`,
      tokenUrl: `${base}/oauth/token`,
      scopes: { mcp: 'Every server.', 'mcp:everything': 'The server everything only.', 'mcp:other': 'The server other only.' },
    });
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('the MCP SDK signing in', () => {
  it('over Streamable HTTP: registers, signs in on the page, calls a tool as the owner', async () => {
    const provider = new TestOAuthProvider({ username: 'owner', password: PASSWORD });
    const url = new URL(`${base}/everything/mcp`);
    const client = await connectWithOAuth(provider, () => new StreamableHTTPClientTransport(url, { authProvider: provider }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'over oauth' } });
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: over oauth' }]);
    expect(provider.last!.location!.searchParams.get('iss')).toBe(base);
    await client.close();

    // The same token works on REST (one auth layer for every route).
    const rest = await fetch(`${base}/api/everything/tools`, { headers: { authorization: `Bearer ${provider.savedTokens!.access_token}` } });
    expect(rest.status).toBe(200);
  });

  it('over HTTP+SSE', async () => {
    const provider = new TestOAuthProvider({ token: CLIENT_TOKEN });
    const url = new URL(`${base}/everything`);
    const client = await connectWithOAuth(provider, () => new SSEClientTransport(url, { authProvider: provider }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'sse' } });
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: sse' }]);
    await client.close();
  });
});

/** A client registered by DCR, as a test sets it up by hand. */
async function register(redirectUris: string[]): Promise<string> {
  const res = await fetch(`${base}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Hand-made client', redirect_uris: redirectUris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(params: Record<string, string>): URL {
  const url = new URL(`${base}/authorize`);
  for (const [k, v] of Object.entries({ response_type: 'code', state: 'st-1', resource: base, ...params })) url.searchParams.set(k, v);
  return url;
}

async function tokenRequest(params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params) });
  return { status: res.status, body: await res.json() };
}

/** Signs in by hand with PKCE and returns the token response. */
async function signInByHand(redirect: string, scope = 'mcp', signIn = { username: 'owner', password: PASSWORD }) {
  const clientId = await register([redirect]);
  const { verifier, challenge } = pkce();
  const page = await signInOnPage(authorizeUrl({ client_id: clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', scope }), signIn);
  const code = page.location?.searchParams.get('code');
  expect(code, page.html).toBeTruthy();
  const token = await tokenRequest({ grant_type: 'authorization_code', code: code!, redirect_uri: redirect, client_id: clientId, code_verifier: verifier, resource: `${base}/everything/mcp` });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return { clientId, ...(token.body as { access_token: string; refresh_token: string; scope: string }) };
}

const tools = (token: string, origin = base, server = 'everything') => fetch(`${origin}/api/${server}/tools`, { headers: { authorization: `Bearer ${token}` } });

describe('tokens', () => {
  it('a loopback redirect URI matches on any port; a refresh gives a new working token', async () => {
    const clientId = await register(['http://127.0.0.1/callback']);
    const { verifier, challenge } = pkce();
    const page = await signInOnPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1:51234/callback', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'owner', password: PASSWORD });
    expect(page.location?.origin).toBe('http://127.0.0.1:51234');
    const first = await tokenRequest({ grant_type: 'authorization_code', code: page.location!.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:51234/callback', client_id: clientId, code_verifier: verifier });
    expect(first.status).toBe(200);
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: clientId });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(first.body.access_token);
    expect((await tools(refreshed.body.access_token)).status).toBe(200);
  });

  it('a scope for one server reaches that server only (403 insufficient_scope elsewhere)', async () => {
    const { access_token, scope } = await signInByHand('http://127.0.0.1/cb', 'mcp:other');
    expect(scope).toBe('mcp:other');
    expect((await tools(access_token, base, 'other')).status).toBe(200);
    const denied = await tools(access_token, base, 'everything');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="mcp:everything".*resource_metadata=/);
  });

  it("a token's principal is its owner's credential: a session opened over OAuth is theirs over Basic too, nobody else's", async () => {
    const { access_token } = await signInByHand('http://127.0.0.1/cb');
    const session = ((await (await fetch(`${base}/api/sessionid`, { headers: { authorization: `Bearer ${access_token}` } })).json()) as { sessionId: string }).sessionId;
    const echo = (authorization: string) =>
      fetch(`${base}/api/everything/echo?sessionId=${session}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: '{"message":"mine"}' });
    expect((await echo(`Bearer ${access_token}`)).status).toBe(200);
    expect((await echo(`Basic ${Buffer.from(`owner:${PASSWORD}`).toString('base64')}`)).status).toBe(200);
    expect((await echo(`Bearer ${CLIENT_TOKEN}`)).status).toBe(404);
  });

  it('a token used at another origin (another audience) gets 401 with the metadata pointer', async () => {
    const { access_token } = await signInByHand('http://127.0.0.1/cb');
    const other = base.replace('127.0.0.1', 'localhost');
    const res = await tools(access_token, other);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${other}/.well-known/oauth-protected-resource/api/everything/tools"`);
  });

  it('a resource on another origin is refused at the token endpoint', async () => {
    const clientId = await register(['http://127.0.0.1/cb']);
    const { verifier, challenge } = pkce();
    const page = await signInOnPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1/cb', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'owner', password: PASSWORD });
    const res = await tokenRequest({ grant_type: 'authorization_code', code: page.location!.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1/cb', client_id: clientId, code_verifier: verifier, resource: 'https://elsewhere.example/mcp' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
  });

  it('a revoked grant: its token gets 401; the owner lists and revokes grants over the API', async () => {
    const { access_token, clientId } = await signInByHand('http://127.0.0.1/cb');
    const owner = { authorization: `Basic ${Buffer.from(`owner:${PASSWORD}`).toString('base64')}` };
    const list = (await (await fetch(`${base}/oauth/grants`, { headers: owner })).json()) as { grants: { id: string; clientId: string; clientName: string }[] };
    const grant = list.grants.find((g) => g.clientId === clientId)!;
    expect(grant.clientName).toBe('Hand-made client');
    expect(JSON.stringify(list)).not.toContain(access_token);
    // Neither an OAuth token (not even the owner's) nor another principal can see or revoke it.
    expect((await fetch(`${base}/oauth/grants`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(403);
    expect((await fetch(`${base}/oauth/grants/${grant.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${access_token}` } })).status).toBe(403);
    const stranger = await fetch(`${base}/oauth/grants/${grant.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${CLIENT_TOKEN}` } });
    expect(stranger.status).toBe(404);
    expect((await tools(access_token)).status).toBe(200);
    expect((await fetch(`${base}/oauth/grants/${grant.id}`, { method: 'DELETE', headers: owner })).status).toBe(204);
    const after = await tools(access_token);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toContain('resource_metadata=');
  });
});

describe('mcp-gateway oauth', () => {
  // Options first: a grant id may start with `-`, so it goes after `--`.
  const cli = (sub: string, id?: string) =>
    promisify(execFile)(process.execPath, [MAIN, 'oauth', sub, '--config', configFile, '--edge', base, ...(id ? ['--', id] : [])], { env: { ...process.env, MCP_GATEWAY_TEST_RUN: marker } });

  it('lists the signed-in applications and revokes one; its token then gets 401', async () => {
    const { access_token, clientId } = await signInByHand('http://127.0.0.1/cli');
    const listed = await cli('list');
    const line = listed.stdout.split('\n').find((l) => l.includes(`client ${clientId};`))!;
    expect(line).toMatch(new RegExp(`^\\S+  Hand-made client  \\(client ${clientId}; basic:[0-9a-f]{24}; mcp; since `));
    expect(listed.stdout).not.toContain(access_token);
    expect(listed.stdout + listed.stderr).not.toContain(PASSWORD);
    const id = line.split(' ')[0]!;
    expect((await cli('revoke', id)).stdout).toBe(`revoked ${id}: its tokens no longer work\n`);
    expect((await tools(access_token)).status).toBe(401);
    await expect(cli('revoke', id)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(`no grant ${id}`) });
  });
});

describe('refusals', () => {
  it('a wrong password: the page says so and no code is issued', async () => {
    const clientId = await register(['http://127.0.0.1/cb']);
    const { challenge } = pkce();
    const page = await signInOnPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1/cb', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'owner', password: 'wrong' });
    expect(page.status).toBe(401);
    expect(page.location).toBeUndefined();
    expect(page.html).toContain('not valid');
    const token = await signInOnPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1/cb', code_challenge: challenge, code_challenge_method: 'S256' }), { token: 'not-a-token' });
    expect(token.location).toBeUndefined();
  });

  it('PKCE missing or plain: refused, no code', async () => {
    const clientId = await register(['http://127.0.0.1/cb']);
    const cases: Record<string, string>[] = [{}, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }];
    for (const extra of cases) {
      const page = await signInOnPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1/cb', ...extra }), { username: 'owner', password: PASSWORD });
      expect(page.location?.searchParams.get('code') ?? null).toBeNull();
      if (page.location) expect(page.location.searchParams.get('error')).toBe('invalid_request');
      else expect(page.status).toBe(400);
    }
  });

  it('a redirect URI that was not registered: an error page, never a redirect', async () => {
    const clientId = await register(['http://127.0.0.1/cb']);
    const { challenge } = pkce();
    const page = await signInOnPage(authorizeUrl({ client_id: clientId, redirect_uri: 'https://attacker.example/cb', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'owner', password: PASSWORD });
    expect(page.status).toBe(400);
    expect(page.location).toBeUndefined();
  });

  it('Deny sends the client access_denied', async () => {
    const clientId = await register(['http://127.0.0.1/cb']);
    const { challenge } = pkce();
    const page = await signInOnPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1/cb', code_challenge: challenge, code_challenge_method: 'S256' }), { action: 'deny' });
    expect(page.location?.searchParams.get('error')).toBe('access_denied');
    expect(page.location?.searchParams.get('code')).toBeNull();
  });
});

describe('a pre-registered confidential client (a custom GPT Action)', () => {
  it('signs in with its fixed id and secret; a wrong secret is refused', async () => {
    const page = await signInOnPage(authorizeUrl({ client_id: 'custom-gpt', redirect_uri: GPT_REDIRECT, scope: 'mcp' }), { username: 'owner', password: PASSWORD });
    expect(page.html).toBe('');
    const code = page.location!.searchParams.get('code')!;
    expect(page.location!.origin + page.location!.pathname).toBe(GPT_REDIRECT);
    const wrong = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: GPT_REDIRECT, client_id: 'custom-gpt', client_secret: 'x'.repeat(40) });
    expect(wrong.status).toBe(401);
    const page2 = await signInOnPage(authorizeUrl({ client_id: 'custom-gpt', redirect_uri: GPT_REDIRECT, scope: 'mcp' }), { username: 'owner', password: PASSWORD });
    const ok = await tokenRequest({ grant_type: 'authorization_code', code: page2.location!.searchParams.get('code')!, redirect_uri: GPT_REDIRECT, client_id: 'custom-gpt', client_secret: GPT_SECRET });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const session = (await (await fetch(`${base}/api/sessionid`, { headers: { authorization: `Bearer ${ok.body.access_token}` } })).json()) as { sessionId: string };
    const call = await fetch(`${base}/api/everything/echo?sessionId=${session.sessionId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ok.body.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'gpt' }),
    });
    expect(call.status).toBe(200);
  });
});

/** The conformance package's 0.2 line (npm alias conformance-next), which has authorization-server checks. */
const CONFORMANCE_NEXT = path.join(ROOT, 'node_modules/conformance-next/dist/index.js');


describe('the MCP conformance suite, authorization server checks', () => {
  it('passes its metadata (CIMD included) and authorization-code-grant checks, signing in on the page', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const redirect = `http://127.0.0.1:${port}/callback`;
    const clientId = await register([redirect]);
    const out = mkdtempSync(path.join(os.tmpdir(), 'conformance-auth-'));
    const child = spawn(process.execPath, [CONFORMANCE_NEXT, 'authorization', '--url', base, '--client-id', clientId, '--port', String(port), '--resource', `${base}/everything/mcp`, '-o', out], {
      env: { ...process.env, MCP_GATEWAY_TEST_RUN: marker },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The suite prints the authorization URL for a person to open; the page is signed in here.
      const url = await waitUntil(() => output.match(/^(http:\/\/\S+\/authorize\?\S+)$/m)?.[1], 30_000, `the authorization URL from the suite\n${output}`);
      const page = await signInOnPage(new URL(url), { username: 'owner', password: PASSWORD });
      expect(page.location?.toString(), page.html).toMatch(new RegExp(`^${redirect}\\?`));
      await fetch(page.location!); // the suite's callback
      expect(await exited, output).toBe(0);
    } finally {
      child.kill();
    }
    const checks = readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('checks.json'))
      .flatMap((f) => JSON.parse(readFileSync(path.join(out, f), 'utf8')) as { id: string; status: string; errorMessage?: string }[]);
    expect(checks.map((c) => `${c.id}: ${c.status}${c.errorMessage ? ` (${c.errorMessage})` : ''}`).sort()).toEqual([
      'authorization-code-grant: SUCCESS',
      'authorization-server-metadata-cimd: SUCCESS',
      'authorization-server-metadata: SUCCESS',
    ]);
  });
});

describe('logs', () => {
  it('never show a password, a client secret, a token or a code, at verbose', async () => {
    const logs = gateway.stdout + gateway.stderr;
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [PASSWORD, CLIENT_TOKEN, GPT_SECRET]) expect(logs).not.toContain(secret);
    // Access and refresh tokens and codes all start with the grant's user id (`basic%3Aowner:`).
    expect(logs).not.toMatch(/(basic|bearer)%3A[^:\s"]*:[A-Za-z0-9_-]+:/);
  });
});
