/**
 * MCP 2026-07-28 requests for servers that speak it themselves (built on the v2 server SDK):
 * relayed unchanged, `_meta` envelope, `requestState` and `inputResponses` included, to one
 * process per server opened with a 2026-07-28 request (such servers are stateless: every request
 * carries what it needs). Progress for a request's token goes to that request's stream.
 */
import { GatewayError } from '../shared/errors.ts';
import type { Frame, FrameOf } from '../shared/protocol.ts';
import { RpcError, type Instance, type JsonRpcMessage } from './instance.ts';
import type { ServerSet } from './servers.ts';

export interface RelayOptions {
  servers: ServerSet;
  send(frame: Frame): void;
  filter(server: string, method: string, result: unknown): unknown;
}

interface Relayed {
  edgeId: string;
  progressToken?: unknown;
}

export class ModernRelay {
  readonly #opts: RelayOptions;
  readonly #processes = new Map<string, Instance>();
  /** Requests in flight per server, for their progress notifications. */
  readonly #inFlight = new Map<string, Set<Relayed>>();

  constructor(opts: RelayOptions) {
    this.#opts = opts;
  }

  async call(frame: FrameOf<'modern.call'>): Promise<void> {
    const { id, server, method, params } = frame;
    const relayed: Relayed = { edgeId: id, progressToken: (params._meta as { progressToken?: unknown } | undefined)?.progressToken };
    let set = this.#inFlight.get(server);
    if (!set) this.#inFlight.set(server, (set = new Set()));
    set.add(relayed);
    try {
      const result = await this.#process(server).request(method, params, frame.timeoutMs).done;
      this.#opts.send({ type: 'rpc.response', id, result: this.#opts.filter(server, method, result) });
    } catch (err) {
      if (err instanceof RpcError) this.#opts.send({ type: 'rpc.response', id, error: { code: err.code, message: err.message, data: err.data } });
      else if (err instanceof GatewayError) this.#opts.send({ type: 'rpc.response', id, fault: { code: err.code, message: err.message.slice(0, 4000) } });
      else this.#opts.send({ type: 'rpc.response', id, fault: { code: 'INTERNAL', message: 'internal error in the host agent' } });
    } finally {
      set.delete(relayed);
    }
  }

  closeAll(): void {
    for (const instance of this.#processes.values()) instance.stop();
    this.#processes.clear();
  }

  #process(server: string): Instance {
    const running = this.#processes.get(server);
    if (running && !running.exited) return running;
    const instance = this.#opts.servers.spawnDetached(
      server,
      'modern-relay',
      (message) => this.#onMessage(server, message),
      () => {
        if (this.#processes.get(server) === instance) this.#processes.delete(server);
      },
    );
    this.#processes.set(server, instance);
    return instance;
  }

  #onMessage(server: string, message: JsonRpcMessage): void {
    if (message.method !== 'notifications/progress') return;
    const token = JSON.stringify((message.params as { progressToken?: unknown } | undefined)?.progressToken);
    for (const relayed of this.#inFlight.get(server) ?? []) {
      if (relayed.progressToken !== undefined && JSON.stringify(relayed.progressToken) === token) {
        this.#opts.send({ type: 'modern.event', id: relayed.edgeId, message: message as FrameOf<'modern.event'>['message'] });
        return;
      }
    }
  }
}
