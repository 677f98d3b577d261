/**
 * MCP clients through the gateway, over both transports: the SDK's Client with
 * StreamableHTTPClientTransport and SSEClientTransport, against the real edge, a real host agent
 * and real servers (server-everything and the test server).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, TEST_SERVER, killLeftovers, startEdge, startHost, tempDir, waitUntil, writeConfig, STANDARD_SERVERS, isAlive } from './harness.ts';

const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
let edge: GatewayProcess;
let host: GatewayProcess;
let base: string;

beforeAll(async () => {
  const configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: 0
limits: { sseKeepaliveMs: 300 }
allowedOrigins: [http://allowed.example]
servers:
${STANDARD_SERVERS}  solo:
    command: ${process.execPath}
    args: [${TEST_SERVER}]
    instances: shared
`,
  );
  ({ edge, base } = await startEdge(configFile, token, marker));
  host = await startHost(configFile, base, token, 'home', marker);
});

afterAll(async () => {
  await host?.kill();
  await edge?.kill();
  killLeftovers(marker);
});

type TransportKind = 'streamable' | 'sse';

function transportFor(kind: TransportKind, server: string) {
  return kind === 'streamable' ? new StreamableHTTPClientTransport(new URL(`${base}/${server}/mcp`)) : new SSEClientTransport(new URL(`${base}/${server}`));
}

async function connect(kind: TransportKind, server = 'everything', setup?: (client: Client) => void): Promise<Client> {
  const client = new Client(
    { name: 'gateway-test', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } },
  );
  setup?.(client);
  await client.connect(transportFor(kind, server));
  return client;
}

const text = (result: any): string => result.content.map((c: any) => c.text ?? '').join('');

const processAlive = isAlive;

describe.each<TransportKind>(['streamable', 'sse'])('MCP over %s', (kind) => {
  it('lists tools and calls echo', async () => {
    const client = await connect(kind);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(text(await client.callTool({ name: 'echo', arguments: { message: `hi over ${kind}` } }))).toBe(`Echo: hi over ${kind}`);
    await client.close();
  });

  // Non-ASCII goes the text way through the host; plain ASCII as its own bytes (host/raw-json.ts).
  it.each([
    ['characters', 'é"<a href=\\"x\\">\u{1F600}'],
    ['ASCII characters', '"<a href=\\"x\\">\\\n\t\u0001'],
  ])('carries a message of a million %s, escapes and all, whole both ways', async (_, unit) => {
    const client = await connect(kind);
    const message = unit.repeat(Math.ceil(1_000_000 / unit.length));
    expect(text(await client.callTool({ name: 'echo', arguments: { message } }))).toBe(`Echo: ${message}`);
    await client.close();
  });

  it('delivers progress notifications for a long call', async () => {
    const client = await connect(kind);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(text(result)).toMatch(/completed/);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    await client.close();
  });

  it('answers sampling, elicitation and roots requests from the server through its own handlers', async () => {
    const client = await connect(kind, 'everything', (c) => {
      c.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
        model: 'test-model',
        role: 'assistant',
        content: { type: 'text', text: `sampled ${kind}: ${JSON.stringify(req.params.messages[0]?.content)}` },
      }));
      c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: `Ada ${kind}`, check: true } }));
      c.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: `file:///work/${kind}`, name: `root-${kind}` }] }));
    });
    const sampled = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 20 } });
    expect(text(sampled)).toContain(`sampled ${kind}`);
    const elicited = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    expect(JSON.stringify(elicited)).toContain(`Ada ${kind}`);
    await waitUntil(async () => {
      const roots = text(await client.callTool({ name: 'get-roots-list', arguments: {} }));
      return roots.includes(`file:///work/${kind}`) ? true : undefined;
    }, 10_000, 'the server to learn our roots');
    await client.close();
  });

  it('reads a resource and gets a prompt', async () => {
    const client = await connect(kind);
    const { resources } = await client.listResources();
    expect(resources.length).toBeGreaterThan(0);
    const read = await client.readResource({ uri: resources[0]!.uri });
    expect(read.contents[0]?.uri).toBe(resources[0]!.uri);
    const { prompts } = await client.listPrompts();
    const simple = prompts.find((p) => !p.arguments?.some((a) => a.required)) ?? prompts[0]!;
    const prompt = await client.getPrompt({ name: simple.name, arguments: {} });
    expect(prompt.messages.length).toBeGreaterThan(0);
    await client.close();
  });

  it('cancels a long call: notifications/cancelled reaches the server', async () => {
    const client = await connect(kind, 'test');
    const abort = new AbortController();
    const call = client.callTool({ name: 'wait-for-cancel', arguments: {} }, undefined, {
      signal: abort.signal,
      onprogress: () => abort.abort('enough'),
    });
    await expect(call).rejects.toThrow();
    await waitUntil(async () => {
      const seen = JSON.parse(text(await client.callTool({ name: 'cancelled', arguments: {} }))) as string[];
      return seen.length === 1 ? true : undefined;
    }, 10_000, 'the server to see the cancellation');
    await client.close();
  });

  it('ends the server process when the client goes away', async () => {
    const client = await connect(kind, 'test');
    const pid = Number(text(await client.callTool({ name: 'pid', arguments: {} })));
    expect(processAlive(pid)).toBe(true);
    if (kind === 'streamable') await (client.transport as StreamableHTTPClientTransport).terminateSession();
    await client.close();
    await waitUntil(() => (processAlive(pid) ? undefined : true), 10_000, `server process ${pid} to exit`);
  });
});

describe('a shared server', () => {
  it('serves every MCP session from one process, each getting only its own answers and progress', async () => {
    const clients = await Promise.all([connect('streamable', 'solo'), connect('streamable', 'solo'), connect('sse', 'solo')]);
    const pids = await Promise.all(clients.map(async (c) => text(await c.callTool({ name: 'pid', arguments: {} }))));
    expect(new Set(pids).size).toBe(1);
    const answers = await Promise.all(
      clients.flatMap((c, i) => [0, 1, 2].map(async (j) => ({ want: `slept ${i * 10 + j}`, got: text(await c.callTool({ name: 'sleep', arguments: { ms: i * 10 + j } })) }))),
    );
    for (const { want, got } of answers) expect(got).toBe(want);

    // Progress reaches the client that asked for it, and its cancellation reaches the process.
    const abort = new AbortController();
    const progressSeen: number[] = [];
    const call = clients[1]!.callTool({ name: 'wait-for-cancel', arguments: {} }, undefined, {
      signal: abort.signal,
      onprogress: (p) => {
        progressSeen.push(p.progress);
        abort.abort('enough');
      },
    });
    await expect(call).rejects.toThrow();
    expect(progressSeen).toEqual([1]);
    await waitUntil(async () => {
      const seen = JSON.parse(text(await clients[0]!.callTool({ name: 'cancelled', arguments: {} }))) as string[];
      return seen.length >= 1 ? true : undefined;
    }, 10_000, 'the shared process to see the cancellation');
    await Promise.all(clients.map((c) => c.close()));
    // The process outlives its clients: it is shared.
    expect(processAlive(Number(pids[0]))).toBe(true);
  });
});

describe('many clients at once', () => {
  it('20 clients over both transports each get only their own replies', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(i % 2 ? 'sse' : 'streamable')));
    await Promise.all(
      clients.map(async (client, i) => {
        for (let round = 0; round < 5; round++) {
          const message = `client ${i} round ${round}`;
          expect(text(await client.callTool({ name: 'echo', arguments: { message } }))).toBe(`Echo: ${message}`);
        }
        const progress: number[] = [];
        await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.5, steps: 3 } }, undefined, {
          onprogress: (p) => progress.push(p.progress),
        });
        expect(progress.every((p) => p >= 1 && p <= 3)).toBe(true);
      }),
    );
    await Promise.all(clients.map((c) => c.close()));
  });
});

describe('Streamable HTTP sessions on the wire', () => {
  const post = (body: object, headers: Record<string, string> = {}) =>
    fetch(`${base}/test/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', ...headers },
      body: JSON.stringify(body),
    });

  async function initialize(): Promise<string> {
    const res = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(res.status).toBe(200);
    const session = res.headers.get('mcp-session-id');
    await res.text();
    expect(session).toMatch(/^[0-9a-f]{32}$/);
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': session! });
    expect(initialized.status).toBe(202);
    return session!;
  }

  /** Reads SSE events from a response until `until` says stop. */
  async function readEvents(res: Response, until: (events: { id?: string; data: string }[], comments: number) => boolean) {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: { id?: string; data: string }[] = [];
    let comments = 0;
    let buffer = '';
    while (!until(events, comments)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) comments++;
        const id = block.match(/^id: (.*)$/m)?.[1];
        const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join('\n');
        if (data) events.push({ id, data });
      }
    }
    await reader.cancel();
    return { events, comments };
  }

  it('refuses requests without a session (400) and with an unknown one (404)', async () => {
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(400);
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': 'f'.repeat(32) })).status).toBe(404);
  });

  it('refuses batches, malformed JSON and unsupported protocol versions with 400', async () => {
    const batch = await post([{ jsonrpc: '2.0', id: 1, method: 'ping' }] as unknown as object);
    expect(batch.status).toBe(400);
    const malformed = await fetch(`${base}/test/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).error.code).toBe(-32700);
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-protocol-version': '1999-01-01' })).status).toBe(400);
    // The same for a large body, which the Hub parses rather than the Worker.
    const big = 'x'.repeat(100_000);
    const largeMalformed = await fetch(`${base}/test/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"jsonrpc":"${big}"` });
    expect([largeMalformed.status, ((await largeMalformed.json()) as any).error.code]).toEqual([400, -32700]);
    expect((await post([{ jsonrpc: '2.0', id: 1, method: 'ping', params: { big } }] as unknown as object)).status).toBe(400);
  });

  it('a deleted session answers 404 afterwards', async () => {
    const session = await initialize();
    const del = await fetch(`${base}/test/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': session } });
    expect(del.status).toBe(200);
    expect((await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': session })).status).toBe(404);
  });

  it('keeps the GET stream alive with comments, survives a second GET, and replays after Last-Event-ID', async () => {
    const session = await initialize();
    const get = (headers: Record<string, string> = {}) =>
      fetch(`${base}/test/mcp`, { headers: { accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25', ...headers } });

    const first = await get();
    expect(first.status).toBe(200);
    const reading = readEvents(first, (events, comments) => events.length >= 3 && comments >= 1);
    const call = await post({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'notify', arguments: { count: 3 } } }, { 'mcp-session-id': session });
    expect(await call.text()).toContain('sent 3');
    const { events } = await reading;
    expect(events.map((e) => JSON.parse(e.data).params.data)).toEqual(['note 0', 'note 1', 'note 2']);

    // A second GET stream replaces the first; the session lives on, and replays what came after the given id.
    const second = await get({ 'last-event-id': events[0]!.id! });
    expect(second.status).toBe(200);
    const replayed = await readEvents(second, (evs) => evs.length >= 2);
    expect(replayed.events.map((e) => JSON.parse(e.data).params.data)).toEqual(['note 1', 'note 2']);
    const still = await post({ jsonrpc: '2.0', id: 6, method: 'tools/list' }, { 'mcp-session-id': session });
    expect(still.status).toBe(200);
    await still.text();
  });

  it('a session id is useless on another server', async () => {
    const session = await initialize();
    const res = await fetch(`${base}/everything/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('refuses a request from a foreign Origin with 403, and lets listed origins through', async () => {
    const res = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    const allowed = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { origin: 'http://allowed.example' });
    expect(allowed.status).toBe(400); // past the Origin check; refused for want of a session
  });

  it('refuses a rebound Host name with 403, even with a matching Origin', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${base}/test/mcp`);
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { host: 'evil.example.com', origin: 'http://evil.example.com', 'content-type': 'application/json', accept: 'application/json, text/event-stream' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }));
    });
    expect(status).toBe(403);
  });
});

describe('HTTP+SSE on the wire', () => {
  it('announces an endpoint that keeps the query string of the GET', async () => {
    const res = await fetch(`${base}/test?token=abc`, { headers: { accept: 'text/event-stream' } });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    while (!received.includes('\n\n')) received += (await reader.read()).value ?? '';
    await reader.cancel();
    expect(received).toMatch(/^event: endpoint\ndata: \/test\?token=abc&sessionId=[0-9a-f]{32}\n/);
  });

  it('answers 404 for a POST to an unknown session', async () => {
    const res = await fetch(`${base}/test?sessionId=${'e'.repeat(32)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(404);
  });
});
