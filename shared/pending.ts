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
}

export class PendingRequests<K, T, M = undefined> {
  readonly #entries = new Map<K, Entry<T, M>>();

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
      if (options.timeoutMs !== undefined) {
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
    return count;
  }

  #take(key: K): Entry<T, M> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    return entry;
  }
}
