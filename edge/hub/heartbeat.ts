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
import { CLOSE_SILENT, HEARTBEAT_TIMEOUT_MS } from '../../shared/constants.ts';
import type { HostConnection, HubRuntime } from './types.ts';

/** A host of protocol 1.0 pings every 20 s and gave up after three silent intervals; judged the same. */
export const LEGACY_HEARTBEAT_TIMEOUT_MS = 65_000;

/**
 * How often the sweep looks while something is in flight: often, so that a sweep delayed by a
 * busy object or a loaded machine still comes well within the 5 s a stalled link is allowed.
 */
export const HEARTBEAT_SWEEP_MS = 250;

export interface HeartbeatPorts {
  now(): number;
  /** The current connection of every host the Hub knows. */
  connections(): HostConnection[];
  /** Whether anything is in flight that a silent host would leave waiting. */
  busy(): boolean;
  log: HubRuntime['log'];
  /** Whether the host speaks a protocol from before these heartbeats (1.0: a ping every 20 s). */
  pingsSlowly(conn: HostConnection): boolean;
  /** The silent host's socket was closed: fail what is pending on it and forget it, as for any close. */
  closed(conn: HostConnection, reason: string): void;
}

export class HeartbeatWatch {
  readonly #ports: HeartbeatPorts;
  readonly #timeoutMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweptAt = 0;

  constructor(ports: HeartbeatPorts, timeoutMs = HEARTBEAT_TIMEOUT_MS) {
    this.#ports = ports;
    this.#timeoutMs = timeoutMs;
  }

  /** How long the host has been silent, if longer than the timeout; otherwise 0. */
  silentFor(conn: HostConnection): number {
    if (!conn.lastSeen) return 0;
    const now = this.#ports.now();
    // A frame within the timeout settles it (lastSeen is never older than the last frame).
    const frameAt = conn.lastFrameAt?.();
    if (frameAt !== undefined && now - frameAt <= this.#timeoutMs) return 0;
    const silent = now - conn.lastSeen();
    if (silent <= this.#timeoutMs) return 0;
    // Asked only past the timeout, which a current host never reaches while it is alive.
    return !this.#ports.pingsSlowly(conn) || silent > LEGACY_HEARTBEAT_TIMEOUT_MS ? silent : 0;
  }

  /**
   * True when `conn` has gone silent; the host is then dropped, though no close arrived: its
   * calls fail now (503), its sessions end, new ones go to other hosts. Its socket is closed
   * too (4008); a host that was only slow sees the close, or its own heartbeat fails, and
   * reconnects.
   */
  checkOne(conn: HostConnection): boolean {
    const silentMs = this.silentFor(conn);
    if (silentMs === 0) return false;
    const reason = `no heartbeat for ${silentMs} ms`;
    this.#ports.log('warn', 'host silent; dropping it', { host: conn.hostId, silentMs });
    try {
      conn.close(CLOSE_SILENT, reason);
    } catch {
      // already closing
    }
    this.#ports.closed(conn, reason);
    return true;
  }

  /** Starts the sweep, if it is not running; it stops itself once nothing is in flight. */
  arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.sweep(), HEARTBEAT_SWEEP_MS);
  }

  /**
   * Sweeps now if the armed sweep is overdue. Called on every frame from any host: under load a
   * timer waits behind the frames queued before it, but a frame from another host is itself a
   * moment to look, so a stalled link is not noticed later for the load on the others.
   */
  sweepIfDue(): void {
    if (this.#timer !== undefined && this.#ports.now() - this.#sweptAt >= HEARTBEAT_SWEEP_MS) this.sweep();
  }

  sweep(): void {
    this.#sweptAt = this.#ports.now();
    for (const conn of this.#ports.connections()) this.checkOne(conn);
    if (!this.#ports.busy()) this.stop();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
