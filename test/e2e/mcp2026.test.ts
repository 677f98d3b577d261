/**
 * MCP 2026-07-28 on the same endpoint as 2025-11-25, through the real edge and host, with the
 * conformance suite's 2025-era twin server over stdio, so that the bridge is what is exercised:
 * the v2 SDK client in modern mode (tools, resources, an elicitation answered through the bridge),
 * the specification's version negotiation errors, requestState refused when tampered, replayed,
 * presented by another principal or with another request, and a 2025 client on the same URL.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, killLeftovers, ROOT, tempDir, TEST_SERVER, writeConfig } from './harness.ts';

const marker = randomUUID();
const TOKEN_A = `a-${randomUUID()}`;
const TOKEN_B = `b-${randomUUID()}`;
const TWIN = path.join(ROOT, 'test/fixtures/conformance-server.mjs');
const MODERN = path.join(ROOT, 'test/fixtures/modern-server.mjs');
let gateway: GatewayProcess;
let url: string;

beforeAll(async () => {
  const configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: 0
auth:
  bearer:
    enabled: true
    tokens: ["${TOKEN_A}", "${TOKEN_B}"]
servers:
  twin:
    command: ${process.execPath}
    args: [${TWIN}]
  test:
    command: ${process.execPath}
    args: [${TEST_SERVER}]
  modern:
    command: ${process.execPath}
    args: [${MODERN}]
`,
  );
  gateway = new GatewayProcess(['start', '--config', configFile], marker);
  url = `${(await gateway.waitForOutput(/MCP gateway ready at (http:\/\/\S+)/))[1]!}/twin/mcp`;
});

afterAll(async () => {
  await gateway?.kill();
  killLeftovers(marker);
});

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
};

let nextId = 1;
/** One 2026-07-28 POST as the specification has it (headers mirror the body unless overridden). */
async function modern(method: string, params: Record<string, unknown>, opts: { token?: string; headers?: Record<string, string>; meta?: Record<string, unknown> | null; target?: string } = {}) {
  const name = (params.name ?? params.uri) as string | undefined;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${opts.token ?? TOKEN_A}`,
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
    ...(name ? { 'mcp-name': name } : {}),
    ...opts.headers,
  };
  const meta = opts.meta === undefined ? META : opts.meta;
  const id = nextId++;
  const res = await fetch(opts.target ?? url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, ...(meta ? { _meta: meta } : {}) } }) });
  return { status: res.status, body: (await res.json()) as any, id };
}

describe('the v2 SDK client in modern mode', () => {
  it('discovers 2026-07-28, calls tools, reads resources and answers an elicitation through the bridge, without initialize', async () => {
    const methods: string[] = [];
    const client = new ModernClient({ name: 'modern-e2e', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: 'auto' } });
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { username: 'ada', email: 'ada@example.com' } };
    });
    const transport = new ModernTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } },
      fetch: async (input, init) => {
        if (typeof init?.body === 'string') methods.push((JSON.parse(init.body) as { method?: string }).method ?? '(response)');
        return fetch(input, init);
      },
    });
    await client.connect(transport);
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect(client.getServerVersion()?.name).toBe('conformance-twin');

      const text = await client.callTool({ name: 'test_simple_text', arguments: {} });
      expect(text.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);

      const resource = await client.readResource({ uri: 'test://static-text' });
      expect(resource.contents[0]).toMatchObject({ uri: 'test://static-text', text: 'This is the content of the static text resource.' });

      const elicited = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
      expect(asked).toEqual(['Who are you?']);
      expect(elicited.content).toEqual([{ type: 'text', text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}' }]);

      expect(methods).not.toContain('initialize');
      // The elicitation took two requests: the call, answered input_required, and its retry with the answer.
      expect(methods.filter((m) => m === 'tools/call')).toHaveLength(3);
    } finally {
      await client.close();
    }
  });
});

describe('server/discover and version negotiation', () => {
  it('answers server/discover from what the host announced, with caching hints', async () => {
    const { status, body } = await modern('server/discover', {});
    expect(status).toBe(200);
    expect(body.result).toMatchObject({
      resultType: 'complete',
      supportedVersions: ['2026-07-28'],
      instructions: 'A twin of the MCP conformance suite reference server, over stdio.',
      cacheScope: 'private',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'conformance-twin', version: '1.0.0' } },
    });
    expect(body.result.capabilities.tools).toBeDefined();
    expect(Number.isInteger(body.result.ttlMs)).toBe(true);
  });

  it('refuses an unsupported version with 400, -32022 and the supported list', async () => {
    const v999 = { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    const { status, body, id } = await modern('server/discover', {}, { meta: v999, headers: { 'mcp-protocol-version': '2099-01-01' } });
    expect(status).toBe(400);
    expect(body).toMatchObject({ id, error: { code: -32022, data: { supported: ['2026-07-28'], requested: '2099-01-01' } } });
  });

  it('refuses headers that disagree with the body with 400 and -32020', async () => {
    const wrongVersion = await modern('server/discover', {}, { headers: { 'mcp-protocol-version': '2025-11-25' } });
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.body.error.code).toBe(-32020);
    const wrongName = await modern('tools/call', { name: 'test_simple_text', arguments: {} }, { headers: { 'mcp-name': 'test_error_handling' } });
    expect(wrongName.status).toBe(400);
    expect(wrongName.body.error.code).toBe(-32020);
  });

  it('refuses a 2026-07-28 request without its _meta with 400 and -32602, and removed methods with 404 and -32601', async () => {
    const bare = await modern('tools/list', {}, { meta: null });
    expect(bare.status).toBe(400);
    expect(bare.body.error.code).toBe(-32602);
    const ping = await modern('ping', {});
    expect(ping.status).toBe(404);
    expect(ping.body).toMatchObject({ id: ping.id, error: { code: -32601 } });
  });
});

describe('requestState', () => {
  const ask = () => modern('tools/call', { name: 'test_input_required_result_elicitation', arguments: {} });
  const answer = (state: unknown, key: string, opts: { token?: string; args?: Record<string, unknown> } = {}) =>
    modern('tools/call', { name: 'test_input_required_result_elicitation', arguments: opts.args ?? {}, requestState: state, inputResponses: { [key]: { action: 'accept', content: { name: 'Ada' } } } }, { token: opts.token });

  it('resumes the parked call once, for its principal and its request only', async () => {
    const first = await ask();
    expect(first.body.result.resultType).toBe('input_required');
    const [key] = Object.keys(first.body.result.inputRequests);
    const state = first.body.result.requestState as string;

    const otherPrincipal = await answer(state, key!, { token: TOKEN_B });
    expect(otherPrincipal.status).toBe(400);
    expect(otherPrincipal.body.error).toMatchObject({ code: -32602, message: expect.stringContaining('another principal') });

    const otherRequest = await answer(state, key!, { args: { extra: 1 } });
    expect(otherRequest.status).toBe(400);
    expect(otherRequest.body.error.message).toContain('another request');

    const tampered = `${state.slice(0, 10)}${state[10] === 'A' ? 'B' : 'A'}${state.slice(11)}`;
    const forged = await answer(tampered, key!);
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe(-32602);

    const done = await answer(state, key!);
    expect(done.status).toBe(200);
    expect(done.body.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'Hello, Ada!' }] });

    const replay = await answer(state, key!);
    expect(replay.status).toBe(400);
    expect(replay.body.error.code).toBe(-32602);
  });

  it('asks again for answers that are missing', async () => {
    const first = await ask();
    const again = await modern('tools/call', { name: 'test_input_required_result_elicitation', arguments: {}, requestState: first.body.result.requestState, inputResponses: { wrong_key: {} } });
    expect(again.body.result.resultType).toBe('input_required');
    expect(Object.values(again.body.result.inputRequests)).toEqual(Object.values(first.body.result.inputRequests));
    expect(again.body.result.requestState).not.toBe(first.body.result.requestState);
  });
});

describe('both eras on one endpoint', () => {
  it('still serves a 2025-11-25 session to the v1 SDK client', async () => {
    const client = new Client({ name: 'legacy-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } } }));
    try {
      const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
    } finally {
      await client.close();
    }
  });

  it('puts a request\'s progress on its own stream, before its result', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${TOKEN_A}`,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'test_tool_with_progress',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'p1', method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { ...META, progressToken: 'tok' } } }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    expect(events.filter((e) => e.method === 'notifications/progress').map((e) => e.params.progress)).toEqual([0, 50, 100]);
    expect(events.at(-1)).toMatchObject({ id: 'p1', result: { resultType: 'complete' } });
  });
});

describe('REST, for a tool that asks the client for input', () => {
  it('answers 409 INPUT_REQUIRED at once, naming what was asked and where it can be answered', async () => {
    const res = await fetch(url.replace(/\/twin\/mcp$/, '/api/test/ask'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN_A}` },
      body: '{}',
    });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INPUT_REQUIRED');
    expect(body.error.message).toContain('elicitation/create ("What is your name?")');
    expect(body.error.message).toContain('/test/mcp');
  });
});

describe('a 2026-07-28 server (v2 server SDK over stdio)', () => {
  const modernUrl = () => url.replace(/\/twin\/mcp$/, '/modern/mcp');

  it('gets modern requests relayed unchanged: its own discover, and its own input_required round trip', async () => {
    const client = new ModernClient({ name: 'modern-e2e', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: 'auto' } });
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }));
    await client.connect(new ModernTransport(new URL(modernUrl()), { requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } } }));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect(client.getServerVersion()).toMatchObject({ name: 'modern-fixture', version: '2.0.0' });
      expect((await client.callTool({ name: 'echo', arguments: { message: 'hi' } })).content).toEqual([{ type: 'text', text: 'Echo: hi' }]);
      expect((await client.callTool({ name: 'greet', arguments: {} })).content).toEqual([{ type: 'text', text: 'Hello, Ada!' }]);
    } finally {
      await client.close();
    }
  });

  it('passes the server\'s own input requests through, keyed as the server keyed them', async () => {
    const { status, body } = await modern('tools/call', { name: 'greet', arguments: {} }, { target: modernUrl() });
    expect(status).toBe(200);
    expect(body.result).toMatchObject({ resultType: 'input_required', inputRequests: { name: { method: 'elicitation/create' } } });
    expect(body.result.requestState).toBeUndefined();
  });

  it('serves subscriptions/listen itself: the acknowledgement first, tagged with the subscription id', async () => {
    const stream = await listen(modernUrl(), 'listen-m', { toolsListChanged: true });
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain('text/event-stream');
      expect(await stream.next()).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { toolsListChanged: true }, _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-m' } } });
    } finally {
      stream.close();
    }
  });

  it('serves a 2025-11-25 client too', async () => {
    const client = new Client({ name: 'legacy-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(modernUrl()), { requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } } }));
    try {
      expect((await client.callTool({ name: 'echo', arguments: { message: 'old' } })).content).toEqual([{ type: 'text', text: 'Echo: old' }]);
    } finally {
      await client.close();
    }
  });
});

describe('subscriptions/listen', () => {
  it('acknowledges the honored filter first, then delivers the server\'s list changes of the kinds asked for, tagged', async () => {
    const stream = await listen(url, 'listen-1', { promptsListChanged: true, resourceSubscriptions: ['test://static-text'] });
    const next = stream.next;
    expect(stream.contentType).toContain('text/event-stream');
    try {
      const ack = await next();
      expect(ack).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { promptsListChanged: true }, _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' } } });
      expect(ack.params.notifications.resourceSubscriptions).toBeUndefined();
      await modern('tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      await modern('tools/call', { name: 'test_trigger_prompt_change', arguments: {} });
      // The tool list change was not asked for: the next event is the prompt list's.
      expect(await next()).toMatchObject({ method: 'notifications/prompts/list_changed', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' } } });
    } finally {
      stream.close();
    }
  });
});

/** A 2026-07-28 `subscriptions/listen` request's stream: its status, content type, and its events' data one at a time. */
async function listen(endpoint: string, id: string, notifications: object) {
  const controller = new AbortController();
  const res = await fetch(endpoint, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${TOKEN_A}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'subscriptions/listen',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications, _meta: META } }),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<any> => {
    for (;;) {
      const line = buffer.split('\n').find((l) => l.startsWith('data: ') && l.length > 6);
      if (line) {
        buffer = buffer.slice(buffer.indexOf(line) + line.length);
        return JSON.parse(line.slice(6));
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the listen stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
  return { status: res.status, contentType: res.headers.get('content-type'), next, close: () => controller.abort() };
}
