/**
 * MCP client sessions on a `shared` server: every session talks to the one process of the server.
 * The host answers each session's `initialize` from the process's own handshake, and maps ids so
 * that every answer and every notification reaches only its own session:
 * - each client request goes to the process under a fresh id, its answer back under the client's;
 * - each progress token is replaced by one of the host's, and mapped back on the way out;
 * - `notifications/cancelled` follows the id mapping;
 * - list-changed notifications concern every session and go to each; other notifications (logs),
 *   which cannot be told apart per session, are dropped;
 * - requests from the server (sampling, elicitation, roots) cannot be attributed to one client:
 *   the process is told they are not available.
 */
import { GatewayError } from '../shared/errors.ts';
import { RpcError, type Instance, type JsonRpcMessage } from './instance.ts';

export interface SharedRelayOptions {
  /** The server's shared process, started if needed. */
  instance(): Promise<Instance>;
  send(session: string, message: JsonRpcMessage): void;
  end(session: string, reason: string): void;
}

/** A relayed request's time limit at the host; the edge's own deadline is shorter and cancels first. */
const REQUEST_LIMIT_MS = 60 * 60 * 1000;
const LIST_CHANGED = /^notifications\/(tools|resources|prompts)\/list_changed$/;

export class SharedRelay {
  readonly #opts: SharedRelayOptions;
  readonly #sessions = new Set<string>();
  /** "session\0client id" -> (the process's request id, the process it went to). */
  readonly #requests = new Map<string, { id: number; instance: Instance }>();
  /** The host's progress token -> the session and the client's token. */
  readonly #tokens = new Map<string, { session: string; token: unknown }>();
  #nextToken = 1;

  constructor(opts: SharedRelayOptions) {
    this.#opts = opts;
  }

  relay(session: string, message: JsonRpcMessage): void {
    if (message.method === 'initialize' && message.id !== undefined) {
      this.#sessions.add(session);
      this.#opts.instance().then(
        (instance) => this.#opts.send(session, { jsonrpc: '2.0', id: message.id, result: instance.initializeResult }),
        (err: Error) => this.#opts.send(session, { jsonrpc: '2.0', id: message.id, error: { code: -32603, message: err.message } }),
      );
      return;
    }
    if (!this.#sessions.has(session)) {
      this.#opts.end(session, 'this host runs no such session');
      return;
    }
    if (message.method === 'notifications/cancelled') {
      const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
      const running = this.#requests.get(`${session}\u0000${JSON.stringify(requestId)}`);
      running?.instance.cancel(running.id, 'cancelled by the client');
      return;
    }
    if (message.method !== undefined && message.id !== undefined && message.id !== null) void this.#request(session, message);
    // Client notifications (initialized, roots changed) and answers have nothing to do here.
  }

  async #request(session: string, message: JsonRpcMessage): Promise<void> {
    const id = message.id!;
    const key = `${session}\u0000${JSON.stringify(id)}`;
    const params = message.params && typeof message.params === 'object' ? { ...(message.params as Record<string, unknown>) } : message.params;
    let token: string | undefined;
    const meta = (params as { _meta?: Record<string, unknown> } | undefined)?._meta;
    if (meta?.progressToken !== undefined) {
      token = `shared-${this.#nextToken++}`;
      this.#tokens.set(token, { session, token: meta.progressToken });
      (params as Record<string, unknown>)._meta = { ...meta, progressToken: token };
    }
    try {
      const instance = await this.#opts.instance();
      const call = instance.request(message.method!, params, REQUEST_LIMIT_MS);
      this.#requests.set(key, { id: call.id, instance });
      const result = await call.done;
      this.#opts.send(session, { jsonrpc: '2.0', id, result });
    } catch (err) {
      const error =
        err instanceof RpcError
          ? { code: err.code, message: err.message, data: err.data }
          : { code: -32603, message: err instanceof GatewayError || err instanceof Error ? err.message : String(err) };
      this.#opts.send(session, { jsonrpc: '2.0', id, error });
    } finally {
      this.#requests.delete(key);
      if (token) this.#tokens.delete(token);
    }
  }

  /** A message of the shared process that is not an answer to one of the host's requests. */
  onServerMessage(message: JsonRpcMessage, instance: Instance): void {
    if (message.method === 'notifications/progress') {
      const params = message.params as { progressToken?: unknown } | undefined;
      const owner = this.#tokens.get(String(params?.progressToken));
      if (owner) this.#opts.send(owner.session, { ...message, params: { ...params, progressToken: owner.token } });
      return;
    }
    if (message.method && LIST_CHANGED.test(message.method)) {
      for (const session of this.#sessions) this.#opts.send(session, message);
      return;
    }
    if (message.method !== undefined && message.id !== undefined && message.id !== null) {
      instance.send({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: `${message.method} is not available: this server is shared by several clients` } });
    }
  }

  closeSession(session: string): void {
    this.#sessions.delete(session);
    for (const [key, running] of this.#requests) {
      if (key.startsWith(`${session}\u0000`)) running.instance.cancel(running.id, 'the session ended');
    }
  }

  /** The shared process ended: every session on it ends too (clients re-initialize). */
  onExit(reason: string): void {
    const sessions = [...this.#sessions];
    this.#sessions.clear();
    for (const session of sessions) this.#opts.end(session, reason);
  }

  closeAll(): void {
    this.#sessions.clear();
  }
}
