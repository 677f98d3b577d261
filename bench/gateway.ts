/** Starts the gateway (`node bin/mcp-gateway.js start`, as `npm start` does) in its own process group, and stops it with every child. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { descendants, outputTail } from './proc.ts';

export interface Gateway {
  pid: number;
  url: string;
  /** The last lines the gateway wrote to stdout and stderr, for error reports. */
  tail(): string;
  /** SIGTERM to the process group, then SIGKILL to whatever is left. Safe to call twice. */
  stop(): Promise<void>;
  /** Synchronous last resort (process 'exit' handler): SIGKILL everything we know of. */
  kill(): void;
}

export interface GatewayOptions {
  root: string;
  serverCommand: string;
  serverArgs: string[];
  env: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
  /** Node options for the gateway process itself (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** More top-level config.yaml lines (e.g. an `auth:` block). */
  configLines?: string[];
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-gateway-bench-'));
  const configFile = path.join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    [
      'hostname: 127.0.0.1',
      'port: 0',
      'debug: { level: warn }',
      // REST results are cut at 100,000 characters by default (GPT Actions); large echoes compare whole answers.
      'limits: { maxResultChars: 0 }',
      ...(opts.configLines ?? []),
      'servers:',
      '  everything:',
      `    command: ${JSON.stringify(opts.serverCommand)}`,
      `    args: ${JSON.stringify(opts.serverArgs)}`,
      '',
    ].join('\n'),
  );
  // As on any start after the first, Node's compile cache holds the stripped sources (see the README).
  spawnSync(process.execPath, [path.join(opts.root, 'bin/mcp-gateway.js'), '--version'], { cwd: opts.root, env: opts.env, stdio: 'ignore' });
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.join(opts.root, 'bin/mcp-gateway.js'), 'start', '--config', configFile], {
    cwd: opts.root,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  // stdout too: the listener drains it for the gateway's whole life, so it never blocks on a full pipe.
  const tail = outputTail([child.stdout, child.stderr]);
  const tree = processTree(pid, 5000);
  const kill = tree.kill;
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= tree.stop().then(() => rmSync(dir, { recursive: true, force: true })));

  try {
    const url = await waitForReady(child, opts.startTimeoutMs ?? 30_000, tail);
    return { pid, url, tail, stop, kill };
  } catch (err) {
    await stop();
    throw err;
  }
}

function waitForReady(child: ChildProcess, timeoutMs: number, tail: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => done(new Error(`gateway not ready after ${timeoutMs} ms\n${tail()}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const match = /MCP gateway ready at (http:\/\/\S+)/.exec(buffered);
      if (match) done(undefined, match[1]);
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`gateway exited before it was ready (code ${code}, signal ${signal})\n${tail()}`));
    const done = (err?: Error, url?: string) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(url!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * A process and every pid seen under it: servers run in process groups of their own, so killing
 * the root's group alone would not reach them if the root could not stop them itself. `stop`
 * asks the root's group to end (SIGTERM), waits up to `graceMs`, then kills whatever is left.
 */
export function processTree(pid: number, graceMs: number): { kill(): void; stop(): Promise<void> } {
  const known = new Set<number>([pid]);
  const remember = () => { for (const p of descendants(pid)) known.add(p.pid); };
  const kill = () => {
    remember();
    for (const p of known) {
      try { process.kill(-p, 'SIGKILL'); } catch { /* not a group leader, or gone */ }
      try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    remember();
    try { process.kill(-pid, 'SIGTERM'); } catch { /* already gone */ }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...known].some(alive)) await sleep(25);
    if ([...known].some(alive)) kill();
  })());
  return { kill, stop };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** GET a JSON document. */
export function getJson(agent: http.Agent, url: string, headers: http.OutgoingHttpHeaders = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
        else {
          try { resolve(JSON.parse(body)); } catch (err) { reject(err as Error); }
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

/**
 * One REST echo call through the gateway. Resolves when the answer is exactly the expected echo;
 * rejects with a short reason otherwise.
 */
export function restEcho(agent: http.Agent, url: URL, message: string, timeoutMs: number, headers: http.OutgoingHttpHeaders = {}): Promise<void> {
  const body = JSON.stringify({ message });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 160)}`));
          let parsed: { content?: { type?: string; text?: string }[]; isError?: boolean } | null;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new Error(`HTTP 200 with a body that is not JSON: ${text.slice(0, 160)}`));
          }
          const got = parsed?.content?.[0]?.text;
          if (parsed?.isError !== false || got !== `Echo: ${message}`) return reject(new Error(`wrong answer: ${text.slice(0, 160)}`));
          resolve();
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
