/**
 * `pool: auto` (the default): no spare while a server is unused, one as soon as it is used (an
 * initialized one for REST sessions, a spawned one waiting for its client's `initialize` for MCP
 * sessions), taken by the next session, and none again once the server has been idle a while.
 */
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ConfigSchema } from '../shared/config.ts';
import type { JsonRpcMessage } from './instance.ts';
import { Instances } from './instances.ts';
import { Logger } from './logger.ts';

const FIXTURE = path.resolve(import.meta.dirname, '..', 'test', 'fixtures', 'test-server.mjs');
const LINGER_MS = 500;
let instances: Instances | undefined;

afterEach(async () => {
  await instances?.dispose();
  instances = undefined;
});

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function create(onServerMessage?: (server: string, session: string, message: JsonRpcMessage) => void): Instances {
  const config = ConfigSchema.parse({ servers: { test: { command: process.execPath, args: [FIXTURE] } } });
  instances = new Instances('test', config.servers.test!, { host: config.host, baseDir: path.dirname(FIXTURE), logger: new Logger('error', { color: false }), onServerMessage, spareLingerMs: LINGER_MS });
  instances.startPools();
  return instances;
}

it('keeps no spare before a server is used, one while it is, and none once it is idle', async () => {
  const set = create();
  expect(set.counts()).toEqual({ sessions: 0, pooled: 0, watching: 0 });
  await set.get('first');
  await until(() => (set.counts().pooled === 1 ? true : undefined), 'a spare after the first session');

  const before = Date.now();
  const second = await set.get('second');
  expect(second.startedAt).toBeLessThan(before); // ready-made: the spare
  expect(second.session).toBe('second');
  await until(() => (set.counts().pooled === 1 ? true : undefined), 'the spare refilled');

  await set.close('first');
  await set.close('second');
  await until(() => (set.counts().pooled === 0 ? true : undefined), 'no spare once idle');
  expect(set.counts().sessions).toBe(0);
});

it('gives an MCP client session a spawned spare that answers its own initialize', async () => {
  const messages: { session: string; message: JsonRpcMessage }[] = [];
  const set = create((_server, session, message) => messages.push({ session, message }));
  const initialize = (id: number): JsonRpcMessage => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'client', version: '1' } } });
  set.relay('mcp-1', initialize(1));
  await until(() => messages.find((m) => m.session === 'mcp-1' && m.message.id === 1), 'the first session initialized');
  await until(() => (set.counts().pooled >= 1 ? true : undefined), 'a raw spare');

  const before = Date.now();
  set.relay('mcp-2', initialize(7));
  expect((await set.get('mcp-2')).startedAt).toBeLessThan(before); // ready-made: the spare
  const answer = await until(() => messages.find((m) => m.session === 'mcp-2' && m.message.id === 7), 'the second session initialized');
  expect((answer.message.result as { serverInfo?: { name?: string } }).serverInfo?.name).toBe('gateway-test-server');
  expect(messages.every((m) => m.session === 'mcp-1' || m.session === 'mcp-2')).toBe(true);
});
