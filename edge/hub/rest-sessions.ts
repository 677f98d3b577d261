/**
 * REST session ids (from GET /api/sessionid): stored with their principal, forgotten after a day
 * unused, ended by DELETE /api/sessionid/{id}. A principal at its cap who asks for another gets
 * it, and its least recently used session ends instead (no lock-out).
 */
import { REST_SESSION_TTL_MS } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import { randomId } from '../../shared/secure.ts';
import type { HubSql } from './hub.ts';

/** How often, at most, a session's last use is written to storage. */
const TOUCH_INTERVAL_MS = 60_000;

export class RestSessions {
  readonly #sql: HubSql;
  readonly #now: () => number;
  readonly #maxPerPrincipal: number;
  /** Session id -> when its last use was written, and whose it is. */
  readonly #touched = new Map<string, { at: number; principal: string }>();

  constructor(sql: HubSql, now: () => number, maxPerPrincipal: number) {
    this.#sql = sql;
    this.#now = now;
    this.#maxPerPrincipal = maxPerPrincipal;
  }

  /**
   * A new session id, the id of the session ended to make room for it, if any, and the sessions
   * found expired (their routes and processes are the caller's to end: nothing else would).
   */
  create(principal: string): { id: string; evicted?: string; expired: string[] } {
    const id = randomId();
    const now = this.#now();
    const expired = this.#sql.exec('SELECT id FROM rest_sessions WHERE last_used < ?', now - REST_SESSION_TTL_MS).map((row) => String(row.id));
    for (const old of expired) this.#forget(old);
    const held = Number(this.#sql.exec('SELECT count(*) AS n FROM rest_sessions WHERE principal = ?', principal)[0]?.n ?? 0);
    let evicted: string | undefined;
    if (held >= this.#maxPerPrincipal) {
      const oldest = this.#sql.exec('SELECT id FROM rest_sessions WHERE principal = ? ORDER BY last_used ASC, created_at ASC LIMIT 1', principal)[0];
      if (oldest) {
        evicted = String(oldest.id);
        this.#forget(evicted);
      }
    }
    this.#sql.exec('INSERT INTO rest_sessions (id, principal, created_at, last_used) VALUES (?, ?, ?, ?)', id, principal, now, now);
    this.#touched.set(id, { at: now, principal });
    return evicted ? { id, evicted, expired } : { id, expired };
  }

  /** Sessions whose last use is remembered in memory (for tests of what the Hub holds). */
  get remembered(): number {
    return this.#touched.size;
  }

  /** Ends a session of `principal` (404 for anyone else's, or an unknown one). */
  remove(id: string, principal: string): void {
    const row = this.#sql.exec('SELECT principal FROM rest_sessions WHERE id = ?', id)[0];
    if (!row || row.principal !== principal) throw new GatewayError('SESSION_NOT_FOUND', 'unknown or expired sessionId');
    this.#forget(id);
  }

  #forget(id: string): void {
    this.#sql.exec('DELETE FROM rest_sessions WHERE id = ?', id);
    this.#touched.delete(id);
  }

  /** Forgets a session: its next use is 404. False if there is none. */
  end(id: string): boolean {
    const found = this.#sql.exec('SELECT 1 AS found FROM rest_sessions WHERE id = ?', id).length > 0;
    this.#forget(id);
    return found;
  }

  /** Checks that the session exists and belongs to `principal`: an id is never a credential. */
  touch(id: string, principal: string): void {
    const now = this.#now();
    const touched = this.#touched.get(id);
    if (touched !== undefined && touched.principal === principal && now - touched.at < TOUCH_INTERVAL_MS) return;
    const row = this.#sql.exec('SELECT last_used, principal FROM rest_sessions WHERE id = ?', id)[0];
    if (!row || row.principal !== principal || Number(row.last_used) < now - REST_SESSION_TTL_MS) {
      this.#touched.delete(id);
      throw new GatewayError('SESSION_NOT_FOUND', 'unknown or expired sessionId: get a new one from GET /api/sessionid');
    }
    this.#sql.exec('UPDATE rest_sessions SET last_used = ? WHERE id = ?', now, id);
    this.#touched.set(id, { at: now, principal });
  }
}
