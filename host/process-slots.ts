/**
 * The host's cap on server processes (`host.maxProcesses`), shared by every server: a start
 * takes a slot or waits briefly in a queue for one; past the wait it fails with HOST_BUSY (503
 * with Retry-After at the edge), never a hang. A process gives its slot back when it exits.
 */
import { GatewayError } from '../shared/errors.ts';
import type { InstanceOptions } from './instance.ts';

/** How long a start waits in the queue for a free slot. */
export const DEFAULT_QUEUE_WAIT_MS = 5000;

interface Waiter {
  grant(release: () => void): void;
}

export class ProcessSlots {
  readonly max: number;
  #used = 0;
  readonly #queue: Waiter[] = [];

  constructor(max: number) {
    this.max = max;
  }

  get used(): number {
    return this.#used;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** A slot now, or undefined when all are taken. The returned release may be called more than once. */
  tryAcquire(): (() => void) | undefined {
    if (this.#used >= this.max) return undefined;
    this.#used++;
    return this.#releaser();
  }

  /** A slot, waiting up to `waitMs` for one. */
  acquire(waitMs: number = DEFAULT_QUEUE_WAIT_MS): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          clearTimeout(timer);
          resolve(release);
        },
      };
      const timer = setTimeout(() => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(new GatewayError('HOST_BUSY', `this host already runs its maximum of ${this.max} server processes (host.maxProcesses); try again shortly`));
      }, waitMs);
      this.#queue.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      // The slot passes straight to the next in the queue, so the count never dips below the truth.
      if (next) next.grant(this.#releaser());
      else this.#used--;
    };
  }
}

/** An exit handler that gives the process's slot back first. */
export function releasing(release: () => void, onExit: InstanceOptions['onExit']): InstanceOptions['onExit'] {
  return (reason, instance) => {
    release();
    onExit?.(reason, instance);
  };
}
