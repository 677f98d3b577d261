/**
 * Third-party clients and session lifetime: the MCP Inspector CLI over both transports, and a
 * Streamable HTTP session that its client abandons being reaped after the idle timeout.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, killLeftovers, tempDir, waitUntil, writeConfig, STANDARD_SERVERS, isAlive } from './harness.ts';

const run = promisify(execFile);
const inspectorBin = path.join(path.dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector/package.json')), 'clients/launcher/build/index.js');
const marker = randomUUID();
const IDLE_MS = 1500;
let gateway: GatewayProcess;
let base: string;

beforeAll(async () => {
  const configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: 0
limits: { mcpSessionIdleMs: ${IDLE_MS} }
servers:
${STANDARD_SERVERS}`,
  );
  gateway = new GatewayProcess(['start', '--config', configFile], marker);
  base = (await gateway.waitForOutput(/MCP gateway ready at (http:\/\/\S+)/))[1]!;
});

afterAll(async () => {
  await gateway?.kill();
  killLeftovers(marker);
});

async function inspector(...args: string[]): Promise<any> {
  const { stdout } = await run(process.execPath, [inspectorBin, '--cli', ...args], {
    timeout: 30_000,
    env: { ...process.env, MCP_CATALOG_PATH: path.join(tempDir(), 'catalog.json') },
  });
  return JSON.parse(stdout);
}

describe('MCP Inspector CLI', () => {
  it.each([
    ['Streamable HTTP', 'everything/mcp', 'http'],
    ['HTTP+SSE', 'everything', 'sse'],
  ])('lists and calls tools over %s', async (_name, route, transport) => {
    const listed = await inspector(`${base}/${route}`, '--transport', transport, '--method', 'tools/list');
    expect(listed.tools.map((t: { name: string }) => t.name)).toContain('echo');
    const called = await inspector(`${base}/${route}`, '--transport', transport, '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=from the inspector');
    expect(called.content[0].text).toBe('Echo: from the inspector');
  });
});

describe('Streamable HTTP session lifetime', () => {
  it('ends an abandoned session after the idle timeout: its process stops and its id answers 404', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(`${base}/test/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'idle', version: '1' } } }),
    });
    const session = init.headers.get('mcp-session-id')!;
    await init.text();
    const pidRes = await fetch(`${base}/test/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'pid', arguments: {} } }),
    });
    const pid = Number((await pidRes.text()).match(/"text":"(\d+)"/)![1]);
    const alive = () => isAlive(pid);
    expect(alive()).toBe(true);
    await waitUntil(() => (alive() ? undefined : true), IDLE_MS * 10, `server process ${pid} to be reaped`);
    const after = await fetch(`${base}/test/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
  });
});
