/**
 * Interval timers shared by many: every SSE stream of a Hub writes its keepalive (and its probe)
 * from one timer per period instead of a timer of its own. In a Durable Object, workerd keeps
 * some memory for every timer set and cleared (about 270 bytes; docs/reliability.md, "Calls
 * alone"), so a timer per stream grew the edge with every answer that went out as a stream (a
 * call with progress, a server's request to its client) for as long as the edge ran.
 *
 * A shared timer runs while anything listens on its period. With `linger` (the Hub's), it stops
 * at its first tick that finds no listener, at most one period after the last one left, so
 * streams that come and go one after another keep one timer; without, it stops as soon as its
 * last listener leaves.
 */
export class Ticks {
  readonly #linger: boolean;
  readonly #periods = new Map<number, { timer: ReturnType<typeof setInterval>; listeners: Set<() => void> }>();

  constructor(options: { linger?: boolean } = {}) {
    this.#linger = options.linger === true;
  }

  /** Calls `listener` every `periodMs` (the first time within one period) until the returned function is called. */
  every(periodMs: number, listener: () => void): () => void {
    let period = this.#periods.get(periodMs);
    if (!period) {
      const listeners = new Set<() => void>();
      const timer = setInterval(() => {
        if (listeners.size === 0) return this.#stop(periodMs);
        for (const each of [...listeners]) each();
      }, periodMs);
      period = { timer, listeners };
      this.#periods.set(periodMs, period);
    }
    // A function of its own, so the same listener added twice is removed once each.
    const entry = () => listener();
    const { listeners } = period;
    listeners.add(entry);
    return () => {
      if (!listeners.delete(entry) || listeners.size > 0 || this.#linger) return;
      this.#stop(periodMs);
    };
  }

  /** How many timers are running. */
  get running(): number {
    return this.#periods.size;
  }

  #stop(periodMs: number): void {
    const period = this.#periods.get(periodMs);
    if (!period) return;
    clearInterval(period.timer);
    this.#periods.delete(periodMs);
  }
}
