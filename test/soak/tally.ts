/**
 * What the soak run counts: per transport, every call sent and how it ended (correct, a clear
 * error and which, mismatched, lost), latencies, and the faults with their windows.
 */
export type TransportName = 'rest' | 'streamable' | 'sse';
export const TRANSPORTS: TransportName[] = ['rest', 'streamable', 'sse'];

export type Outcome = { kind: 'correct' } | { kind: 'error'; code: string } | { kind: 'mismatched'; detail: string } | { kind: 'lost' };

interface CallRecord {
  transport: TransportName;
  startedAt: number;
  endedAt: number;
  outcome: Outcome['kind'];
}

export interface FaultRecord {
  name: string;
  description: string;
  injectedAt: number;
  /** When the fault's own action had finished (a host restarted and back, say). */
  doneAt?: number;
}

export interface TransportCounts {
  sent: number;
  correct: number;
  errors: Record<string, number>;
  mismatched: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
}

export interface FaultReport extends FaultRecord {
  /** ms from injection to the first error answer (any transport); null if none. */
  firstErrorMs: number | null;
  /** ms from injection to the last error answer before the next fault: after it, calls succeed. */
  recoveredMs: number | null;
  errors: number;
  /** Calls already in flight when the fault struck that ended in an error or were lost (on a killed host: all of its calls). */
  inFlightFailed: number;
  /** ms from injection to the last of those answers; null if none. */
  inFlightAnsweredMs: number | null;
}

export class Tally {
  readonly calls: CallRecord[] = [];
  readonly faults: FaultRecord[] = [];
  readonly mismatches: string[] = [];
  readonly lostCalls: string[] = [];
  readonly startedAt = Date.now();
  readonly #errors = new Map<TransportName, Map<string, number>>();
  inFlight = 0;
  /** When the latest error (or lost) answer came in. */
  lastErrorAt = 0;

  get sent(): number {
    return this.calls.length + this.inFlight;
  }

  /** Records the start of a call; the returned function records how it ended. */
  start(transport: TransportName, what = ''): (outcome: Outcome) => void {
    const startedAt = Date.now();
    this.inFlight++;
    let done = false;
    return (outcome) => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.calls.push({ transport, startedAt, endedAt: Date.now(), outcome: outcome.kind });
      if (outcome.kind === 'error' || outcome.kind === 'lost') this.lastErrorAt = Date.now();
      if (outcome.kind === 'error') {
        const byCode = this.#errors.get(transport) ?? new Map<string, number>();
        byCode.set(outcome.code, (byCode.get(outcome.code) ?? 0) + 1);
        this.#errors.set(transport, byCode);
      }
      if (outcome.kind === 'mismatched' && this.mismatches.length < 20) this.mismatches.push(`${transport}: ${outcome.detail}`);
      if (outcome.kind === 'lost' && this.lostCalls.length < 20) this.lostCalls.push(`${transport} ${what}, sent at +${((startedAt - this.startedAt) / 1000).toFixed(1)} s`);
    };
  }

  fault(name: string, description: string): FaultRecord {
    const record: FaultRecord = { name, description, injectedAt: Date.now() };
    this.faults.push(record);
    return record;
  }

  faultReports(): FaultReport[] {
    return this.faults.map((fault, i) => {
      const until = this.faults[i + 1]?.injectedAt ?? Infinity;
      const errors = this.calls.filter((c) => (c.outcome === 'error' || c.outcome === 'lost') && c.endedAt >= fault.injectedAt && c.endedAt < until);
      const first = errors.length ? Math.min(...errors.map((c) => c.endedAt)) : null;
      const last = errors.length ? Math.max(...errors.map((c) => c.endedAt)) : null;
      const struck = errors.filter((c) => c.startedAt < fault.injectedAt);
      return {
        ...fault,
        errors: errors.length,
        inFlightFailed: struck.length,
        inFlightAnsweredMs: struck.length ? Math.max(...struck.map((c) => c.endedAt)) - fault.injectedAt : null,
        firstErrorMs: first === null ? null : first - fault.injectedAt,
        recoveredMs: last === null ? null : Math.max(last, fault.doneAt ?? 0) - fault.injectedAt,
      };
    });
  }

  /** Per transport; latencies only of calls that started and ended outside every fault window. */
  counts(): Record<TransportName, TransportCounts> {
    const windows = this.faultReports().map((f) => [f.injectedAt, f.injectedAt + Math.max(f.recoveredMs ?? 0, (f.doneAt ?? f.injectedAt) - f.injectedAt) + 1000] as const);
    const calm = (c: CallRecord) => windows.every(([from, to]) => c.endedAt < from || c.startedAt > to);
    const out = {} as Record<TransportName, TransportCounts>;
    for (const transport of TRANSPORTS) {
      const mine = this.calls.filter((c) => c.transport === transport);
      const latencies = mine.filter((c) => c.outcome === 'correct' && calm(c)).map((c) => c.endedAt - c.startedAt).sort((a, b) => a - b);
      out[transport] = {
        sent: mine.length,
        correct: mine.filter((c) => c.outcome === 'correct').length,
        errors: Object.fromEntries(this.#errors.get(transport) ?? []),
        mismatched: mine.filter((c) => c.outcome === 'mismatched').length,
        lost: mine.filter((c) => c.outcome === 'lost').length,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
      };
    }
    return out;
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
