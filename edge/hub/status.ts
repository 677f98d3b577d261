/** What /health and /status report, read from the Hub's storage and counters. */
import type { HubSql } from './hub.ts';

export interface HubHealth {
  status: 'ok';
  ready: boolean;
  hosts: { id: string; connectedAt: string; servers: string[] }[];
  servers: { name: string; host: string; tools: number; status: 'ok' | 'failing'; error?: string }[];
}

/** What unauthenticated /health shows: up and ready, and counts; no ids, names or error texts. */
export interface PublicHealth {
  status: 'ok';
  ready: boolean;
  hosts: number;
  servers: number;
  failing: number;
}

export function publicHealthOf(health: HubHealth): PublicHealth {
  return {
    status: 'ok',
    ready: health.ready,
    hosts: health.hosts.length,
    servers: new Set(health.servers.map((s) => s.name)).size,
    failing: health.servers.filter((s) => s.status === 'failing').length,
  };
}

export interface ProcessCounts {
  sessions: number;
  pooled: number;
  watching: number;
}

export interface HubStatus extends HubHealth {
  edge: { startedAt: string; uptimeSeconds: number };
  hostProcesses: Record<string, ProcessCounts>;
  sessions: { rest: number; mcp: number };
  /** REST calls waiting for a host's answer right now. */
  callsInFlight: number;
  /** Characters of half-received chunked frames the edge holds for host connections (each bounded by limits.maxFrameBytes). */
  pendingFrameChars?: number;
  perServer: Record<string, { calls: number; errors: number; restProcesses: number; mcpSessions: number }>;
}

/**
 * Calls and errors per server since the edge started (memory), and the process counts hosts
 * report (storage: a host sends them only when they change, so a rebuilt Hub must not lose them).
 */
export class ServerStats {
  readonly #calls = new Map<string, { calls: number; errors: number }>();
  readonly #sql: HubSql;
  readonly startedAt: number;

  constructor(sql: HubSql, now: () => number) {
    this.#sql = sql;
    sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS host_processes (host_id TEXT PRIMARY KEY, sessions INTEGER NOT NULL, pooled INTEGER NOT NULL, watching INTEGER NOT NULL)');
    sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('started_at', ?)", String(now()));
    this.startedAt = Number(sql.exec("SELECT value FROM meta WHERE key = 'started_at'")[0]?.value ?? now());
  }

  count(server: string, ok: boolean): void {
    let entry = this.#calls.get(server);
    if (!entry) this.#calls.set(server, (entry = { calls: 0, errors: 0 }));
    entry.calls++;
    if (!ok) entry.errors++;
  }

  host(hostId: string, counts: ProcessCounts): void {
    this.#sql.exec('INSERT OR REPLACE INTO host_processes (host_id, sessions, pooled, watching) VALUES (?, ?, ?, ?)', hostId, counts.sessions, counts.pooled, counts.watching);
  }

  forgetHost(hostId: string): void {
    this.#sql.exec('DELETE FROM host_processes WHERE host_id = ?', hostId);
  }

  calls(server: string): { calls: number; errors: number } {
    return this.#calls.get(server) ?? { calls: 0, errors: 0 };
  }

  processes(hostId: string): ProcessCounts | undefined {
    const row = this.#sql.exec('SELECT sessions, pooled, watching FROM host_processes WHERE host_id = ?', hostId)[0];
    return row ? { sessions: Number(row.sessions), pooled: Number(row.pooled), watching: Number(row.watching) } : undefined;
  }
}

export function healthOf(sql: HubSql): HubHealth {
  const hosts = sql.exec('SELECT id, connected_at FROM hosts ORDER BY id');
  const servers = sql.exec('SELECT name, host_id, tools, error FROM servers ORDER BY name, host_id');
  return {
    status: 'ok',
    ready: hosts.length > 0,
    hosts: hosts.map((h) => ({
      id: String(h.id),
      connectedAt: new Date(Number(h.connected_at)).toISOString(),
      servers: servers.filter((s) => s.host_id === h.id).map((s) => String(s.name)),
    })),
    servers: servers.map((s) => ({
      name: String(s.name),
      host: String(s.host_id),
      tools: (JSON.parse(String(s.tools)) as unknown[]).length,
      ...(s.error ? { status: 'failing' as const, error: String(s.error) } : { status: 'ok' as const }),
    })),
  };
}

export function statusOf(sql: HubSql, stats: ServerStats, now: number, callsInFlight: number): HubStatus {
  const health = healthOf(sql);
  const count = (query: string, ...params: string[]) => Number(sql.exec(query, ...params)[0]?.n ?? 0);
  const perServer: HubStatus['perServer'] = {};
  for (const name of new Set(health.servers.map((s) => s.name))) {
    perServer[name] = {
      ...stats.calls(name),
      restProcesses: count('SELECT count(*) AS n FROM routes WHERE server = ?', name),
      mcpSessions: count('SELECT count(*) AS n FROM mcp_sessions WHERE server = ?', name),
    };
  }
  const hostProcesses: Record<string, ProcessCounts> = {};
  for (const host of health.hosts) hostProcesses[host.id] = stats.processes(host.id) ?? { sessions: 0, pooled: 0, watching: 0 };
  return {
    ...health,
    edge: { startedAt: new Date(stats.startedAt).toISOString(), uptimeSeconds: Math.round((now - stats.startedAt) / 1000) },
    hostProcesses,
    sessions: { rest: count('SELECT count(*) AS n FROM rest_sessions'), mcp: count('SELECT count(*) AS n FROM mcp_sessions') },
    callsInFlight,
    perServer,
  };
}
