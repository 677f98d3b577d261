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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING, GatewayProcess, killLeftovers, tempDir, writeConfig } from './harness.ts';
import { signInOnPage, TestOAuthProvider } from './oauth-client.ts';

const marker = randomUUID();
const PASSWORD = `pw-${randomUUID()}`;
const CLIENT_TOKEN = `client-${randomUUID()}`;
const GPT_SECRET = `gpt-secret-${randomUUID()}`;
const GPT_REDIRECT = 'https://chat.openai.com/aip/g-test/oauth/callback';

let gateway: GatewayProcess;
let base: string;

beforeAll(async () => {
  const configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: 0
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
    expect(metadataUrl).toBe(`${base}/.well-known/oauth-protected-resource`);
    expect(challenge).toMatch(/Basic realm=/);

    const rest = await fetch(`${base}/api/everything/tools`);
    expect(rest.status).toBe(401);
    expect(rest.headers.get('www-authenticate')).toContain('resource_metadata=');

    const prm = (await (await fetch(metadataUrl!)).json()) as { resource: string; authorization_servers: string[] };
    expect(prm.resource).toBe(base);
    expect(prm.authorization_servers).toEqual([base]);
    const suffixed = (await (await fetch(`${base}/.well-known/oauth-protected-resource/everything/mcp`)).json()) as { resource: string };
    expect(suffixed.resource).toBe(`${base}/everything/mcp`);

    const as = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(as.issuer).toBe(base);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.grant_types_supported).toContain('refresh_token');
    expect(as.registration_endpoint).toBe(`${base}/oauth/register`);
    expect(as.scopes_supported).toEqual(expect.arrayContaining(['mcp', 'mcp:everything', 'mcp:other']));
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
