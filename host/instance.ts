/**
 * One STDIO MCP server process: spawned in its own process group, initialized by us, and spoken
 * to in newline-delimited JSON-RPC. Lines are capped; non-JSON lines are dropped and logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ServerConfig } from '../shared/config.ts';
import { MCP_PROTOCOL_VERSIONS } from '../shared/constants.ts';
import { GatewayError } from '../shared/errors.ts';
import { PendingRequests } from '../shared/pending.ts';
import { childEnv } from './child-env.ts';
import { memberSpan, RAW_MIN_CHARS } from '../shared/json-spans.ts';
import { messageBytes, messageText, rememberText } from './raw-json.ts';
import type { Logger } from './logger.ts';
import { startCause, StartError, type ProcessEnd } from './start-failure.ts';
import { corkForTurn } from './turn-writes.ts';
import { DEFAULT_MAX_LINE_BYTES, StdoutLines } from './stdout-lines.ts';

export interface InstanceOptions {
  server: string;
  session: string;
  config: Pick<ServerConfig, 'command' | 'args' | 'env' | 'path'>;
  /** Folder that relative `command` and `path` are resolved against. */
  baseDir: string;
  logger: Logger;
  /** Names of the host's environment variables passed on, besides the default allow-list (`host.inheritEnv`). */
  inheritEnv?: readonly string[];
  /** Longest stdout line accepted from the server, in bytes. */
  maxLineBytes?: number;
  initializeTimeoutMs?: number;
  /** The `initialize` params the host sends (default: no client capabilities, the gateway's name). */
  initializeParams?: Record<string, unknown>;
  /** Messages from the server that are not responses to our requests. */
  onMessage?: (message: JsonRpcMessage) => void;
  raw?: boolean;
  onExit?: (reason: string, instance: Instance) => void;
}

export interface JsonRpcMessage {
  [key: string]: unknown;
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** A JSON-RPC error the server answered with. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** The newest MCP revision, offered in the host's own `initialize` (not read from the MCP SDK, which the agent does not load). */
const LATEST_PROTOCOL_VERSION = MCP_PROTOCOL_VERSIONS[MCP_PROTOCOL_VERSIONS.length - 1]!;

/** util-linux's setpriv, to give server processes a parent-death signal. */
const PDEATHSIG = process.platform === 'linux' && existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : undefined;

/** Process groups of servers still running; killed on the way out, however the host exits. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});
const STDERR_TAIL_LINES = 20;
/** After an exit, how long its last stderr lines may take to arrive before the exit is reported without them. */
const STDERR_DRAIN_MS = 250;
const KILL_GRACE_MS = 2000;

export class Instance {
  readonly server: string;
  /** The session it serves; a pooled process gets one when it is taken from the pool. */
  session: string;
  /** Started for an MCP client session: messages are relayed, not made by the host. */
  readonly raw: boolean;
  readonly startedAt = Date.now();
  /** What the server answered to the host's own `initialize` (not set in raw mode). */
  initializeResult: unknown;
  readonly child: ChildProcess;
  readonly #opts: InstanceOptions;
  readonly #log: Logger;
  /** Our own requests to the server, waiting for its answer; `asked`: what the server asked the client for meanwhile. */
  /** One timer for all their deadlines (a REST call then sets and clears none of its own). */
  readonly #waiters = new PendingRequests<number, unknown, { asked?: string }>({ oneTimer: true, unrefTimer: true });
  readonly #stderrTail: string[] = [];
  /** Ids of relayed client requests the server has not answered yet. */
  readonly #relayed = new Set<string | number>();
  #nextId = 1;
  readonly #stdout: StdoutLines;
  #exitReason: string | undefined;
  #end: ProcessEnd | undefined;
  lastActive = Date.now();

  private constructor(opts: InstanceOptions) {
    this.#opts = opts;
    this.server = opts.server;
    this.session = opts.session;
    this.raw = opts.raw ?? false;
    this.#log = opts.logger.child(`${opts.server}/${opts.session.slice(0, 8)}`);
    const { command, args, env, path: workDir } = opts.config;
    const resolvedCommand = command.includes('/') ? path.resolve(opts.baseDir, command) : command;
    // On Linux, the kernel kills the server if this host agent dies without stopping it (SIGKILL, a crash).
    const [program, argv] = PDEATHSIG ? [PDEATHSIG, ['--pdeathsig', 'KILL', '--', resolvedCommand, ...args]] : [resolvedCommand, args];
    this.child = spawn(program, argv, {
      cwd: workDir ? path.resolve(opts.baseDir, workDir) : opts.baseDir,
      env: childEnv(env, opts.inheritEnv),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group, so stop() reaches everything it starts
    });
    // Bytes, not text: a large line's own bytes can then go on to the edge (raw-json.ts).
    this.#stdout = new StdoutLines(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, (bytes, from, to) => this.#onLine(bytes, from, to), (what, fields) => this.#log.warn(what, fields));
    this.child.stdout!.on('data', (data: Buffer) => {
      this.lastActive = Date.now();
      this.#stdout.push(data);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (data: string) => this.#onStderr(data));
    this.child.stdin!.on('error', () => {}); // EPIPE after an exit is reported through 'exit'
    if (this.child.pid !== undefined) liveGroups.add(this.child.pid);
    this.child.on('error', (err: NodeJS.ErrnoException) => this.#ended(`could not start ${command}: ${err.message}`, { spawnFailed: true, errno: err.code }));
    this.child.on('exit', (code, signal) => this.#afterStderr(() => this.#ended(signal ? `killed by ${signal}` : `exited with code ${code}`, { spawnFailed: false, exitCode: code, signal })));
  }

  /**
   * Spawns the server for an MCP client session: no handshake of our own, the client's
   * messages (its `initialize` first) are relayed with `send`, and every message of the
   * server's goes to `onMessage`.
   */
  static spawnRaw(opts: InstanceOptions): Instance {
    return new Instance({ ...opts, raw: true });
  }

  /** Spawns the server and completes the MCP initialize handshake. */
  static async start(opts: InstanceOptions): Promise<Instance> {
    const instance = new Instance(opts);
    await instance.initialize(opts.initializeParams);
    return instance;
  }

  /** Spawns the server without the handshake: `initialize` it when its client is known (a spare). */
  static spawnUninitialized(opts: InstanceOptions): Instance {
    return new Instance(opts);
  }

  /** The MCP initialize handshake, with the given params (default: no client capabilities). */
  async initialize(params?: Record<string, unknown>): Promise<void> {
    const opts = this.#opts;
    try {
      this.initializeResult = await this.request(
        'initialize',
        params ?? { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-gateway', version: '0.1.0' } },
        opts.initializeTimeoutMs ?? 30_000,
      ).done;
      this.notify('notifications/initialized');
    } catch (err) {
      this.stop();
      const detail = err instanceof Error ? err.message : String(err);
      const stderr = this.#stderrSummary();
      throw new StartError(startCause(this.#end), `server ${opts.server} failed to start: ${detail}${detail.includes(stderr) ? '' : stderr}`);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Requests still waiting for the server's answer: ours and the relayed client's. */
  get inFlight(): number {
    return this.#waiters.size + this.#relayed.size;
  }

  /** Relays a client's message to the server (raw mode). */
  send(message: JsonRpcMessage): void {
    if (message.method !== undefined && message.id !== undefined && message.id !== null) this.#relayed.add(message.id);
    this.lastActive = Date.now();
    this.#write(message);
  }

  get exited(): boolean {
    return this.#exitReason !== undefined;
  }

  /**
   * Sends a request; resolves with its result, rejects with RpcError or GatewayError. Past
   * `timeoutMs` the server is told the request is cancelled.
   */
  request(method: string, params: unknown, timeoutMs: number): { id: number; done: Promise<unknown> } {
    const id = this.#nextId++;
    this.lastActive = Date.now();
    if (this.#exitReason) return { id, done: Promise.reject(this.#exitError()) };
    const done = this.#waiters.wait(id, {
      meta: {},
      timeoutMs,
      onTimeout: () => {
        this.notify('notifications/cancelled', { requestId: id, reason: 'timed out' });
        return new GatewayError('REQUEST_TIMEOUT', `server ${this.server} did not answer ${method} within ${timeoutMs} ms`);
      },
    });
    this.#write({ jsonrpc: '2.0', id, method, params });
    return { id, done };
  }

  notify(method: string, params?: unknown): void {
    this.#write(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  }

  /** Gives up on a request: the server is told, and its answer will be ignored. */
  cancel(id: number, reason: string): void {
    const waiter = this.#waiters.meta(id);
    if (!waiter) return;
    this.notify('notifications/cancelled', { requestId: id, reason });
    this.#waiters.reject(id, waiter.asked === undefined ? new GatewayError('REQUEST_TIMEOUT', `call cancelled: ${reason}`) : this.#inputRequired(waiter.asked));
  }

  /** Ends the process group: SIGTERM, then SIGKILL if it lingers. */
  stop(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    timer.unref();
    this.child.once('exit', () => {
      clearTimeout(timer);
      killGroup(pid, 'SIGKILL'); // anything it started and left behind
    });
  }

  #write(message: JsonRpcMessage): void {
    if (this.#exitReason || !this.child.stdin?.writable) return;
    if (this.#log.enabled('verbose')) this.#log.verbose('to server', { method: message.method, id: message.id });
    corkForTurn(this.child.stdin);
    // A large message and its newline go as pieces of the turn's one write: joined, the MiB
    // would be copied into a new string first (and encoded by a slower path). Bytes that came
    // from the edge as they are go as they are.
    const pieces = messageBytes(message);
    if (pieces !== undefined) {
      for (const piece of pieces) this.child.stdin.write(piece);
      this.child.stdin.write('\n');
      return;
    }
    const text = messageText(message);
    if (text.length < RAW_MIN_CHARS) this.child.stdin.write(text + '\n');
    else {
      this.child.stdin.write(text);
      this.child.stdin.write('\n');
    }
  }

  /** A line of stdout: `bytes` from `from` to `to` (decoded here, with no Buffer made for a small one). */
  #onLine(bytes: Buffer, from: number, to: number): void {
    const line = bytes.toString('utf8', from, to);
    const trimmed = line.trim();
    if (!trimmed) return;
    let message: JsonRpcMessage;
    try {
      message = JSON.parse(trimmed) as JsonRpcMessage;
    } catch {
      this.#log.debug('ignored a non-JSON line on stdout', { line: trimmed.slice(0, 200) });
      return;
    }
    if (!message || typeof message !== 'object') return;
    const large = trimmed.length >= RAW_MIN_CHARS;
    // A large line of plain ASCII (as many bytes as characters) goes on as its own bytes: a
    // character's index in it is its byte's.
    const lead = large && to - from === line.length ? from + line.length - line.trimStart().length : -1;
    const isResponse = message.method === undefined && (message.result !== undefined || message.error !== undefined);
    if (!this.raw && !this.#opts.onMessage && typeof message.method === 'string' && message.id !== undefined && message.id !== null) {
      this.#refuseServerRequest(message);
      return;
    }
    if (isResponse && message.id !== undefined && message.id !== null && this.#relayed.delete(message.id)) {
      if (large) rememberText(message, trimmed, asciiPart(bytes, lead, 0, trimmed.length));
      this.#opts.onMessage?.(message);
      return;
    }
    const waiter = isResponse && typeof message.id === 'number' ? this.#waiters.meta(message.id) : undefined;
    if (waiter) {
      const id = message.id as number;
      // A server that asked for input a REST call cannot give answered whatever it made of the refusal.
      if (waiter.asked !== undefined) this.#waiters.reject(id, this.#inputRequired(waiter.asked));
      else if (message.error) this.#waiters.reject(id, new RpcError(message.error.code, message.error.message, message.error.data));
      else {
        const span = large ? memberSpan(trimmed, 'result') : undefined;
        if (span !== undefined) rememberText(message.result, trimmed.slice(span[0], span[1]), asciiPart(bytes, lead, span[0], span[1]));
        this.#waiters.resolve(id, message.result);
      }
      return;
    }
    if (large) rememberText(message, trimmed, asciiPart(bytes, lead, 0, trimmed.length));
    this.#opts.onMessage?.(message);
  }

  /**
   * A server request (elicitation, sampling, roots…) to a process whose client is the host itself
   * (REST calls): nobody can answer it. The server gets "method not found" at once, so nothing
   * hangs, and the call in flight, if it is the only one, fails as INPUT_REQUIRED (409) instead of
   * returning whatever the server made of the refusal.
   */
  #refuseServerRequest(message: JsonRpcMessage): void {
    this.#write({ jsonrpc: '2.0', id: message.id!, error: { code: -32601, message: `Method not found: the gateway's REST client cannot answer ${message.method}` } });
    if (this.#waiters.size !== 1) return;
    const [[, waiter]] = this.#waiters.entries() as [[number, { asked?: string }]];
    const text = (message.params as { message?: unknown } | undefined)?.message;
    waiter.asked = `${message.method}${typeof text === 'string' ? ` ("${text.slice(0, 200)}")` : ''}`;
  }

  #inputRequired(asked: string): GatewayError {
    return new GatewayError(
      'INPUT_REQUIRED',
      `server ${this.server} asked the client for input during the call (${asked}), which a REST call cannot answer: call the tool over MCP at /${this.server}/mcp, where the MCP client is asked`,
    );
  }

  #onStderr(data: string): void {
    for (const line of data.split('\n')) {
      if (!line.trim()) continue;
      this.#stderrTail.push(line.slice(0, 500));
      if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
      this.#log.debug(line.slice(0, 2000));
    }
  }

  #stderrSummary(): string {
    const last = this.#stderrTail.slice(-3).join(' | ');
    return last ? ` (stderr: ${last})` : '';
  }

  #exitError(): GatewayError {
    const code = this.#end?.spawnFailed ? 'SPAWN_FAILED' : 'SERVER_EXITED';
    return new GatewayError(code, `server ${this.server} ${this.#exitReason}${this.#stderrSummary()}`);
  }

  /**
   * Runs `report` once the exited process's stderr is read to its end (its last lines say why it
   * exited), or after STDERR_DRAIN_MS if something it started still holds the pipe open.
   */
  #afterStderr(report: () => void): void {
    const stderr = this.child.stderr;
    if (!stderr || stderr.readableEnded || stderr.destroyed) return report();
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const done = () => {
      clearTimeout(timer);
      stderr.off('end', done);
      stderr.off('close', done);
      report();
    };
    timer = setTimeout(done, STDERR_DRAIN_MS);
    stderr.once('end', done);
    stderr.once('close', done);
  }

  #ended(reason: string, end: ProcessEnd): void {
    if (this.#exitReason) return;
    if (this.child.pid !== undefined) liveGroups.delete(this.child.pid);
    this.#exitReason = reason;
    this.#end = end;
    const error = this.#exitError();
    this.#waiters.rejectAll((waiter) => (waiter.asked === undefined ? error : this.#inputRequired(waiter.asked)));
    this.#relayed.clear();
    this.#opts.onExit?.(reason, this);
  }
}

/** Bytes `start` to `end` of the trimmed line, which begins at byte `lead` of `bytes` (-1: not plain ASCII, no bytes). */
function asciiPart(bytes: Buffer, lead: number, start: number, end: number): Buffer | undefined {
  return lead === -1 ? undefined : bytes.subarray(lead + start, lead + end);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}
