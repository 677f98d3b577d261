/**
 * A server-sent-events response body: events, keepalive comments, and a bound on what may wait
 * for a slow reader (past it the stream is closed rather than growing without limit).
 */
import { Ticks } from './ticks.ts';

const encoder = new TextEncoder();

/** The headers of every SSE response the edge sends. */
export const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

export interface SseOptions {
  keepaliveMs: number;
  /** Bytes that may be queued for the reader before the stream is given up. */
  maxQueuedBytes: number;
  /**
   * How often to write a two-byte comment that only checks the client is still there. A client
   * that disconnects is noticed at the next write, and nothing else reveals it (the runtime does
   * not watch an idle socket): a stream whose end ends its session probes often, so that the
   * session's process stops within a second of the disconnect, not at the next keepalive.
   */
  probeMs?: number;
  /**
   * Where the stream's keepalive and probe timers come from: a Hub shares one per period among
   * all its streams (see ticks.ts). Without, the stream has timers of its own.
   */
  ticks?: Ticks;
}

export class SseStream {
  readonly readable: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  readonly #stopKeepalive: () => void;
  readonly #stopProbe: (() => void) | undefined;
  readonly #onClose: (() => void)[] = [];

  constructor(opts: SseOptions) {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => this.#finish(),
      },
      { highWaterMark: opts.maxQueuedBytes, size: (chunk) => chunk.byteLength },
    );
    const ticks = opts.ticks ?? new Ticks();
    this.#stopKeepalive = ticks.every(opts.keepaliveMs, () => this.#write(': keepalive\n\n'));
    if (opts.probeMs) this.#stopProbe = ticks.every(opts.probeMs, () => this.#write(':\n'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs once when the stream ends, whichever side ends it. */
  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#onClose.push(listener);
  }

  /** Writes one event; false if the stream is gone. */
  send(data: string, fields: { id?: string; event?: string } = {}): boolean {
    let text = '';
    if (fields.event) text += `event: ${fields.event}\n`;
    if (fields.id) text += `id: ${fields.id}\n`;
    for (const line of data.split('\n')) text += `data: ${line}\n`;
    return this.#write(text + '\n');
  }

  /**
   * The priming event (SEP-1699): an event id with empty data, and how long a client should wait
   * before reconnecting; a client that loses the stream can resume from this id.
   */
  prime(id: string, retryMs: number): void {
    this.#write(`id: ${id}\nretry: ${retryMs}\ndata: \n\n`);
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.#controller.close();
    } catch {
      // already errored or cancelled
    }
    this.#finish();
  }

  #write(text: string): boolean {
    if (this.#closed) return false;
    const desired = this.#controller.desiredSize;
    if (desired !== null && desired <= 0) {
      // The reader has fallen behind by maxQueuedBytes: drop the stream, not the gateway's memory.
      try {
        this.#controller.error(new Error('SSE reader too slow'));
      } catch {
        // already closed
      }
      this.#finish();
      return false;
    }
    this.#controller.enqueue(encoder.encode(text));
    return true;
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopKeepalive();
    this.#stopProbe?.();
    for (const listener of this.#onClose.splice(0)) listener();
  }
}
