/**
 * Latency histograms with fixed, logarithmic bins: recording is one array increment, buckets of
 * any size merge by adding their bins, and a percentile is read back to within one bin (25 %).
 */

/** Upper bound of bin 0, in milliseconds; each next bin is `RATIO` times wider. */
const FIRST_MS = 1;
const RATIO = 1.25;
/** 1 ms to about 10 minutes; anything slower lands in the last bin. */
export const LATENCY_BINS = 60;
const LOG_RATIO = Math.log(RATIO);

/** The bin a duration falls in. */
export function binOf(ms: number): number {
  if (!(ms > FIRST_MS)) return 0;
  return Math.min(LATENCY_BINS - 1, Math.ceil(Math.log(ms / FIRST_MS) / LOG_RATIO - 1e-9));
}

/** The upper bound of a bin, in milliseconds. */
export function binUpperMs(bin: number): number {
  return FIRST_MS * RATIO ** bin;
}

/**
 * The `q` quantile (0 to 1) of the durations counted in `bins`: the upper bound of the bin that
 * holds it, never more than the slowest duration seen (`maxMs`). Null when nothing was counted.
 */
export function percentile(bins: ArrayLike<number>, total: number, q: number, maxMs: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i]!;
    if (seen >= rank) return round(Math.min(binUpperMs(i), maxMs));
  }
  return round(maxMs);
}

function round(ms: number): number {
  return ms >= 10 ? Math.round(ms) : Math.round(ms * 10) / 10;
}
