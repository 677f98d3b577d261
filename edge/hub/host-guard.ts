/**
 * What one host connection may make the Hub hold, and for how long: its hello within a deadline,
 * half-received chunked frames within a character budget and a deadline. A connection past any
 * of them is reported through `onViolation` (the Hub closes it); what it held is freed here.
 */
import { FrameDecoder, DEFAULT_LIMITS } from '../../shared/framing.ts';
import { MAX_FRAME_CHARS, WHOLE_MESSAGE_CHARS } from '../../shared/constants.ts';
import type { HostConnection } from './types.ts';

export interface GuardLimits {
  helloTimeoutMs: number;
  chunkTimeoutMs: number;
  /** Characters all half-received chunked frames of one connection may hold (also the largest frame). */
  maxFrameChars: number;
}

/** The limits, with the longest single message taken from a host (a whole frame): WHOLE_MESSAGE_CHARS, or maxFrameChars if smaller. */
export type HostLimits = GuardLimits & { maxMessageChars: number };

interface Guard {
  decoder: FrameDecoder;
  helloTimer?: ReturnType<typeof setTimeout>;
  chunkTimer?: ReturnType<typeof setTimeout>;
  /** Log lines about dropped frames: when the current window started, and how many in it. */
  logWindowStart: number;
  logged: number;
}

const LOG_WINDOW_MS = 60_000;
const LOGS_PER_WINDOW = 5;

export class HostGuards {
  readonly #guards = new Map<string, Guard>();
  readonly #limits: HostLimits;
  readonly #now: () => number;
  readonly #onViolation: (conn: HostConnection, reason: string) => void;

  constructor(limits: GuardLimits, now: () => number, onViolation: (conn: HostConnection, reason: string) => void) {
    this.#limits = { ...limits, maxMessageChars: Math.min(WHOLE_MESSAGE_CHARS, limits.maxFrameChars) };
    this.#now = now;
    this.#onViolation = onViolation;
  }

  get limits(): HostLimits {
    return this.#limits;
  }

  /** A new connection: its hello must be accepted within the deadline. */
  opened(conn: HostConnection): void {
    const guard = this.#guard(conn.connId);
    if (guard.helloTimer) clearTimeout(guard.helloTimer);
    guard.helloTimer = setTimeout(() => {
      guard.helloTimer = undefined;
      this.#onViolation(conn, `no accepted host.hello within ${this.#limits.helloTimeoutMs} ms`);
    }, this.#limits.helloTimeoutMs);
  }

  welcomed(connId: string): void {
    const guard = this.#guards.get(connId);
    if (guard?.helloTimer) {
      clearTimeout(guard.helloTimer);
      guard.helloTimer = undefined;
    }
  }

  decoder(conn: HostConnection): FrameDecoder {
    return this.#guard(conn.connId).decoder;
  }

  /** After each message: while a chunked frame is half-received, a timer watches its deadline. */
  checked(conn: HostConnection): void {
    const guard = this.#guards.get(conn.connId);
    if (!guard || guard.chunkTimer) return;
    const since = guard.decoder.oldestOpenSince;
    if (since === undefined) return;
    guard.chunkTimer = setTimeout(() => {
      guard.chunkTimer = undefined;
      const oldest = guard.decoder.oldestOpenSince;
      if (oldest === undefined) return;
      if (this.#now() - oldest >= this.#limits.chunkTimeoutMs) {
        this.#onViolation(conn, `a chunked frame was not finished within ${this.#limits.chunkTimeoutMs} ms`);
      } else {
        this.checked(conn);
      }
    }, Math.max(1, since + this.#limits.chunkTimeoutMs - this.#now()));
  }

  /** Whether a line about a bad or dropped frame may be logged now (a few per minute per connection). */
  mayLog(connId: string): boolean {
    const guard = this.#guards.get(connId);
    if (!guard) return true;
    const now = this.#now();
    if (now - guard.logWindowStart >= LOG_WINDOW_MS) {
      guard.logWindowStart = now;
      guard.logged = 0;
    }
    return guard.logged++ < LOGS_PER_WINDOW;
  }

  /** The connection is gone (or being closed): its timers stop and its half-received frames are freed. */
  closed(connId: string): void {
    const guard = this.#guards.get(connId);
    if (!guard) return;
    if (guard.helloTimer) clearTimeout(guard.helloTimer);
    if (guard.chunkTimer) clearTimeout(guard.chunkTimer);
    guard.decoder.clear();
    this.#guards.delete(connId);
  }

  /** Characters of half-received chunked frames held for every connection together. */
  get pendingChars(): number {
    let total = 0;
    for (const guard of this.#guards.values()) total += guard.decoder.pendingChars;
    return total;
  }

  /** Connections that hold state here (for tests and /status). */
  get size(): number {
    return this.#guards.size;
  }

  #guard(connId: string): Guard {
    let guard = this.#guards.get(connId);
    if (!guard) {
      const decoder = new FrameDecoder(
        {
          ...DEFAULT_LIMITS,
          // One message may hold a whole frame up to what the welcome names (chunks are smaller).
          maxFrameChars: Math.max(MAX_FRAME_CHARS, this.#limits.maxMessageChars),
          maxMessageChars: this.#limits.maxFrameChars,
          maxPendingChars: this.#limits.maxFrameChars,
        },
        this.#now,
      );
      guard = { decoder, logWindowStart: this.#now(), logged: 0 };
      this.#guards.set(connId, guard);
    }
    return guard;
  }
}
