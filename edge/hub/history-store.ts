/**
 * The traffic history in the Hub's SQLite storage: `flush` writes the buckets and errors that
 * changed since the last flush (called from the alarm, never per call), and the constructor reads
 * them back, so the history survives hibernation and restarts. Rows outside the windows are pruned,
 * so storage stays bounded by MAX_SERIES x (60 + 96) buckets.
 */
import { LATENCY_BINS } from './latency.ts';
import { emptyBucket, HISTORY_RANGES, MAX_RECENT_ERRORS, RANGES, type History, type HistoryRange, type SeriesKind } from './history.ts';
import type { HubSql } from './types.ts';

const TABLES = [
  `CREATE TABLE IF NOT EXISTS history_buckets (
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     range TEXT NOT NULL,
     start INTEGER NOT NULL,
     calls INTEGER NOT NULL,
     errors INTEGER NOT NULL,
     codes TEXT NOT NULL,
     bins TEXT NOT NULL,
     max_ms REAL NOT NULL,
     PRIMARY KEY (kind, name, range, start))`,
  `CREATE TABLE IF NOT EXISTS history_errors (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     server TEXT NOT NULL,
     host TEXT,
     code TEXT NOT NULL,
     what TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS history_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
];

export class HistoryStore {
  readonly #sql: HubSql;
  readonly #history: History;
  readonly #now: () => number;
  #savedAt: number | null;

  constructor(sql: HubSql, history: History, now: () => number) {
    this.#sql = sql;
    this.#history = history;
    this.#now = now;
    for (const statement of TABLES) sql.exec(statement);
    const saved = sql.exec("SELECT value FROM history_meta WHERE key = 'saved_at'")[0];
    this.#savedAt = saved ? Number(saved.value) : null;
    this.#load();
  }

  /** When the history was last written to storage (null: never). */
  get savedAt(): number | null {
    return this.#savedAt;
  }

  #load(): void {
    const now = this.#now();
    for (const range of HISTORY_RANGES) {
      const { bucketMs, buckets } = RANGES[range];
      const rows = this.#sql.exec('SELECT kind, name, start, calls, errors, codes, bins, max_ms FROM history_buckets WHERE range = ? AND start > ?', range, now - bucketMs * buckets);
      for (const row of rows) {
        const bucket = emptyBucket(Number(row.start));
        bucket.calls = Number(row.calls);
        bucket.errors = Number(row.errors);
        bucket.codes = JSON.parse(String(row.codes)) as Record<string, number>;
        bucket.maxMs = Number(row.max_ms);
        for (const [bin, n] of JSON.parse(String(row.bins)) as [number, number][]) if (bin >= 0 && bin < LATENCY_BINS) bucket.bins[bin] = n;
        this.#history.restore(row.kind === 'host' ? 'host' : 'server', String(row.name), range as HistoryRange, bucket);
      }
    }
    const errors = this.#sql.exec('SELECT at, server, host, code, what FROM history_errors ORDER BY seq DESC LIMIT ?', MAX_RECENT_ERRORS).reverse();
    this.#history.restoreErrors(errors.map((r) => ({ at: Number(r.at), server: String(r.server), host: r.host === null ? null : String(r.host), code: String(r.code), what: String(r.what) })));
  }

  /** Writes what changed since the last flush and prunes what fell out of the windows. */
  flush(): void {
    if (!this.#history.hasChanges()) return;
    const now = this.#now();
    const { buckets, errors, evicted } = this.#history.takeChanges();
    for (const { kind, name } of evicted) this.#sql.exec('DELETE FROM history_buckets WHERE kind = ? AND name = ?', kind, name);
    for (const { kind, name, range, bucket } of buckets) {
      const bins: [number, number][] = [];
      bucket.bins.forEach((n, bin) => n > 0 && bins.push([bin, n]));
      this.#sql.exec(
        'INSERT OR REPLACE INTO history_buckets (kind, name, range, start, calls, errors, codes, bins, max_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        kind satisfies SeriesKind,
        name,
        range,
        bucket.start,
        bucket.calls,
        bucket.errors,
        JSON.stringify(bucket.codes),
        JSON.stringify(bins),
        bucket.maxMs,
      );
    }
    for (const range of HISTORY_RANGES) {
      const { bucketMs, buckets: count } = RANGES[range];
      this.#sql.exec('DELETE FROM history_buckets WHERE range = ? AND start <= ?', range, now - bucketMs * count);
    }
    for (const e of errors) this.#sql.exec('INSERT INTO history_errors (at, server, host, code, what) VALUES (?, ?, ?, ?, ?)', e.at, e.server, e.host, e.code, e.what);
    if (errors.length) this.#sql.exec('DELETE FROM history_errors WHERE seq <= (SELECT max(seq) FROM history_errors) - ?', MAX_RECENT_ERRORS);
    this.#sql.exec("INSERT OR REPLACE INTO history_meta (key, value) VALUES ('saved_at', ?)", String(now));
    this.#savedAt = now;
  }
}
