/**
 * Requests waiting for an answer, in the spirit of the MCP SDK's `Protocol`: each has a key, an
 * optional deadline, data of its own (where its answer goes, whom to tell on cancel), and ends
 * exactly once: answered, failed, timed out, or failed with every other when its connection
 * closes. Every place in the gateway that waits for an answer keeps its requests in one of these.
 */
import { GatewayError } from './errors.ts';

export interface WaitOptions<M> {
  /** What the request carries besides its promise (its stream, its connection, ...). */
  meta: M;
  /** Time allowed for the answer; none: the request waits until answered, failed or closed. */
  timeoutMs?: number;
  /** The error a request past its deadline fails with; runs after it is removed, so it may tell the other side. */
  onTimeout?: (meta: M) => GatewayError;
}

interface Entry<T, M> {
  meta: M;
  resolve(value: T): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** With one shared timer: when it is due (ms since the epoch), and how it fails then. */
  deadline?: number;
  expire?: () => void;
}

export interface PendingOptions {
  /**
   * One timer for every deadline instead of one per request (see `#arm`): a hot path saves a
   * setTimeout and a clearTimeout per request. The timer may outlive the last request by up to
   * one timeout, then stops; a connection's close (`rejectAll`) that leaves nothing stops it at once.
   */
  oneTimer?: boolean;
  /**
   * With `oneTimer`, the shared timer does not keep a Node process alive on its own (`unref`): it
   * may outlive the last request, and a process that is done should not wait for it. Ignored
   * where timers have no `unref` (workerd).
   */
  unrefTimer?: boolean;
}

export class PendingRequests<K, T, M = undefined> {
  readonly #entries = new Map<K, Entry<T, M>>();
  readonly #oneTimer: boolean;
  readonly #unrefTimer: boolean;
  /** The shared timer, and the deadline it was set for. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = 0;

  constructor(options: PendingOptions = {}) {
    this.#oneTimer = options.oneTimer === true;
    this.#unrefTimer = options.unrefTimer === true;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  meta(key: K): M | undefined {
    return this.#entries.get(key)?.meta;
  }

  /** Every waiting request's key and data, oldest first. */
  entries(): [K, M][] {
    return [...this.#entries].map(([key, entry]) => [key, entry.meta]);
  }

  /** Starts waiting for `key`'s answer. A key already waiting is refused with BAD_REQUEST. */
  wait(key: K, options: WaitOptions<M>): Promise<T> {
    if (this.#entries.has(key)) return Promise.reject(new GatewayError('BAD_REQUEST', `request ${String(key)} is already waiting for an answer`));
    return new Promise<T>((resolve, reject) => {
      const entry: Entry<T, M> = { meta: options.meta, resolve, reject, timer: undefined };
      if (options.timeoutMs !== undefined && this.#oneTimer) {
        entry.deadline = Date.now() + options.timeoutMs;
        entry.expire = () => reject(options.onTimeout?.(entry.meta) ?? new GatewayError('REQUEST_TIMEOUT', `no answer within ${options.timeoutMs} ms`));
        this.#arm(entry.deadline);
      } else if (options.timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          if (this.#entries.get(key) !== entry) return;
          this.#entries.delete(key);
          reject(options.onTimeout?.(entry.meta) ?? new GatewayError('REQUEST_TIMEOUT', `no answer within ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      }
      this.#entries.set(key, entry);
    });
  }

  /** Answers `key`; returns its data, or undefined when nothing waits for it (late or unknown). */
  resolve(key: K, value: T): M | undefined {
    const entry = this.#take(key);
    entry?.resolve(value);
    return entry?.meta;
  }

  /** Fails `key` (cancelled, or the other side reported an error); returns its data. */
  reject(key: K, error: Error): M | undefined {
    const entry = this.#take(key);
    entry?.reject(error);
    return entry?.meta;
  }

  /** Fails every request (or those `which` picks) with the error `why` gives: a connection closed. */
  rejectAll(why: (meta: M, key: K) => Error, which: (meta: M, key: K) => boolean = () => true): number {
    let count = 0;
    for (const [key, entry] of [...this.#entries]) {
      if (!which(entry.meta, key)) continue;
      this.#take(key);
      entry.reject(why(entry.meta, key));
      count++;
    }
    if (this.#entries.size === 0) this.#disarm();
    return count;
  }

  /** The shared timer runs for `deadline` or earlier; a later deadline finds it set already. */
  #arm(deadline: number): void {
    if (this.#timer !== undefined) {
      if (this.#timerAt <= deadline) return;
      clearTimeout(this.#timer);
    }
    this.#timerAt = deadline;
    this.#timer = this.#setTimer(Math.max(0, deadline - Date.now()));
  }

  #setTimer(delayMs: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => this.#sweep(), delayMs);
    if (this.#unrefTimer) (timer as { unref?: () => unknown }).unref?.();
    return timer;
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Fails every request whose deadline has come, then sets the timer for the next one. "Now" is
   * never before the deadline the timer was set for (a timer fires at or after it), so a clock
   * that lags the timers (a test's) cannot make it fire again and again for the same request.
   */
  #sweep(): void {
    const now = Math.max(this.#timerAt, Date.now());
    this.#timer = undefined;
    let next: number | undefined;
    for (const [key, entry] of this.#entries) {
      if (entry.deadline === undefined) continue;
      if (entry.deadline <= now) {
        this.#entries.delete(key);
        entry.expire!();
      } else if (next === undefined || entry.deadline < next) {
        next = entry.deadline;
      }
    }
    if (next !== undefined && this.#timer === undefined) {
      this.#timerAt = next;
      this.#timer = this.#setTimer(next - now);
    }
  }

  #take(key: K): Entry<T, M> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    return entry;
  }
}
