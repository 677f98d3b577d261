/** The sessions the status page lists: MCP sessions (either transport) and REST sessions, newest activity first. */
import type { HubSql } from './types.ts';

/** Sessions listed at most (the counts in /status cover them all). */
export const SESSIONS_LISTED = 100;

export interface LiveSession {
  id: string;
  transport: 'streamable' | 'sse' | 'rest';
  principal: string;
  /** The server (MCP), or the servers this REST session has a process of, comma-separated. */
  server: string;
  host: string;
  createdAt: string;
  /** Last use; REST sessions record it at most once a minute. */
  lastActivityAt: string;
}

export function listSessions(sql: HubSql): LiveSession[] {
  const mcp = sql.exec('SELECT id, server, host_id, principal, transport, created_at, last_used FROM mcp_sessions ORDER BY last_used DESC LIMIT ?', SESSIONS_LISTED);
  const rest = sql.exec(
    `SELECT s.id, s.principal, s.created_at, s.last_used,
            group_concat(DISTINCT r.server) AS servers, group_concat(DISTINCT r.host_id) AS hosts
       FROM rest_sessions s LEFT JOIN routes r ON r.session = s.id
      GROUP BY s.id ORDER BY s.last_used DESC LIMIT ?`,
    SESSIONS_LISTED,
  );
  const sessions: LiveSession[] = [
    ...mcp.map((r) => ({
      id: String(r.id),
      transport: r.transport === 'sse' ? ('sse' as const) : ('streamable' as const),
      principal: String(r.principal),
      server: String(r.server),
      host: String(r.host_id),
      createdAt: new Date(Number(r.created_at)).toISOString(),
      lastActivityAt: new Date(Number(r.last_used)).toISOString(),
    })),
    ...rest.map((r) => ({
      id: String(r.id),
      transport: 'rest' as const,
      principal: String(r.principal),
      server: r.servers === null ? '' : String(r.servers).replaceAll(',', ', '),
      host: r.hosts === null ? '' : String(r.hosts).replaceAll(',', ', '),
      createdAt: new Date(Number(r.created_at)).toISOString(),
      lastActivityAt: new Date(Number(r.last_used)).toISOString(),
    })),
  ];
  return sessions.sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt)).slice(0, SESSIONS_LISTED);
}
