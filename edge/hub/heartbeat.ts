/**
 * Heartbeats from the edge's side: a host pings every PING_INTERVAL_MS (answered by the Durable
 * Object's auto-response, which does not wake it); a host heard from neither by ping nor by frame
 * for HEARTBEAT_TIMEOUT_MS is silent, and the Hub treats its link as dead even though no close
 * ever arrived (a stalled TCP connection, a frozen machine).
 *
 * Two places look: routing (a silent host is dropped before a new session or call is sent to it),
 * and a sweep that runs only while something is in flight (REST calls, MCP requests or streams).
 * Those in-flight requests keep the Durable Object awake, so a timer is safe there; with nothing
 * in flight, no timer runs and the object may hibernate.
 */
import { HEARTBEAT_TIMEOUT_MS } from '../../shared/constants.ts';
import type { HostConnection } from './types.ts';

/** How often the sweep looks while something is in flight. */
export const HEARTBEAT_SWEEP_MS = 500;

export interface HeartbeatPorts {
  now(): number;
  /** The current connection of every host the Hub knows. */
  connections(): HostConnection[];
  /** Whether anything is in flight that a silent host would leave waiting. */
  busy(): boolean;
  /** Drops a silent host: fails what is pending on it and forgets it. */
  drop(conn: HostConnection, silentMs: number): void;
}

export class HeartbeatWatch {
  readonly #ports: HeartbeatPorts;
  readonly #timeoutMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(ports: HeartbeatPorts, timeoutMs = HEARTBEAT_TIMEOUT_MS) {
    this.#ports = ports;
    this.#timeoutMs = timeoutMs;
  }

  /** How long the host has been silent, if longer than the timeout; otherwise 0. */
  silentFor(conn: HostConnection): number {
    if (!conn.lastSeen) return 0;
    const silent = this.#ports.now() - conn.lastSeen();
    return silent > this.#timeoutMs ? silent : 0;
  }

  /** True (and the host dropped) when `conn` has gone silent. */
  checkOne(conn: HostConnection): boolean {
    const silent = this.silentFor(conn);
    if (silent === 0) return false;
    this.#ports.drop(conn, silent);
    return true;
  }

  /** Starts the sweep, if it is not running; it stops itself once nothing is in flight. */
  arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.sweep(), HEARTBEAT_SWEEP_MS);
  }

  sweep(): void {
    for (const conn of this.#ports.connections()) this.checkOne(conn);
    if (!this.#ports.busy()) this.stop();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
