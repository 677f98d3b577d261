/**
 * An HTTP+SSE session ends with its client's connection: the server process stops soon after
 * the client disconnects, long before the stream's next keepalive comment (20 s by default, the
 * only write there would otherwise be to notice the disconnect).
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatewayProcess, isAlive, killLeftovers, startEdge, startHost, STANDARD_SERVERS, tempDir, waitUntil, writeConfig } from './harness.ts';

const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
let edge: GatewayProcess;
let host: GatewayProcess;
let base: string;

beforeAll(async () => {
  const configFile = writeConfig(tempDir(), `hostname: 127.0.0.1\nport: 0\nlimits: { sseKeepaliveMs: 60000 }\nservers:\n${STANDARD_SERVERS}`);
  ({ edge, base } = await startEdge(configFile, token, marker));
  host = await startHost(configFile, base, token, 'home', marker);
});

afterAll(async () => {
  await host?.kill();
  await edge?.kill();
  killLeftovers(marker);
});

it('stops the session process soon after the client disconnects, not at the next keepalive', async () => {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  await client.connect(new SSEClientTransport(new URL(`${base}/test`)));
  const result = (await client.callTool({ name: 'pid', arguments: {} })) as { content: { text: string }[] };
  const pid = Number(result.content[0]!.text);
  expect(isAlive(pid)).toBe(true);
  await client.close();
  // The keepalive is a minute away: the process going before it is the client's disconnect seen.
  await waitUntil(() => (isAlive(pid) ? undefined : true), 15_000, `server process ${pid} to exit`);
});
