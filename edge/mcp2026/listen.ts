/**
 * `subscriptions/listen` (MCP 2026-07-28) for servers behind the bridge: an SSE stream that starts
 * with `notifications/subscriptions/acknowledged` (the filter as honored: only the list-changed
 * kinds the server declared), then carries `notifications/{tools,prompts,resources}/list_changed`
 * of that server, each stamped with the subscription id, for the kinds the client asked for.
 * A list changed when any process of the server says so, or when its host restates its tools.
 * Resource subscriptions are not offered (never honored in the acknowledgement).
 */
import { GatewayError } from '../../shared/errors.ts';
import { META_SUBSCRIPTION_ID } from '../../shared/mcp2026.ts';
import { SSE_HEADERS, SseStream, type SseOptions } from '../hub/sse.ts';

export type ListKind = 'tools' | 'prompts' | 'resources';

const FILTER_KEY: Record<ListKind, string> = { tools: 'toolsListChanged', prompts: 'promptsListChanged', resources: 'resourcesListChanged' };
/** Listen streams one principal may hold open at once. */
const MAX_STREAMS_PER_PRINCIPAL = 16;

interface Listener {
  server: string;
  principal: string;
  id: string | number;
  kinds: Set<ListKind>;
  stream: SseStream;
}

export class ListenStreams {
  readonly #sse: SseOptions;
  readonly #listeners = new Set<Listener>();

  constructor(sse: SseOptions) {
    this.#sse = sse;
  }

  open(server: string, principal: string, id: string | number, params: Record<string, unknown>, capabilities: Record<string, unknown>): Response {
    if ([...this.#listeners].filter((l) => l.principal === principal).length >= MAX_STREAMS_PER_PRINCIPAL) {
      throw new GatewayError('TOO_MANY_REQUESTS', `at most ${MAX_STREAMS_PER_PRINCIPAL} subscriptions/listen streams per client`);
    }
    const requested = (params.notifications ?? {}) as Record<string, unknown>;
    const kinds = new Set<ListKind>();
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      const declared = (capabilities[kind] as { listChanged?: unknown } | undefined)?.listChanged === true;
      if (requested[FILTER_KEY[kind]] === true && declared) kinds.add(kind);
    }
    const honored = Object.fromEntries([...kinds].map((kind) => [FILTER_KEY[kind], true]));
    const stream = new SseStream(this.#sse);
    stream.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: honored, _meta: { [META_SUBSCRIPTION_ID]: id } } }));
    if (kinds.size === 0) {
      // Nothing the server can deliver: the subscription ends at once, gracefully.
      stream.send(JSON.stringify({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: { [META_SUBSCRIPTION_ID]: id } } }));
      stream.close();
    } else {
      const listener: Listener = { server, principal, id, kinds, stream };
      this.#listeners.add(listener);
      stream.onClose(() => this.#listeners.delete(listener));
    }
    return new Response(stream.readable, { headers: SSE_HEADERS });
  }

  changed(server: string, kind: ListKind): void {
    for (const listener of this.#listeners) {
      if (listener.server !== server || !listener.kinds.has(kind)) continue;
      listener.stream.send(JSON.stringify({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed`, params: { _meta: { [META_SUBSCRIPTION_ID]: listener.id } } }));
    }
  }
}
