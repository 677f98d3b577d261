/**
 * Hostile frames, generated. A rogue host (a WebSocket client with a real host token, limited
 * to its own server) sends the real edge random and mutated frames; a rogue edge (a WebSocket
 * server) sends a real host agent the same. Neither process may fail: no unhandled error, no
 * crash, and ordinary calls through the real parts keep being answered correctly.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING, GatewayProcess, isAlive, killLeftovers, newSession, postJson, startEdge, startHost, tempDir, waitUntil, writeConfig } from '../e2e/harness.ts';
import { rogueMessages, type RogueMessage } from './frames.ts';

const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
const rogueToken = `rogue-token-${randomUUID()}`;
const processes: GatewayProcess[] = [];
const RUNS = Number(process.env.FUZZ_RUNS) || 150;
const seed = process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {};
const FAILURE_LOGS = /unhandled error|hub request failed|uncaught|call failed unexpectedly/i;
const everythingConfig = () => writeConfig(tempDir(), `servers:\n  everything:\n    command: ${EVERYTHING}\n    args: [stdio]\n    instances: shared\n`);

afterAll(async () => {
  for (const p of processes) await p.kill();
  expect(killLeftovers(marker)).toBe(0);
});

/** Sends `ping` and waits for `pong` (or the close, or 5 s). */
function pingRoundTrip(ws: WebSocket): Promise<void> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', done);
      resolve();
    };
    const onMessage = (d: WebSocket.RawData) => d.toString() === 'pong' && done();
    const timer = setTimeout(done, 5000);
    ws.on('message', onMessage);
    ws.on('close', done);
    ws.send('ping');
  });
}

const send = (ws: WebSocket, m: RogueMessage) => {
  if (ws.readyState === WebSocket.OPEN) ws.send(m, { binary: typeof m !== 'string' });
};

describe('a rogue host sending hostile frames to the real edge', () => {
  let edge: GatewayProcess;
  let base: string;
  let rogue: WebSocket | undefined;

  beforeAll(async () => {
    const config = writeConfig(tempDir(), `hostname: 127.0.0.1\nport: 0\nservers: {}\nhostTokens:\n  - token: ${rogueToken}\n    servers: [rogue]\n`);
    ({ edge, base } = await startEdge(config, token, marker));
    processes.push(edge);
    processes.push(await startHost(everythingConfig(), base, token, 'real-host', marker));
  });

  /** The rogue's connection, (re)opened and welcomed: the edge closes it for some frames. */
  async function connected(): Promise<WebSocket> {
    if (rogue?.readyState === WebSocket.OPEN) return rogue;
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/agent?host=rogue`, { headers: { authorization: `Bearer ${rogueToken}` }, perMessageDeflate: false });
    ws.on('error', () => {});
    ws.on('message', (data) => {
      if (data.toString() === 'ping') ws.send('pong');
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const welcomed = new Promise<void>((resolve) => ws.on('message', (d) => d.toString().includes('host.welcome') && resolve()));
    ws.send(JSON.stringify({ type: 'host.hello', version: '1.0', hostId: 'rogue', servers: [{ name: 'rogue', tools: [{ name: 't', inputSchema: { type: 'object' } }] }] }));
    await welcomed;
    return (rogue = ws);
  }

  it('answers or refuses every frame, and keeps serving the real host', { timeout: 240_000 }, async () => {
    let running = true;
    const failed: string[] = [];
    let ok = 0;
    const session = await newSession(base);
    const ordinary = (async () => {
      for (let i = 0; running; i++) {
        const res = await postJson(`${base}/api/everything/echo?sessionId=${session}`, { message: `ordinary ${i}` }).catch((err: Error) => ({ status: 0, body: err.message }));
        if (res.status === 200 && (res.body as any).content?.[0]?.text === `Echo: ordinary ${i}`) ok++;
        else failed.push(`${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      }
    })();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(rogueMessages, { minLength: 1, maxLength: 12 }), async (batches) => {
          const ws = await connected();
          for (const message of batches.flat()) send(ws, message);
          // A ping round trip: everything sent before it has been taken by the edge.
          await pingRoundTrip(ws);
          const health = await fetch(`${base}/health`);
          if (health.status !== 200) throw new Error(`/health answered ${health.status}`);
          if (FAILURE_LOGS.test(edge.stderr)) throw new Error(`the edge logged a failure:\n${edge.stderr.slice(-2000)}`);
        }),
        { numRuns: RUNS, ...seed },
      );
    } finally {
      running = false;
      await ordinary;
      rogue?.terminate();
    }
    expect(isAlive(edge.pid)).toBe(true);
    // Its logs are read (and the decoder was reached): bad frames were reported, nothing failed.
    expect(edge.stderr).toMatch(/bad frame from host/);
    expect(edge.stdout + edge.stderr).not.toMatch(FAILURE_LOGS);
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(0);
  });
});

describe('a rogue edge sending hostile frames to a real host agent', () => {
  let host: GatewayProcess;
  let wss: WebSocketServer;
  let link: WebSocket | undefined;
  const answers = new Map<string, (frame: any) => void>();

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? '' : data.toString();
        if (text === 'ping') return ws.send('pong');
        let frame: any;
        try {
          frame = JSON.parse(text);
        } catch {
          return;
        }
        if (frame.type === 'host.hello') {
          ws.send(JSON.stringify({ type: 'host.welcome', version: '1.0' }));
          link = ws;
        }
        if (frame.type === 'rpc.response') answers.get(frame.id)?.(frame);
      });
    });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const port = (wss.address() as AddressInfo).port;
    host = new GatewayProcess(['host', '--config', everythingConfig(), '--edge', `http://127.0.0.1:${port}`, '--token', 'any', '--host-id', 'target', '--retry'], marker);
    processes.push(host);
    await waitUntil(() => (link ? true : undefined), 30_000, 'the host agent to connect', () => host.child.exitCode !== null);
  });

  afterAll(async () => {
    await host?.kill();
    for (const client of wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => wss?.close(() => resolve()));
  });

  let calls = 0;
  /** A valid call through the rogue edge: the host must still answer it, correctly. */
  async function ordinaryCall(): Promise<void> {
    const ws = await waitUntil(() => (link?.readyState === WebSocket.OPEN ? link : undefined), 15_000, 'the host agent connected');
    const id = `ok.${++calls}`;
    const answer = new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no rpc.response to ${id} within 15 s`)), 15_000);
      answers.set(id, (frame) => (clearTimeout(timer), resolve(frame)));
    });
    ws.send(JSON.stringify({ type: 'rpc.request', id, server: 'everything', session: 'ordinary', method: 'tools/call', params: { name: 'echo', arguments: { message: id } }, timeoutMs: 10_000 }));
    const frame = await answer;
    answers.delete(id);
    if (frame.result?.content?.[0]?.text !== `Echo: ${id}`) throw new Error(`wrong answer to ${id}: ${JSON.stringify(frame).slice(0, 300)}`);
  }

  it('answers or refuses every frame, and keeps answering ordinary calls', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rogueMessages, { minLength: 1, maxLength: 12 }), async (batches) => {
        const ws = await waitUntil(() => (link?.readyState === WebSocket.OPEN ? link : undefined), 15_000, 'the host agent connected');
        for (const message of batches.flat()) send(ws, message);
        await ordinaryCall();
        if (!isAlive(host.pid)) throw new Error(`the host agent exited:\n${host.stderr.slice(-2000)}`);
        if (FAILURE_LOGS.test(host.stderr)) throw new Error(`the host agent logged a failure:\n${host.stderr.slice(-2000)}`);
      }),
      { numRuns: RUNS, ...seed },
    );
    expect(isAlive(host.pid)).toBe(true);
    expect(host.stderr).toMatch(/bad frame from the edge/);
    expect(host.stderr).not.toMatch(FAILURE_LOGS);
  });
});
