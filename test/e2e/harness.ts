/**
 * End-to-end harness: real gateway processes (edge on workerd, host agents) started the way a
 * user starts them, each in its own process group, tagged so that nothing they start can be
 * left behind unnoticed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'cli/main.ts');
export const EVERYTHING = path.join(ROOT, 'node_modules/.bin/mcp-server-everything');
export const TEST_SERVER = path.join(ROOT, 'test/fixtures/test-server.mjs');

/** The `servers:` entries most tests use: server-everything, and the misbehaving test server. */
export const STANDARD_SERVERS = `  everything:
    command: ${EVERYTHING}
    args: [stdio]
  test:
    command: ${process.execPath}
    args: [${TEST_SERVER}]
`;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process a test starts carries this variable; children inherit it. */
export const MARKER_VAR = 'MCP_GATEWAY_TEST_RUN';

export class GatewayProcess {
  readonly child: ChildProcess;
  readonly marker: string;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], marker: string, env: NodeJS.ProcessEnv = {}) {
    this.marker = marker;
    this.child = spawn(process.execPath, [MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, [MARKER_VAR]: marker, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for a line of output (stdout or stderr) matching `pattern`. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return waitUntil(async () => (this.stdout + this.stderr).match(pattern) ?? undefined, timeoutMs, `output matching ${pattern}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`, () => this.child.exitCode !== null);
  }

  /** Signals the whole process group and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      return;
    }
    const timer = setTimeout(() => killGroup(this.pid, 'SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone
  }
}

/** Polls `check` until it returns a value, or fails after `timeoutMs` with `what`. */
/** Runs one of the project's scripts (`node <script> …args`) to its end, tagged with `marker`: its exit code and its output, stdout and stderr together. */
export async function runScript(script: string, args: string[], marker: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, [MARKER_VAR]: marker, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out };
}

export async function waitUntil<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string, abort?: () => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 1.5, 250)) {
    const value = await check();
    if (value !== undefined) return value;
    if (abort?.()) throw new Error(`gave up waiting for ${what}: the process exited`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export function tempDir(prefix = 'mcp-gateway-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeConfig(dir: string, yaml: string, name = 'config.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/**
 * Pids of live processes carrying `marker` in their environment, and of their descendants (server
 * processes start with a clean environment, so they are found through their parents).
 */
export function processesWithMarker(marker: string): number[] {
  const needle = `${MARKER_VAR}=${marker}\0`;
  const marked = new Set<number>();
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const fields = /^\d+ \(.*\) (\S) (\d+)/.exec(stat);
      if (!fields || fields[1] === 'Z') continue;
      parents.set(Number(entry), Number(fields[2]));
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) marked.add(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  const isOurs = (pid: number, seen = new Set<number>()): boolean => {
    if (marked.has(pid)) return true;
    const parent = parents.get(pid);
    if (parent === undefined || parent <= 1 || seen.has(pid)) return false;
    seen.add(pid);
    return isOurs(parent, seen);
  };
  return [...parents.keys()].filter((pid) => isOurs(pid));
}

/** Kills whatever is left with `marker` and returns how many there were. */
export function killLeftovers(marker: string): number {
  const pids = processesWithMarker(marker);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return pids.length;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
}

export async function postJson(url: string, body: string | object): Promise<CallResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // left as text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export async function newSession(base: string): Promise<string> {
  const res = await fetch(`${base}/api/sessionid`);
  const body = (await res.json()) as { sessionId: string };
  return body.sessionId;
}

/** The hosts and servers the edge knows (from /status; /health shows only counts). */
export async function health(base: string, authorization?: string): Promise<{ hosts: { id: string; servers: string[] }[]; servers: { name: string; status: string }[] }> {
  const res = await fetch(`${base}/status`, { headers: authorization ? { authorization } : {} });
  if (!res.ok) throw new Error(`GET /status answered ${res.status}`);
  return (await res.json()) as { hosts: { id: string; servers: string[] }[]; servers: { name: string; status: string }[] };
}

/** Starts an edge alone and returns it with its base URL. */
export async function startEdge(configFile: string, token: string, marker: string, extraArgs: string[] = []): Promise<{ edge: GatewayProcess; base: string }> {
  const edge = new GatewayProcess(['edge', '--config', configFile, '--token', token, ...extraArgs], marker);
  const match = await edge.waitForOutput(/edge ready at (http:\/\/\S+)/);
  return { edge, base: match[1]! };
}

/** Starts a host agent and waits until the edge lists it. */
export async function startHost(configFile: string, base: string, token: string, hostId: string, marker: string, authorization?: string): Promise<GatewayProcess> {
  const host = new GatewayProcess(['host', '--config', configFile, '--edge', base, '--token', token, '--host-id', hostId], marker);
  try {
    await waitUntil(async () => ((await health(base, authorization)).hosts.some((h) => h.id === hostId) ? true : undefined), 30_000, `host ${hostId} at the edge`, () => host.child.exitCode !== null);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- host stderr:\n${host.stderr}`);
  }
  return host;
}

/**
 * A POST the way curl sends a large body: `Expect: 100-continue`, so a server that refuses the
 * body (413) answers before any of it is sent.
 */
export function postExpectContinue(url: string, body: string, extraHeaders: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', ...extraHeaders };
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('continue', () => req.end(body));
    req.on('error', reject);
  });
}
