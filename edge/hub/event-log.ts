/**
 * Event ids and the replay backlog of MCP sessions, kept in storage so that they survive the
 * Durable Object being rebuilt (hibernation, eviction): a client resuming with `Last-Event-ID`
 * gets every kept event after it, and new events never reuse an id it has seen.
 *
 * Ids are handed out from blocks reserved in storage (one write per block, not per event); a
 * rebuilt Hub starts after the last reserved block. The backlog is bounded in events and bytes.
 */
import type { HubSql } from './types.ts';

export const EVENT_LOG_SCHEMA = [
  /** Event ids below `reserved` may have been handed out. */
  `CREATE TABLE IF NOT EXISTS mcp_event_ids (
     session TEXT PRIMARY KEY,
     reserved INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS mcp_events (
     session TEXT NOT NULL,
     id INTEGER NOT NULL,
     text TEXT NOT NULL,
     delivered INTEGER NOT NULL,
     PRIMARY KEY (session, id))`,
];

/** Ids reserved at a time. */
const ID_BLOCK = 256;
/** Larger events are kept in memory only (a Durable Object's SQLite row holds at most 2 MB). */
const MAX_STORED_EVENT_CHARS = 1024 * 1024;

export interface BacklogLimits {
  /** Events kept per session. */
  events: number;
  /** Characters kept per session, all events together. */
  chars: number;
}

export interface BacklogEntry {
  id: number;
  text: string;
  delivered: boolean;
}

interface SessionLog {
  next: number;
  reserved: number;
  backlog: BacklogEntry[];
  chars: number;
}

export class EventLog {
  readonly #sql: HubSql;
  readonly #limits: BacklogLimits;
  readonly #sessions = new Map<string, SessionLog>();

  constructor(sql: HubSql, limits: BacklogLimits) {
    this.#sql = sql;
    this.#limits = limits;
    for (const statement of EVENT_LOG_SCHEMA) sql.exec(statement);
  }

  /** The next event id of a session. */
  nextId(session: string): number {
    const log = this.#log(session);
    if (log.next >= log.reserved) {
      log.reserved = log.next + ID_BLOCK;
      this.#sql.exec('INSERT OR REPLACE INTO mcp_event_ids (session, reserved) VALUES (?, ?)', session, log.reserved);
    }
    return log.next++;
  }

  /** Keeps an event for replay, dropping the oldest past the bounds. */
  append(session: string, entry: BacklogEntry): void {
    const log = this.#log(session);
    log.backlog.push(entry);
    log.chars += entry.text.length;
    if (entry.text.length <= MAX_STORED_EVENT_CHARS) {
      this.#sql.exec('INSERT OR REPLACE INTO mcp_events (session, id, text, delivered) VALUES (?, ?, ?, ?)', session, entry.id, entry.text, entry.delivered ? 1 : 0);
    }
    let dropped = 0;
    while (log.backlog.length > 1 && (log.backlog.length > this.#limits.events || log.chars > this.#limits.chars)) {
      const old = log.backlog.shift()!;
      log.chars -= old.text.length;
      dropped = old.id;
    }
    if (dropped) this.#sql.exec('DELETE FROM mcp_events WHERE session = ? AND id <= ?', session, dropped);
  }

  /** The kept events after `after` (every kept one), or those not delivered yet; marks them delivered. */
  replay(session: string, after: number | undefined): BacklogEntry[] {
    const log = this.#log(session);
    const entries = log.backlog.filter((e) => (after !== undefined ? e.id > after : !e.delivered));
    for (const entry of entries) {
      if (entry.delivered) continue;
      entry.delivered = true;
      this.#sql.exec('UPDATE mcp_events SET delivered = 1 WHERE session = ? AND id = ?', session, entry.id);
    }
    return entries;
  }

  /** Forgets a session's events and ids. */
  drop(session: string): void {
    this.#sessions.delete(session);
    this.#sql.exec('DELETE FROM mcp_events WHERE session = ?', session);
    this.#sql.exec('DELETE FROM mcp_event_ids WHERE session = ?', session);
  }

  /** The session's log, read from storage the first time after a (re)build. */
  #log(session: string): SessionLog {
    let log = this.#sessions.get(session);
    if (log) return log;
    const reserved = Number(this.#sql.exec('SELECT reserved FROM mcp_event_ids WHERE session = ?', session)[0]?.reserved ?? 1);
    const backlog = this.#sql
      .exec('SELECT id, text, delivered FROM mcp_events WHERE session = ? ORDER BY id', session)
      .map((row) => ({ id: Number(row.id), text: String(row.text), delivered: row.delivered === 1 }));
    log = { next: reserved, reserved, backlog, chars: backlog.reduce((n, e) => n + e.text.length, 0) };
    this.#sessions.set(session, log);
    return log;
  }
}
