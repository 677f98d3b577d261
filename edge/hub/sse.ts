/**
 * A server-sent-events response body: events, keepalive comments, and a bound on what may wait
 * for a slow reader (past it the stream is closed rather than growing without limit).
 *
 * What waits for the reader is kept as text (JS strings) and encoded only when the runtime asks
 * for the next chunk (`pull`), all of it in one chunk. Encoded chunks waiting in the stream's own
 * queue would be native buffers, and a runtime's allocator keeps the pages of freed native
 * buffers: one slow reader with 16 MiB waiting raised workerd's resident memory by about 20 MiB
 * for good. Strings live in the JS heap, which gives its pages back after a collection.
 */
import { Ticks } from './ticks.ts';

const encoder = new TextEncoder();
/** Pieces written together are handed to the runtime in chunks of about this size (a larger piece goes alone). */
const CHUNK_BYTES = 64 * 1024;

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
  /** Text written and not yet handed to the runtime, each piece's size in UTF-8 bytes, and their sum. */
  #waiting: string[] = [];
  #sizes: number[] = [];
  #waitingBytes = 0;
  /** The runtime asked for a chunk and got none yet: the next write goes straight to it. */
  #wanted = false;
  readonly #maxQueuedBytes: number;
  readonly #stopKeepalive: () => void;
  readonly #stopProbe: (() => void) | undefined;
  readonly #onClose: (() => void)[] = [];

  constructor(opts: SseOptions) {
    this.#maxQueuedBytes = opts.maxQueuedBytes;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#pull(),
        cancel: () => this.#finish(),
      },
      // Nothing is read ahead: a chunk is made when the runtime reads one.
      { highWaterMark: 0 },
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

  /** Ends the stream once the reader has what was written before. */
  close(): void {
    if (this.#closed) return;
    try {
      while (this.#waiting.length > 0) this.#controller.enqueue(this.#take());
      this.#controller.close();
    } catch {
      // already errored or cancelled
    }
    this.#finish();
  }

  /** Bytes written and not yet read by the runtime. */
  get queuedBytes(): number {
    return this.#waitingBytes;
  }

  #write(text: string): boolean {
    if (this.#closed) return false;
    if (this.#waitingBytes >= this.#maxQueuedBytes) {
      // The reader has fallen behind by maxQueuedBytes: drop the stream, not the gateway's memory.
      try {
        this.#controller.error(new Error('SSE reader too slow'));
      } catch {
        // already closed
      }
      this.#finish();
      return false;
    }
    const bytes = utf8Bytes(text);
    this.#waiting.push(text);
    this.#sizes.push(bytes);
    this.#waitingBytes += bytes;
    if (this.#wanted) {
      this.#wanted = false;
      this.#controller.enqueue(this.#take());
    }
    return true;
  }

  #pull(): void {
    if (this.#waiting.length > 0) this.#controller.enqueue(this.#take());
    else this.#wanted = true;
  }

  /** The oldest pieces waiting, as one chunk of at least one piece and about CHUNK_BYTES at most. */
  #take(): Uint8Array {
    let count = 0;
    let bytes = 0;
    while (count < this.#waiting.length && (count === 0 || bytes + this.#sizes[count]! <= CHUNK_BYTES)) bytes += this.#sizes[count++]!;
    const pieces = this.#waiting.splice(0, count);
    this.#sizes.splice(0, count);
    this.#waitingBytes -= bytes;
    return encoder.encode(pieces.length === 1 ? pieces[0]! : pieces.join(''));
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting = [];
    this.#sizes = [];
    this.#waitingBytes = 0;
    this.#stopKeepalive();
    this.#stopProbe?.();
    for (const listener of this.#onClose.splice(0)) listener();
  }
}

/** The length of `text` in UTF-8, without encoding it. */
function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) i++; // a surrogate pair: 4 bytes for 2 units
    else bytes += 2;
  }
  return bytes;
}
