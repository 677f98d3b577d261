/**
 * A server-sent-events response body: events, keepalive comments, and a bound on what may wait
 * for a slow reader (past it the stream is closed rather than growing without limit).
 *
 * What waits for the reader is kept as text (JS strings) and encoded only when the runtime asks
 * for the next chunk (`pull`), about 64 KiB at a time. Encoded chunks waiting in the stream's own
 * queue would be native buffers, and a runtime's allocator keeps the pages of freed native
 * buffers: one slow reader with 16 MiB waiting raised workerd's resident memory by about 20 MiB
 * for good. Strings live in the JS heap, which gives its pages back after a collection.
 *
 * The bound counts characters of that text: bytes, for ASCII (which JSON-RPC mostly is); other
 * text holds up to two bytes a character in the JS heap. Counting saves a pass over every message.
 */
import { Ticks } from './ticks.ts';

const encoder = new TextEncoder();
/** Pieces written together are handed to the runtime in chunks of about this many characters (a larger piece goes alone). */
const CHUNK_CHARS = 64 * 1024;

/** The headers of every SSE response the edge sends. */
export const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

export interface SseOptions {
  keepaliveMs: number;
  /** Characters (bytes, for ASCII) that may wait for the reader before the stream is given up. */
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
  /** Text written and not yet handed to the runtime, and its length. */
  #waiting: string[] = [];
  #waitingChars = 0;
  /** Closed by the gateway while text still waits: the stream ends once the reader has it. */
  #draining = false;
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
        cancel: () => {
          this.#drop();
          this.#finish();
        },
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

  /** Takes no more writes; the stream ends once the reader has what was written before. */
  close(): void {
    if (this.#closed) return;
    if (this.#waiting.length > 0) this.#draining = true;
    else this.#end();
    this.#finish();
  }

  /** Characters written and not yet read by the runtime. */
  get queuedChars(): number {
    return this.#waitingChars;
  }

  #write(text: string): boolean {
    if (this.#closed) return false;
    if (this.#waitingChars >= this.#maxQueuedBytes) {
      // The reader has fallen behind by maxQueuedBytes: drop the stream, not the gateway's memory.
      try {
        this.#controller.error(new Error('SSE reader too slow'));
      } catch {
        // already closed
      }
      this.#drop();
      this.#finish();
      return false;
    }
    this.#waiting.push(text);
    this.#waitingChars += text.length;
    if (this.#wanted) {
      this.#wanted = false;
      this.#controller.enqueue(this.#take());
    }
    return true;
  }

  #pull(): void {
    if (this.#waiting.length === 0) {
      this.#wanted = true;
      return;
    }
    this.#controller.enqueue(this.#take());
    if (this.#draining && this.#waiting.length === 0) this.#end();
  }

  /** The oldest pieces waiting, as one chunk of at least one piece and about CHUNK_CHARS at most. */
  #take(): Uint8Array {
    let count = 0;
    let chars = 0;
    while (count < this.#waiting.length && (count === 0 || chars + this.#waiting[count]!.length <= CHUNK_CHARS)) chars += this.#waiting[count++]!.length;
    const pieces = this.#waiting.splice(0, count);
    this.#waitingChars -= chars;
    return encoder.encode(pieces.length === 1 ? pieces[0]! : pieces.join(''));
  }

  #end(): void {
    try {
      this.#controller.close();
    } catch {
      // already errored or cancelled
    }
  }

  #drop(): void {
    this.#waiting = [];
    this.#waitingChars = 0;
    this.#draining = false;
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopKeepalive();
    this.#stopProbe?.();
    for (const listener of this.#onClose.splice(0)) listener();
  }
}

