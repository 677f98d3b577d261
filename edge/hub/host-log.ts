/**
 * Host connection history: when each host connected and dropped, and how long it was away.
 * Written to storage as it happens (connections are rare, never per call), bounded per host and
 * in the number of hosts remembered.
 */
import type { HubSql } from './types.ts';

/** Events kept per host, and hosts remembered. */
export const HOST_EVENTS_KEPT = 20;
export const HOSTS_KEPT = 64;

export interface HostEvent {
  at: string;
  kind: 'connect' | 'drop';
  /** On a connect after a drop: how long the host was away, in ms. */
  awayMs?: number;
  /** On a drop: the WebSocket close code, when there was one. */
  code?: number;
}

export interface HostHistory {
  connects: number;
  drops: number;
  /** Time away between the drops and reconnects kept, in ms. */
  awayMs: number;
  /** Oldest first. */
  events: HostEvent[];
}

export class HostLog {
  readonly #sql: HubSql;

  constructor(sql: HubSql) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS host_events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      host TEXT NOT NULL,
      at INTEGER NOT NULL,
      kind TEXT NOT NULL,
      code INTEGER)`);
  }

  connected(host: string, at: number): void {
    this.#add(host, at, 'connect', null);
  }

  dropped(host: string, at: number, code: number | null): void {
    this.#add(host, at, 'drop', code);
  }

  #add(host: string, at: number, kind: HostEvent['kind'], code: number | null): void {
    this.#sql.exec('INSERT INTO host_events (host, at, kind, code) VALUES (?, ?, ?, ?)', host, at, kind, code);
    this.#sql.exec('DELETE FROM host_events WHERE host = ? AND seq <= (SELECT max(seq) FROM host_events WHERE host = ?) - ?', host, host, HOST_EVENTS_KEPT * 2);
    const hosts = Number(this.#sql.exec('SELECT count(DISTINCT host) AS n FROM host_events')[0]?.n ?? 0);
    if (hosts > HOSTS_KEPT) {
      this.#sql.exec('DELETE FROM host_events WHERE host IN (SELECT host FROM host_events GROUP BY host ORDER BY max(seq) LIMIT ?)', hosts - HOSTS_KEPT);
    }
  }

  /** Every remembered host's history, by host id. */
  all(): Record<string, HostHistory> {
    const out: Record<string, HostHistory> = {};
    const rows = this.#sql.exec('SELECT host, at, kind, code FROM host_events ORDER BY host, seq');
    let droppedAt: number | undefined;
    for (const row of rows) {
      const host = String(row.host);
      let history = out[host];
      if (!history) {
        out[host] = history = { connects: 0, drops: 0, awayMs: 0, events: [] };
        droppedAt = undefined;
      }
      const at = Number(row.at);
      const event: HostEvent = { at: new Date(at).toISOString(), kind: row.kind === 'drop' ? 'drop' : 'connect' };
      if (event.kind === 'drop') {
        history.drops++;
        if (row.code !== null) event.code = Number(row.code);
        droppedAt = at;
      } else {
        history.connects++;
        if (droppedAt !== undefined) {
          event.awayMs = Math.max(0, at - droppedAt);
          history.awayMs += event.awayMs;
        }
        droppedAt = undefined;
      }
      history.events.push(event);
    }
    for (const history of Object.values(out)) history.events = history.events.slice(-HOST_EVENTS_KEPT);
    return out;
  }
}
