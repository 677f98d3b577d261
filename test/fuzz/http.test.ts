/**
 * Hostile HTTP, generated: fast-check draws requests to every route of the real edge (random
 * and mutated methods, paths, headers, bodies; see requests.ts) while a client keeps making
 * ordinary calls. No answer may be a 5xx other than the documented upstream ones (502, 503,
 * 504 with their codes), every request must be answered, the edge must log no unhandled error,
 * and the ordinary calls must all succeed.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING, GatewayProcess, isAlive, killLeftovers, newSession, postJson, startEdge, startHost, tempDir, writeConfig } from '../e2e/harness.ts';
import { HTTP_REGRESSIONS } from './regressions.ts';
import { requestFor, type FuzzRequest, type KnownIds } from './requests.ts';

const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
const processes: GatewayProcess[] = [];
let edge: GatewayProcess;
let base: string;
let ids: KnownIds;

/** 5xx answers the README documents: a server or host problem upstream, each with its code. */
const DOCUMENTED_5XX: Record<number, string[]> = { 502: ['SERVER_EXITED', 'SPAWN_FAILED', 'UPSTREAM_ERROR'], 503: ['HOST_OFFLINE'], 504: ['REQUEST_TIMEOUT'] };

const STANDARD_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

beforeAll(async () => {
  const edgeConfig = writeConfig(tempDir(), 'hostname: 127.0.0.1\nport: 0\nservers: {}\nlimits:\n  callTimeoutMs: 3000\n');
  ({ edge, base } = await startEdge(edgeConfig, token, marker));
  processes.push(edge);
  const hostConfig = writeConfig(tempDir(), `servers:\n  everything:\n    command: ${EVERYTHING}\n    args: [stdio]\n    instances: shared\n`);
  processes.push(await startHost(hostConfig, base, token, 'fuzz-host', marker));
  const init = await fetch(`${base}/everything/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } }),
  });
  await init.text();
  ids = { restSession: await newSession(base), mcpSession: init.headers.get('mcp-session-id') ?? 'none' };
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  expect(killLeftovers(marker)).toBe(0);
});

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** Sends a request as bytes on the wire; resolves when its head (and, unless a stream, its body) is in. */
export function send(url: string, req: FuzzRequest, timeoutMs = 20_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['content-length'] = String(req.body.byteLength);
    const { hostname, port } = new URL(url);
    const request = http.request({ host: hostname, port, path: req.path, method: req.method, headers });
    const timer = setTimeout(() => {
      request.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    request.on('upgrade', (res, socket) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, contentType: '', body: '' });
    });
    request.on('response', (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      if (contentType.includes('text/event-stream')) {
        clearTimeout(timer);
        res.destroy();
        resolve({ status: res.statusCode ?? 0, contentType, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, contentType, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    request.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A server may answer a large body it refuses and close without reading it (RFC 9112
      // section 9.6): the client then fails writing. That is a refusal, not a crash.
      if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && (req.body?.byteLength ?? 0) >= 64 * 1024) {
        resolve({ status: 0, contentType: '', body: 'closed while the body was sent' });
      } else reject(err);
    });
    request.end(req.body ? Buffer.from(req.body) : undefined);
  });
}

/** The gateway error code in a REST (`error.code`) or JSON-RPC (`error.data.code`) error body. */
function codeOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; data?: { code?: unknown } } };
    const code = typeof parsed.error?.code === 'string' ? parsed.error.code : parsed.error?.data?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

export function describeRequest(req: FuzzRequest): string {
  const body = req.body ? `${req.body.byteLength} bytes: ${JSON.stringify(Buffer.from(req.body.slice(0, 200)).toString('latin1'))}` : 'no body';
  return `${req.method} ${req.path.slice(0, 300)} ${JSON.stringify(req.headers).slice(0, 400)} ${body}`;
}

describe('hostile HTTP requests to the real edge', () => {
  it('never answer with an undocumented 5xx, always answer, and leave other calls unharmed', { timeout: 240_000 }, async () => {
    let running = true;
    const sentinel = { ok: 0, failed: [] as string[] };
    const session = await newSession(base);
    const ordinary = (async () => {
      for (let i = 0; running; i++) {
        const res = await postJson(`${base}/api/everything/echo?sessionId=${session}`, { message: `ordinary ${i}` }).catch((err: Error) => ({ status: 0, body: err.message }));
        if (res.status === 200 && (res.body as any).content?.[0]?.text === `Echo: ordinary ${i}`) sentinel.ok++;
        else sentinel.failed.push(`${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      }
    })();

    try {
      await fc.assert(
        fc.asyncProperty(requestFor(ids), async (req) => {
          const answer = await send(base, req);
          const allowed = DOCUMENTED_5XX[answer.status];
          // A method HTTP does not define gets 501 from the runtime, as RFC 9110 section 9.1 has it.
          if (answer.status === 501 && !STANDARD_METHODS.includes(req.method)) return;
          if (answer.status >= 500) {
            // A HEAD answer has no body to name its error: the same request as GET names it.
            const body = req.method === 'HEAD' ? (await send(base, { ...req, method: 'GET' })).body : answer.body;
            const code = codeOf(body);
            if (!allowed || !code || !allowed.includes(code)) throw new Error(`answered ${answer.status} ${body.slice(0, 300)}\nto ${describeRequest(req)}`);
          }
        }),
        { numRuns: Number(process.env.FUZZ_RUNS) || 300, examples: HTTP_REGRESSIONS.map((r) => [r]), ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
      );
    } finally {
      running = false;
      await ordinary;
    }
    expect(isAlive(edge.pid)).toBe(true);
    expect(edge.stdout + edge.stderr).not.toMatch(/unhandled error|hub request failed|uncaught/i);
    expect(sentinel.failed).toEqual([]);
    expect(sentinel.ok).toBeGreaterThan(0);
  });
});
