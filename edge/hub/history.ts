/**
 * Traffic history kept in memory by the Hub: per server and per host, calls, errors by code and a
 * latency histogram in fixed time buckets (1 minute over the last hour, 15 minutes over the last
 * day). Recording a call is O(1) and touches no storage; `HistoryStore` writes what changed on a
 * timer and reads it back after hibernation or a restart.
 */
import { binOf, LATENCY_BINS, percentile } from './latency.ts';

export const RANGES = {
  hour: { bucketMs: 60_000, buckets: 60 },
  day: { bucketMs: 15 * 60_000, buckets: 96 },
} as const;
export type HistoryRange = keyof typeof RANGES;
export const HISTORY_RANGES = Object.keys(RANGES) as HistoryRange[];
/** The same, as an array to walk on the hot path. */
const RANGE_LIST = HISTORY_RANGES.map((range) => ({ range, ...RANGES[range] }));
export type SeriesKind = 'server' | 'host';

/** Servers and hosts tracked at once; past it the one idle longest is forgotten. */
export const MAX_SERIES = 256;
/** Recent errors kept. */
export const MAX_RECENT_ERRORS = 50;

export interface Bucket {
  /** Start of the bucket, epoch ms (a multiple of its range's bucketMs). */
  start: number;
  calls: number;
  errors: number;
  /** Errors by code (GatewayError codes, and TOOL_ERROR for tool results with isError). */
  codes: Record<string, number>;
  bins: Uint32Array;
  maxMs: number;
  /** Changed since the last flush (then it is in the dirty list too). */
  dirty: boolean;
}

export interface RecentError {
  at: number;
  server: string;
  host: string | null;
  code: string;
  /** What was asked: a JSON-RPC method, and the tool for tools/call. Never arguments or messages. */
  what: string;
}

/** One series over one range, oldest bucket first, as /status reports it. */
export interface SeriesWindow {
  start: string;
  bucketMs: number;
  calls: number[];
  errors: number[];
  errorsByCode: Record<string, number[]>;
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
}

export interface DirtyBucket {
  kind: SeriesKind;
  name: string;
  range: HistoryRange;
  bucket: Bucket;
}

interface Series {
  kind: SeriesKind;
  name: string;
  touched: number;
  rings: Record<HistoryRange, (Bucket | undefined)[]>;
}

export function emptyBucket(start: number): Bucket {
  return { start, calls: 0, errors: 0, codes: {}, bins: new Uint32Array(LATENCY_BINS), maxMs: 0, dirty: false };
}

export class History {
  readonly #now: () => number;
  readonly #onDirty: () => void;
  readonly #series = { server: new Map<string, Series>(), host: new Map<string, Series>() };
  #dirty: DirtyBucket[] = [];
  #newErrors: RecentError[] = [];
  #evicted: { kind: SeriesKind; name: string }[] = [];
  readonly #recent: RecentError[] = [];

  /** `onDirty` is called when the first change after a flush is recorded (to schedule the next). */
  constructor(now: () => number, onDirty: () => void) {
    this.#now = now;
    this.#onDirty = onDirty;
  }

  /** One finished call: `code` is null for a success. */
  record(server: string, host: string | null, ms: number, code: string | null, what: string): void {
    const at = this.#now();
    const wasClean = !this.hasChanges();
    const bin = binOf(ms);
    this.#add(this.#get('server', server, at), at, bin, ms, code);
    if (host !== null) this.#add(this.#get('host', host, at), at, bin, ms, code);
    if (code !== null) {
      const error = { at, server, host, code, what: what.slice(0, 120) };
      this.#recent.push(error);
      if (this.#recent.length > MAX_RECENT_ERRORS) this.#recent.shift();
      this.#newErrors.push(error);
      if (this.#newErrors.length > MAX_RECENT_ERRORS) this.#newErrors.shift();
    }
    if (wasClean) this.#onDirty();
  }

  hasChanges(): boolean {
    return this.#dirty.length > 0 || this.#newErrors.length > 0 || this.#evicted.length > 0;
  }

  /** What changed since the last call, for the store to write. */
  takeChanges(): { buckets: DirtyBucket[]; errors: RecentError[]; evicted: { kind: SeriesKind; name: string }[] } {
    for (const { bucket } of this.#dirty) bucket.dirty = false;
    const changes = { buckets: this.#dirty, errors: this.#newErrors, evicted: this.#evicted };
    this.#dirty = [];
    this.#newErrors = [];
    this.#evicted = [];
    return changes;
  }

  /** Puts back a bucket read from storage (skipped if it is out of its range's window). */
  restore(kind: SeriesKind, name: string, range: HistoryRange, bucket: Bucket): void {
    const now = this.#now();
    const { bucketMs, buckets } = RANGES[range];
    if (bucket.start <= now - bucketMs * buckets || bucket.start % bucketMs !== 0) return;
    const series = this.#get(kind, name, now);
    const ring = series.rings[range];
    const slot = (bucket.start / bucketMs) % buckets;
    if (!ring[slot] || ring[slot]!.start < bucket.start) ring[slot] = bucket;
  }

  restoreErrors(errors: RecentError[]): void {
    this.#recent.splice(0, this.#recent.length, ...errors.slice(-MAX_RECENT_ERRORS));
  }

  recentErrors(): RecentError[] {
    return [...this.#recent];
  }

  /** Every server's and host's window over `range`, each as dense arrays, oldest bucket first. */
  snapshot(range: HistoryRange): { servers: Record<string, SeriesWindow>; hosts: Record<string, SeriesWindow> } {
    const now = this.#now();
    const out = { servers: {} as Record<string, SeriesWindow>, hosts: {} as Record<string, SeriesWindow> };
    for (const series of [...this.#series.server.values(), ...this.#series.host.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      (series.kind === 'server' ? out.servers : out.hosts)[series.name] = windowOf(series.rings[range], range, now);
    }
    return out;
  }

  #get(kind: SeriesKind, name: string, now: number): Series {
    let series = this.#series[kind].get(name);
    if (!series) {
      if (this.#series.server.size + this.#series.host.size >= MAX_SERIES) this.#evictOldest();
      series = { kind, name, touched: now, rings: { hour: new Array(RANGES.hour.buckets), day: new Array(RANGES.day.buckets) } };
      this.#series[kind].set(name, series);
    }
    series.touched = now;
    return series;
  }

  #evictOldest(): void {
    let oldest: Series | undefined;
    for (const series of [...this.#series.server.values(), ...this.#series.host.values()]) if (!oldest || series.touched < oldest.touched) oldest = series;
    if (!oldest) return;
    const gone = oldest;
    this.#series[gone.kind].delete(gone.name);
    this.#dirty = this.#dirty.filter((d) => d.kind !== gone.kind || d.name !== gone.name);
    this.#evicted.push({ kind: gone.kind, name: gone.name });
  }

  #add(series: Series, at: number, bin: number, ms: number, code: string | null): void {
    for (const { range, bucketMs, buckets } of RANGE_LIST) {
      const index = Math.floor(at / bucketMs);
      const ring = series.rings[range];
      const slot = index % buckets;
      let bucket = ring[slot];
      if (!bucket || bucket.start !== index * bucketMs) ring[slot] = bucket = emptyBucket(index * bucketMs);
      bucket.calls++;
      bucket.bins[bin]!++;
      if (ms > bucket.maxMs) bucket.maxMs = ms;
      if (code !== null) {
        bucket.errors++;
        bucket.codes[code] = (bucket.codes[code] ?? 0) + 1;
      }
      if (!bucket.dirty) {
        bucket.dirty = true;
        this.#dirty.push({ kind: series.kind, name: series.name, range, bucket });
      }
    }
  }
}

function windowOf(ring: (Bucket | undefined)[], range: HistoryRange, now: number): SeriesWindow {
  const { bucketMs, buckets } = RANGES[range];
  const first = Math.floor(now / bucketMs) - buckets + 1;
  const window: SeriesWindow = { start: new Date(first * bucketMs).toISOString(), bucketMs, calls: [], errors: [], errorsByCode: {}, p50: [], p95: [], p99: [] };
  for (let i = 0; i < buckets; i++) {
    const start = (first + i) * bucketMs;
    const found = ring[(first + i) % buckets];
    const bucket = found && found.start === start ? found : undefined;
    window.calls.push(bucket?.calls ?? 0);
    window.errors.push(bucket?.errors ?? 0);
    for (const [code, n] of Object.entries(bucket?.codes ?? {})) (window.errorsByCode[code] ??= new Array<number>(buckets).fill(0))[i] = n;
    window.p50.push(bucket ? percentile(bucket.bins, bucket.calls, 0.5, bucket.maxMs) : null);
    window.p95.push(bucket ? percentile(bucket.bins, bucket.calls, 0.95, bucket.maxMs) : null);
    window.p99.push(bucket ? percentile(bucket.bins, bucket.calls, 0.99, bucket.maxMs) : null);
  }
  return window;
}
