/**
 * Writes made in one turn of the event loop leave together. The first write of a turn corks the
 * stream and the end of the turn (`process.nextTick`, which runs once the turn's promise
 * callbacks are done) uncorks it: 64 requests the edge sent at once reach a server's stdin in
 * one system call, not 64. No write waits past the turn it was made in, so a single call is
 * never delayed.
 */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

const corked = new WeakSet<Corkable>();

/** Corks `stream` until the end of this turn, unless it already is. */
export function corkForTurn(stream: Corkable): void {
  if (corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  process.nextTick(() => {
    corked.delete(stream);
    stream.uncork();
  });
}
