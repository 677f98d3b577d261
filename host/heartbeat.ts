/**
 * The host's side of the heartbeats: it pings the edge every PING_INTERVAL_MS and expects an
 * answer (a pong, or any frame). The link is dead when the oldest ping sent since the edge was
 * last heard has gone unanswered for HEARTBEAT_TIMEOUT_MS less one interval: about as long
 * after the last pong as the edge waits after the last ping.
 *
 * Counting from the oldest unanswered ping, not from the last message heard, keeps a host whose
 * own event loop was blocked (a long synchronous task, a machine out of CPU) from calling a live
 * link dead: while it was blocked it sent no ping, so it expected no answer.
 */
import { HEARTBEAT_TIMEOUT_MS, PING_INTERVAL_MS } from '../shared/constants.ts';

export const UNANSWERED_LIMIT_MS = HEARTBEAT_TIMEOUT_MS - PING_INTERVAL_MS;

/** The connection a heartbeat watches. */
export interface HeartbeatLink {
  /** Whether this is still the agent's connection. */
  current(): boolean;
  /** Sends a ping; false when the connection is not open. */
  ping(): boolean;
  /** The edge has been silent too long: give the connection up. */
  dead(silentMs: number): void;
}

export class HostHeartbeat {
  readonly #now: () => number;
  #unansweredSince: number | undefined;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Something came from the edge: every ping sent so far counts as answered. */
  heard(): void {
    this.#unansweredSince = undefined;
  }

  /** A ping went out. */
  pinged(): void {
    this.#unansweredSince ??= this.#now();
  }

  /** One beat (every PING_INTERVAL_MS): a ping, or, past the limit, the link given up. */
  beat(link: HeartbeatLink): void {
    if (this.silentFor() === 0) {
      if (link.ping()) this.pinged();
      return;
    }
    // A timer that fires late (after a blocked event loop) runs before what arrived meanwhile is
    // read: look again once it has been (setImmediate runs after the I/O poll).
    setImmediate(() => {
      const silentMs = this.silentFor();
      if (link.current() && silentMs > 0) link.dead(silentMs);
    });
  }

  /** How long the oldest unanswered ping has waited, once past the limit; otherwise 0. */
  silentFor(): number {
    if (this.#unansweredSince === undefined) return 0;
    const waited = this.#now() - this.#unansweredSince;
    return waited > UNANSWERED_LIMIT_MS ? waited : 0;
  }
}
