/** The Hub's ports and request shapes: what the Durable Object (or a test) gives it, and what callers pass. */
import type { McpLimits } from './mcp-sessions.ts';

export type SqlValue = string | number | null;
export interface HubSql {
  exec(query: string, ...params: SqlValue[]): Record<string, SqlValue>[];
}

/** One host's WebSocket as the Hub sees it. */
export interface HostConnection {
  readonly hostId: string;
  readonly connId: string;
  /** Server names this host's token may announce; undefined for any. */
  readonly allowedServers?: readonly string[];
  /** Which host token opened it (a hash, never the token); undefined for tests and old sockets. */
  readonly tokenId?: string;
  /**
   * May its token use this host id: `own` (the token lists it), `any` (the token lists no ids, and
   * no other token lists this one: usable unless a connection of another token holds it), or
   * `reserved` (refused). Undefined is `any`.
   */
  readonly hostClaim?: HostClaim;
  /** A token limited to servers may announce one another token's host serves (`shareServers`). */
  readonly mayShareServers?: boolean;
  /**
   * The longest WebSocket message the host takes, as its hello said (`maxMessageChars`): frames
   * up to it go to it whole. Undefined (a host that said nothing): chunks past 256 Ki.
   */
  maxMessageChars?: number;
  send(text: string): void;
  close(code: number, reason: string): void;
  /**
   * When the host last showed it is alive (ping, frame, or the connection opening), in ms since
   * the epoch; without it the Hub never considers the host silent.
   */
  lastSeen?(): number;
  /**
   * When its last frame arrived (ms since the epoch), if one did: a part of `lastSeen` that is
   * cheap to read, so a host heard from lately is known alive without asking for the rest.
   */
  lastFrameAt?(): number | undefined;
}

export type HostClaim = 'own' | 'any' | 'reserved';

export type HubLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface HubRuntime {
  sql: HubSql;
  /** Open connections of one host (normally one). */
  connectionsOf(hostId: string): HostConnection[];
  /** The open connection `connId` of a host, if it is open (what `connectionsOf` finds, without the lists). */
  connectionOf(hostId: string, connId: string): HostConnection | undefined;
  /** connIds of every open host connection. */
  liveConnIds(): string[];
  now(): number;
  log(level: HubLogLevel, message: string, fields?: Record<string, unknown>): void;
  /** Asks for `onAlarm` to run after `delayMs` (a Durable Object alarm outlives hibernation). */
  scheduleAlarm(delayMs: number): void;
}

export interface HubLimits extends McpLimits {
  /** An MCP session unused this long, with no stream open, is ended. */
  mcpIdleMs: number;
  /** REST sessions, and MCP sessions, one principal may hold at once (each kind counted apart). */
  maxSessionsPerPrincipal: number;
  /** How long a 2026-07-28 call parked for input waits for the client's answers. */
  parkTtlMs?: number;
  /** A host connection's hello must be accepted within this time (default 10 s). */
  helloTimeoutMs?: number;
  /** A chunked frame from a host must be complete this long after its first chunk (default 60 s). */
  chunkTimeoutMs?: number;
  /** Characters of half-received chunked frames one host connection may hold (default 16 Mi). */
  maxFrameChars?: number;
}

export interface ToolCall {
  server: string;
  /** A REST session id, or null for a one-off call on a fresh process. */
  session: string | null;
  principal: string;
  tool: string;
  args: Record<string, unknown>;
  /** The text `args` was parsed from (valid JSON, no line break), sent on to the host as it is. */
  argsText?: string;
  timeoutMs: number;
}

/** Any request to a server's process on behalf of a REST client. */
export interface ServerRequest {
  server: string;
  session: string | null;
  principal: string;
  method: string;
  params: unknown;
  /** The text of `params` (valid JSON, no line break), put in the frame as it is rather than serialized again. */
  paramsText?: string;
  timeoutMs: number;
}
