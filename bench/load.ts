/** A closed-loop load generator (N calls, `concurrency` in flight), latency statistics and the table. */
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  calls: number;
  ok: number;
  errors: number;
  /** Distinct error reasons (digits folded) and how often each happened. */
  reasons: Map<string, number>;
  /** Latency of each successful call, in ms, sorted ascending. */
  latencies: Float64Array;
  wallMs: number;
  /** CPU of this (client) process over the run, in ms. */
  clientCpuMs: number;
  /** True if the run stopped early because too many calls failed. */
  aborted: boolean;
}

/**
 * Makes `calls` calls with `concurrency` of them in flight at all times. `call(i)` resolves on a
 * correct answer and rejects otherwise. Stops issuing calls after `maxErrors` failures.
 */
export async function runLoad(
  call: (i: number) => Promise<void>,
  concurrency: number,
  calls: number,
  maxErrors = 100,
): Promise<LoadResult> {
  const latencies = new Float64Array(calls);
  const reasons = new Map<string, number>();
  let next = 0;
  let ok = 0;
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (next < calls && errors < maxErrors) {
      const i = next++;
      const start = performance.now();
      try {
        await call(i);
        latencies[ok++] = performance.now() - start;
      } catch (err) {
        errors++;
        const reason = ((err as Error).message ?? String(err)).replace(/\d+/g, 'N').slice(0, 160);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const done = latencies.subarray(0, ok).sort();
  return {
    calls: next,
    ok,
    errors,
    reasons,
    latencies: done,
    wallMs,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    aborted: next < calls,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export type Cell = string | number | undefined;

/** A plain text table: numbers right-aligned, text left-aligned. */
export function formatTable(header: string[], rows: Cell[][]): string {
  const text = (c: Cell) => (c === undefined ? '-' : typeof c === 'number' ? (Number.isFinite(c) ? String(c) : '-') : c);
  const cells = [header, ...rows.map((r) => r.map(text))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] !== 'string' || /^[\d.,x%-]+$/.test(r[i] as string)));
  const line = (r: string[]) =>
    '| ' + r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (numeric[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

/** Fixed decimals, for table cells. */
export function fixed(n: number | undefined, digits: number): string | undefined {
  return n === undefined || !Number.isFinite(n) ? undefined : n.toFixed(digits);
}
