/** Reconnect delays: exponential from 250 ms to 30 s, with jitter so hosts do not reconnect in lockstep. */
export const BACKOFF_BASE_MS = 250;
export const BACKOFF_MAX_MS = 30_000;

export function nextDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 20));
  return ceiling / 2 + random() * (ceiling / 2);
}
