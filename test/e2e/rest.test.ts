/**
 * The relay spine end to end: curl-style HTTP -> edge on workerd -> a real host agent process ->
 * real STDIO MCP servers (server-everything and the misbehaving test server), and back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GatewayProcess, health, killLeftovers, newSession, postExpectContinue, postJson, processesWithMarker, startEdge, startHost, tempDir, waitUntil, writeConfig, STANDARD_SERVERS, isAlive } from './harness.ts';

const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
const CALL_TIMEOUT_MS = 15_000;
let configFile: string;
/** The edge's storage, kept across its restart. */
const stateDir = tempDir('mcp-gateway-state-');
let edge: GatewayProcess;
let host: GatewayProcess;
let base: string;

beforeAll(async () => {
  configFile = writeConfig(
    tempDir(),
    `hostname: 127.0.0.1
port: 0
debug: { level: info }
# The 5 MiB result must arrive whole: no cutting for GPTs here.
limits: { callTimeoutMs: ${CALL_TIMEOUT_MS}, maxResultChars: 0 }
servers:
${STANDARD_SERVERS}`,
  );
  ({ edge, base } = await startEdge(configFile, token, marker, ['--state', stateDir]));
  host = await startHost(configFile, base, token, 'home', marker);
});

afterAll(async () => {
  await host?.kill();
  await edge?.kill();
  killLeftovers(marker);
});

const call = (server: string, tool: string, session: string, args: object | string = {}) =>
  postJson(`${base}/api/${server}/${tool}?sessionId=${session}`, args);

describe('REST tool calls', () => {
  it('health lists the host and its servers', async () => {
    const body = await health(base);
    expect(body.hosts).toEqual([expect.objectContaining({ id: 'home', servers: ['everything', 'test'] })]);
  });

  it('calls echo on server-everything', async () => {
    const session = await newSession(base);
    const res = await call('everything', 'echo', session, { message: 'hi' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ content: [{ type: 'text', text: 'Echo: hi' }], isError: false });
  });

  it('answers 50 concurrent calls on one session, each with its own result', async () => {
    const session = await newSession(base);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => call('everything', 'echo', session, { message: `m${i}` })));
    results.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body.content[0].text).toBe(`Echo: m${i}`);
    });
  });

  it('keeps sessions apart: one id used on two servers reaches each server', async () => {
    const session = await newSession(base);
    const a = await call('everything', 'echo', session, { message: 'a' });
    const b = await call('test', 'fail', session);
    expect(a.body.content[0].text).toBe('Echo: a');
    expect(b.body.content[0].text).toBe('this tool always fails');
  });

  it('runs a call without a sessionId on a fresh process, stopped afterwards', async () => {
    const first = await postJson(`${base}/api/test/pid`, {});
    const second = await postJson(`${base}/api/test/pid`, {});
    expect(first.status).toBe(200);
    const pids = [first, second].map((r) => Number(r.body.content[0].text));
    expect(pids[0]).not.toBe(pids[1]);
    await waitUntil(() => (pids.some(isAlive) ? undefined : true), 10_000, 'the one-off processes to stop');
  });

  it('returns a tool error as 200 with isError: true', async () => {
    const res = await call('test', 'fail', await newSession(base));
    expect(res.status).toBe(200);
    expect(res.body.isError).toBe(true);
  });

  it('carries a 5 MiB result whole', async () => {
    const bytes = 5 * 1024 * 1024;
    const res = await call('test', 'big', await newSession(base), { bytes, fill: 'z' });
    expect(res.status).toBe(200);
    const text: string = res.body.content[0].text;
    expect(text.length).toBe(bytes);
    expect(/^z+$/.test(text)).toBe(true);
  });

  // One million characters travel edge to host as four chunks. (Bigger inputs mostly measure
  // server-everything itself: it takes about a second for a 4 MB request even over plain stdio.)
  it('carries a request of a million characters whole', async () => {
    const message = 'é'.repeat(1024 * 1024);
    const res = await call('everything', 'echo', await newSession(base), { message });
    expect(res.status).toBe(200);
    expect(res.body.content[0].text).toBe(`Echo: ${message}`);
  });
});

// A million ASCII characters, escapes included, go edge to host and back as their own bytes.
describe('REST, large ASCII messages', () => {
  it('carries a million ASCII characters with escapes whole both ways', async () => {
    const unit = '"<a href=\\"x\\">\\\n\t\u0001';
    const message = unit.repeat(Math.ceil(1_000_000 / unit.length));
    const res = await call('everything', 'echo', await newSession(base), { message });
    expect(res.status).toBe(200);
    expect(res.body.content[0].text).toBe(`Echo: ${message}`);
  });
});

describe('REST errors', () => {
  const expectError = (res: { status: number; body: any }, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
  };

  it('400 for malformed JSON', async () => {
    expectError(await call('everything', 'echo', await newSession(base), '{"message": '), 400, 'MALFORMED_JSON');
  });

  it('400 for arguments that are not an object', async () => {
    expectError(await call('everything', 'echo', await newSession(base), '[1,2]'), 400, 'BAD_REQUEST');
  });

  it('422 with one entry per failing field when the arguments do not match the input schema', async () => {
    const res = await call('everything', 'get-sum', await newSession(base), { a: 'one' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_ARGUMENTS');
    expect(res.body.error.fields).toEqual(
      expect.arrayContaining([
        { path: '/a', message: expect.any(String) },
        { path: '', message: expect.stringContaining('b') },
      ]),
    );
  });

  it('404 for an unknown server, tool or session', async () => {
    const session = await newSession(base);
    expectError(await call('nope', 'echo', session, {}), 404, 'SERVER_NOT_FOUND');
    expectError(await call('everything', 'nope', session, {}), 404, 'TOOL_NOT_FOUND');
    expectError(await call('everything', 'echo', 'not-a-session', { message: 'x' }), 404, 'SESSION_NOT_FOUND');
  });

  it('502 when the server process dies during the call, and a fresh process on the next call', async () => {
    const session = await newSession(base);
    const before = await call('test', 'pid', session);
    expectError(await call('test', 'crash', session), 502, 'SERVER_EXITED');
    const after = await call('test', 'pid', session);
    expect(after.status).toBe(200);
    expect(after.body.content[0].text).not.toBe(before.body.content[0].text);
  });

  it('504 when the server does not answer within the deadline', async () => {
    const res = await call('test', 'sleep', await newSession(base), { ms: CALL_TIMEOUT_MS * 4 });
    expectError(res, 504, 'REQUEST_TIMEOUT');
  });

  it('the same 4xx for a large body (parsed by the Hub rather than the Worker) as for a small one', async () => {
    const session = await newSession(base);
    const big = 'x'.repeat(100_000);
    expectError(await call('everything', 'echo', session, `{"message": "${big}"`), 400, 'MALFORMED_JSON');
    expectError(await call('everything', 'echo', session, `["${big}"]`), 400, 'BAD_REQUEST');
    expectError(await call('everything', 'echo', session, `${'['.repeat(300)}"${big}"${']'.repeat(300)}`), 400, 'BAD_REQUEST');
    const invalid = await call('everything', 'get-sum', session, { a: big, b: 1 });
    expect([invalid.status, invalid.body.error.code]).toEqual([422, 'INVALID_ARGUMENTS']);
    // Written over several lines, it still reaches the server whole.
    const res = await call('everything', 'echo', session, JSON.stringify({ message: big }, null, 2));
    expect(res.body.content[0].text).toBe(`Echo: ${big}`);
  });

  it('413 for a body over the limit', async () => {
    const session = await newSession(base);
    const body = JSON.stringify({ message: 'x'.repeat(9 * 1024 * 1024) });
    expectError(await postExpectContinue(`${base}/api/everything/echo?sessionId=${session}`, body), 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('the host link', () => {
  it('refuses a client without the host token on /agent', async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/agent?host=intruder`, { headers: { authorization: 'Bearer wrong' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(401);
  });

  it('answers a bad frame with frame.error, refuses another major version, and keeps serving', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/agent?host=odd`, { headers: { authorization: `Bearer ${token}` } });
    const frames: any[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.on('open', resolve));
    ws.send('this is not json');
    await waitUntil(() => (frames.some((f) => f.type === 'frame.error' && f.code === 'BAD_FRAME') ? true : undefined), 5000, 'frame.error');
    ws.send(JSON.stringify({ type: 'host.hello', version: '2.0', hostId: 'odd', servers: [] }));
    expect(await closed).toBe(4002);
    expect(frames).toContainEqual(expect.objectContaining({ type: 'frame.error', code: 'PROTOCOL_MISMATCH', message: expect.stringMatching(/protocol 2\.0.*1\.\d+/) }));
    const res = await call('everything', 'echo', await newSession(base), { message: 'still here' });
    expect(res.status).toBe(200);
  });

  it('fails in-flight and new calls with 503 when the host is killed, then works again after a restart', async () => {
    const session = await newSession(base);
    expect((await call('test', 'pid', session)).status).toBe(200);
    const inFlight = Array.from({ length: 10 }, () => call('test', 'sleep', session, { ms: 60_000 }));
    // The calls are in the server's hands once the host has them; give the edge a moment to send them.
    await waitUntil(async () => (processesWithMarker(marker).length > 0 ? true : undefined), 5000, 'server processes');
    process.kill(host.pid, 'SIGKILL');
    const settled = await Promise.race([
      Promise.all(inFlight),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('in-flight calls still hanging 10 s after the host died')), 10_000)),
    ]);
    for (const res of settled) {
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('HOST_OFFLINE');
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    const offline = await call('test', 'pid', session);
    expect(offline.status).toBe(503);
    expect(offline.headers.get('retry-after')).toMatch(/^\d+$/);
    await host.kill('SIGKILL');

    host = await startHost(configFile, base, token, 'home', marker);
    const again = await call('test', 'pid', session);
    expect(again.status).toBe(200);
  });

  it('reconnects by itself when the edge restarts, and REST sessions survive in its storage', async () => {
    const session = await newSession(base);
    expect((await call('everything', 'echo', session, { message: 'before' })).status).toBe(200);
    const port = new URL(base).port;
    await edge.kill();
    const sameConfig = writeConfig(tempDir(), (await import('node:fs')).readFileSync(configFile, 'utf8').replace('port: 0', `port: ${port}`));
    ({ edge } = await startEdge(sameConfig, token, marker, ['--state', stateDir]));
    await waitUntil(async () => ((await health(base)).hosts.some((h) => h.id === 'home') ? true : undefined), 40_000, 'the host to reconnect');
    expect(edge.stdout).toMatch(/hub started/);
    // The Durable Object was gone with the old workerd; the session id lives on in its storage.
    const res = await call('everything', 'echo', session, { message: 'back' });
    expect(res.status).toBe(200);
    expect(res.body.content[0].text).toBe('Echo: back');
  });
});
