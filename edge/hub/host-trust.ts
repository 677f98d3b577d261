/**
 * What a host connection may claim and touch: its host id (by its token), the servers it may
 * announce (by its token, and not one another token's host serves unless `shareServers`), and
 * the calls and sessions it owns. Pure checks over the Hub's storage; the Hub acts on them.
 */
import type { HostConnection, HubSql } from './types.ts';

export interface TrustPorts {
  sql: HubSql;
  /** The current, open connection of a host, if any. */
  liveConnection(hostId: string): HostConnection | undefined;
  /** The host that runs an MCP session, if it is one. */
  mcpHostOf(session: string): string | undefined;
}

/** A refusal: what the host is told, and the log line with its fields. */
export interface Refusal {
  message: string;
  log: string;
  server?: string;
}

/** Why this connection's token may not use its host id, or undefined when it may. */
export function hostIdRefusal(ports: TrustPorts, conn: HostConnection): Refusal | undefined {
  const log = 'host refused: host id not allowed for its token';
  if (conn.hostClaim === 'reserved') return { message: `this host's token may not use host id ${conn.hostId}`, log };
  if (conn.hostClaim === 'own') return undefined;
  const holder = ports.liveConnection(conn.hostId);
  if (holder && holder.connId !== conn.connId && holder.tokenId !== conn.tokenId) {
    return { message: `host id ${conn.hostId} is in use by a connection with another host token`, log };
  }
  return undefined;
}

/** Why a hello's servers are refused for this connection's token, or undefined. */
export function serversRefusal(ports: TrustPorts, conn: HostConnection, servers: readonly { name: string }[]): Refusal | undefined {
  const allowed = conn.allowedServers;
  if (!allowed) return undefined;
  const refused = servers.find((s) => !allowed.includes(s.name));
  if (refused) {
    return {
      message: `this host's token may not announce server ${refused.name} (allowed: ${allowed.join(', ') || 'none'})`,
      log: 'host refused: server not allowed for its token',
      server: refused.name,
    };
  }
  if (conn.mayShareServers) return undefined;
  const taken = servers.find((s) => servedByOtherToken(ports, conn, s.name));
  if (taken) {
    return {
      message: `server ${taken.name} is served by a host with another token; this token may not join it (shareServers)`,
      log: 'host refused: server served by another token',
      server: taken.name,
    };
  }
  return undefined;
}

/** Whether a host other than this connection's, connected with another token, serves `server`. */
function servedByOtherToken(ports: TrustPorts, conn: HostConnection, server: string): boolean {
  for (const row of ports.sql.exec('SELECT host_id FROM servers WHERE name = ? AND host_id != ?', server, conn.hostId)) {
    const holder = ports.liveConnection(String(row.host_id));
    if (holder && holder.tokenId !== conn.tokenId) return true;
  }
  return false;
}

/** Whether this connection's host runs the session (an MCP session, or a REST route), or no host does. */
export function ownsSession(ports: TrustPorts, conn: HostConnection, server: string, session: string): boolean {
  const mcpHost = ports.mcpHostOf(session);
  if (mcpHost !== undefined) return mcpHost === conn.hostId;
  const row = ports.sql.exec('SELECT host_id FROM routes WHERE server = ? AND session = ?', server, session)[0];
  return !row || String(row.host_id) === conn.hostId;
}
