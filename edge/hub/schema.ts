/** The Hub's SQLite tables: everything that must outlive a hibernation or an eviction. */
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS hosts (
     id TEXT PRIMARY KEY,
     conn_id TEXT NOT NULL,
     connected_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS servers (
     name TEXT NOT NULL,
     host_id TEXT NOT NULL,
     tools TEXT NOT NULL,
     error TEXT,
     PRIMARY KEY (name, host_id))`,
  /** Every server name ever announced: tells "offline now" (503) from "never existed" (404). */
  `CREATE TABLE IF NOT EXISTS known_servers (name TEXT PRIMARY KEY)`,
  `CREATE TABLE IF NOT EXISTS rest_sessions (
     id TEXT PRIMARY KEY,
     principal TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_used INTEGER NOT NULL)`,
  /** Which host runs the server process of (server, session). */
  `CREATE TABLE IF NOT EXISTS routes (
     server TEXT NOT NULL,
     session TEXT NOT NULL,
     host_id TEXT NOT NULL,
     PRIMARY KEY (server, session))`,
  /** MCP client sessions; `principal` is who opened it (an id is never a credential). */
  `CREATE TABLE IF NOT EXISTS mcp_sessions (
     id TEXT PRIMARY KEY,
     server TEXT NOT NULL,
     host_id TEXT NOT NULL,
     principal TEXT NOT NULL,
     transport TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_used INTEGER NOT NULL)`,
];
