/**
 * JSON nested deeper than the gateway passes on, from either end: a client's body is refused
 * with 400, and a server's answer is turned into a clear error for its caller at once (not left
 * to the call deadline, not a 500).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, STANDARD_SERVERS, killLeftovers, postJson, startEdge, startHost, tempDir, writeConfig } from './harness.ts';

const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
const processes: GatewayProcess[] = [];
let base: string;

beforeAll(async () => {
  const started = await startEdge(writeConfig(tempDir(), 'hostname: 127.0.0.1\nport: 0\nservers: {}\n'), token, marker);
  base = started.base;
  processes.push(started.edge);
  processes.push(await startHost(writeConfig(tempDir(), `servers:\n${STANDARD_SERVERS}`), base, token, 'deep-host', marker));
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  expect(killLeftovers(marker)).toBe(0);
});

describe('deeply nested JSON', () => {
  it('a client body nested 3,000 deep is 400, on REST and MCP routes', async () => {
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const rest = await postJson(`${base}/api/test/echo`, deep);
    expect(rest.status).toBe(400);
    expect(rest.body.error.code).toBe('BAD_REQUEST');
    const mcp = await fetch(`${base}/test/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":${deep}}`,
    });
    expect(mcp.status).toBe(400);
  });

  it('an answer nested 100 deep passes; 3,000 deep is 502 UPSTREAM_ERROR at once', async () => {
    const shallow = await postJson(`${base}/api/test/deep`, { levels: 100 });
    expect(shallow.status).toBe(200);
    expect(shallow.body.content[0].text).toBe('nested 100');
    const deep = await postJson(`${base}/api/test/deep`, { levels: 3000 });
    expect(deep.status).toBe(502);
    expect(deep.body.error.code).toBe('UPSTREAM_ERROR');
    // The host's refusal (a call left to its deadline would be 504 REQUEST_TIMEOUT).
    expect(deep.body.error.message).toMatch(/nests arrays and objects deeper than/);
  });
});
