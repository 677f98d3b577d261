/**
 * A server's stdout cut into lines, as bytes: a line whole within one read is passed as that
 * read's range (no copy), one spread over reads is joined once. A line past `maxBytes` is dropped
 * (said through `onDrop`), with everything up to its end.
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

export class StdoutLines {
  /** The start of a line whose end has not come yet, as read (a character may be split between reads). */
  #pieces: Buffer[] = [];
  #pieceBytes = 0;
  #discarding = false;

  readonly maxBytes: number;
  readonly #onLine: (bytes: Buffer, from: number, to: number) => void;
  readonly #onDrop: (message: string, fields: Record<string, number>) => void;

  constructor(maxBytes: number, onLine: (bytes: Buffer, from: number, to: number) => void, onDrop: (message: string, fields: Record<string, number>) => void) {
    this.maxBytes = maxBytes;
    this.#onLine = onLine;
    this.#onDrop = onDrop;
  }

  push(data: Buffer): void {
    let start = 0;
    let newline = data.indexOf(0x0a);
    while (newline !== -1) {
      if (this.#discarding) {
        this.#discarding = false;
      } else {
        const bytes = this.#pieceBytes + newline - start;
        if (bytes > this.maxBytes) this.#onDrop('dropped an over-long line from the server', { bytes, max: this.maxBytes });
        else if (this.#pieces.length === 0) this.#onLine(data, start, newline);
        else this.#onLine(Buffer.concat([...this.#pieces, data.subarray(start, newline)], bytes), 0, bytes);
        this.#pieces = [];
        this.#pieceBytes = 0;
      }
      start = newline + 1;
      newline = data.indexOf(0x0a, start);
    }
    if (start < data.length && !this.#discarding) {
      this.#pieces.push(data.subarray(start));
      this.#pieceBytes += data.length - start;
      if (this.#pieceBytes > this.maxBytes) {
        this.#onDrop('dropping an over-long line from the server', { max: this.maxBytes });
        this.#pieces = [];
        this.#pieceBytes = 0;
        this.#discarding = true;
      }
    }
  }
}
