/**
 * The key-value store behind OAuth: the subset of the Workers KV API that
 * `@cloudflare/workers-oauth-provider` uses (get, put with expiry and metadata, delete, list by
 * prefix), over SQLite. Runtime-neutral: the Durable Object (`store-object.ts`) hands it
 * `ctx.storage.sql`; unit tests hand it `node:sqlite`.
 */

export type SqlValue = string | number | null | ArrayBuffer;

/** The one call this store makes on SQLite: run a statement, get its rows. */
export type SqlExec = (query: string, ...bindings: SqlValue[]) => Record<string, SqlValue>[];

export interface PutOptions {
  /** Seconds from now. */
  expirationTtl?: number;
  /** Seconds since the epoch. */
  expiration?: number;
  metadata?: unknown;
}

export interface ListOptions {
  prefix?: string;
  limit?: number;
  cursor?: string;
}

export interface ListedKey {
  name: string;
  expiration?: number;
  metadata?: unknown;
}

export interface ListResult {
  keys: ListedKey[];
  list_complete: boolean;
  cursor?: string;
}

/** Bounds, as Workers KV has them (keys up to 512 bytes, values up to 25 MiB; ours are far smaller). */
export const MAX_KEY_LENGTH = 512;
export const MAX_VALUE_LENGTH = 1024 * 1024;
const MAX_LIST_LIMIT = 1000;

export class OAuthStore {
  readonly #sql: SqlExec;
  readonly #now: () => number;

  constructor(sql: SqlExec, now: () => number = Date.now) {
    this.#sql = sql;
    this.#now = now;
    sql(`CREATE TABLE IF NOT EXISTS oauth_kv (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      metadata TEXT,
      expires_at INTEGER
    )`);
    sql('CREATE INDEX IF NOT EXISTS oauth_kv_expiry ON oauth_kv (expires_at) WHERE expires_at IS NOT NULL');
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  get(key: string): string | null {
    checkKey(key);
    const row = this.#sql('SELECT value, expires_at FROM oauth_kv WHERE key = ?', key)[0];
    if (!row) return null;
    if (typeof row.expires_at === 'number' && row.expires_at <= this.#nowSeconds()) {
      this.#sql('DELETE FROM oauth_kv WHERE key = ?', key);
      return null;
    }
    return String(row.value);
  }

  put(key: string, value: string, options: PutOptions = {}): void {
    checkKey(key);
    if (value.length > MAX_VALUE_LENGTH) throw new RangeError(`value of ${value.length} characters is over ${MAX_VALUE_LENGTH}`);
    let expiresAt: number | null = null;
    if (options.expiration !== undefined) expiresAt = Math.floor(options.expiration);
    else if (options.expirationTtl !== undefined) expiresAt = this.#nowSeconds() + Math.floor(options.expirationTtl);
    const metadata = options.metadata === undefined ? null : JSON.stringify(options.metadata);
    this.#sql(
      'INSERT INTO oauth_kv (key, value, metadata, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, metadata = excluded.metadata, expires_at = excluded.expires_at',
      key,
      value,
      metadata,
      expiresAt,
    );
  }

  delete(key: string): void {
    checkKey(key);
    this.#sql('DELETE FROM oauth_kv WHERE key = ?', key);
  }

  /** Keys in order, from after `cursor` (the last key of the previous page). */
  list(options: ListOptions = {}): ListResult {
    const prefix = options.prefix ?? '';
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? MAX_LIST_LIMIT)), MAX_LIST_LIMIT);
    const after = options.cursor ?? '';
    const now = this.#nowSeconds();
    // prefix match without LIKE's wildcards: key >= prefix AND key < prefix + U+FFFF
    const rows = this.#sql(
      'SELECT key, metadata, expires_at FROM oauth_kv WHERE key >= ? AND key < ? AND key > ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?',
      prefix,
      `${prefix}\uffff`,
      after,
      now,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const keys = page.map((row) => {
      const key: ListedKey = { name: String(row.key) };
      if (typeof row.expires_at === 'number') key.expiration = row.expires_at;
      if (typeof row.metadata === 'string') key.metadata = JSON.parse(row.metadata);
      return key;
    });
    const complete = rows.length <= limit;
    return complete ? { keys, list_complete: true } : { keys, list_complete: false, cursor: String(page.at(-1)!.key) };
  }

  /** Drops expired entries; returns how many. */
  sweep(): number {
    const rows = this.#sql('DELETE FROM oauth_kv WHERE expires_at IS NOT NULL AND expires_at <= ? RETURNING key', this.#nowSeconds());
    return rows.length;
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) throw new RangeError('a key is 1 to 512 characters');
}
