/**
 * The floor: the same MCP server spawned directly and spoken to over stdio in newline-delimited
 * JSON-RPC, with our own initialize handshake and numeric ids. Lines without an id (the server's
 * notifications) and requests from the server are ignored.
 */
import { spawn, type ChildProcess } from 'node:child_process';

interface Waiter {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class DirectServer {
  readonly child: ChildProcess;
  readonly #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #buffer = '';
  #exited: string | undefined;
  #stderr: string[] = [];

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.#onData(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.#stderr.push(chunk);
      if (this.#stderr.length > 20) this.#stderr.shift();
    });
    this.child.stdin!.on('error', () => {});
    this.child.on('exit', (code, signal) => {
      this.#exited = `server exited (code ${code}, signal ${signal}): ${this.#stderr.join('').slice(-500)}`;
      for (const [id, w] of this.#waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(this.#exited));
        this.#waiters.delete(id);
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  async initialize(): Promise<void> {
    await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'mcp-gateway-bench', version: '0.1.0' },
    }, 30_000);
    this.#send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** tools/call echo; resolves when the answer is exactly the expected echo. */
  async echo(message: string, timeoutMs: number): Promise<void> {
    const result = (await this.request('tools/call', { name: 'echo', arguments: { message } }, timeoutMs)) as {
      content?: { text?: string }[];
      isError?: boolean;
    };
    if (result?.isError || result?.content?.[0]?.text !== `Echo: ${message}`) {
      throw new Error(`wrong answer: ${JSON.stringify(result).slice(0, 160)}`);
    }
  }

  request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.#exited) return Promise.reject(new Error(this.#exited));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(id, { resolve, reject, timer });
      this.#send({ jsonrpc: '2.0', id, method, params });
    });
  }

  close(): void {
    try { process.kill(-this.pid, 'SIGKILL'); } catch { /* gone */ }
  }

  #send(message: unknown): void {
    this.child.stdin!.write(JSON.stringify(message) + '\n');
  }

  #onData(chunk: string): void {
    const parts = (this.#buffer + chunk).split('\n');
    this.#buffer = parts.pop()!;
    for (const part of parts) {
      const line = part.trim();
      if (!line) continue;
      let msg: { id?: unknown; method?: string; result?: unknown; error?: { message?: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      // Notifications (no id) and server-to-client requests (a method) are not answers.
      if (typeof msg.id !== 'number' || msg.method !== undefined) continue;
      const waiter = this.#waiters.get(msg.id);
      if (!waiter) continue;
      this.#waiters.delete(msg.id);
      clearTimeout(waiter.timer);
      if (msg.error) waiter.reject(new Error(`JSON-RPC error: ${msg.error.message}`));
      else waiter.resolve(msg.result);
    }
  }
}
