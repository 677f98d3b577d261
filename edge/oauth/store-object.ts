/**
 * The OAuth store's Durable Object: one per deployment, SQLite-backed, reached over RPC. The OAuth
 * library expects a Workers KV namespace; keeping its records here instead means `npm start`,
 * `mcp-gateway edge` and a deploy need no KV namespace (none exists in workerd without Miniflare),
 * and the records survive restarts wherever Durable Object storage does (`--state` locally).
 */
import { DurableObject } from 'cloudflare:workers';
import type { EdgeEnv } from '../env.ts';
import { OAuthStore, type ListOptions, type ListResult, type PutOptions, type SqlValue } from './store.ts';

/** Expired records are swept at most this often (reads already ignore them). */
const SWEEP_INTERVAL_MS = 60_000;

export class OAuthStoreObject extends DurableObject<EdgeEnv> {
  readonly #store: OAuthStore;
  #lastSweep = 0;

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.#store = new OAuthStore((query, ...bindings) => sql.exec<Record<string, SqlValue>>(query, ...bindings).toArray());
  }

  kvGet(key: string): string | null {
    return this.#store.get(key);
  }

  kvPut(key: string, value: string, options?: PutOptions): void {
    this.#store.put(key, value, options);
    if (Date.now() - this.#lastSweep > SWEEP_INTERVAL_MS) {
      this.#lastSweep = Date.now();
      this.#store.sweep();
    }
  }

  kvDelete(key: string): void {
    this.#store.delete(key);
  }

  kvList(options?: ListOptions): ListResult {
    return this.#store.list(options);
  }
}
