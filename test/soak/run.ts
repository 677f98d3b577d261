/**
 * One soak run: start the cluster, open the sessions, drive REST, Streamable HTTP and HTTP+SSE
 * clients at once, inject every fault on a printed schedule, then stop everything and count.
 */
import { mcpLoop, restLoop, RestSessions, type LoopControl } from './clients.ts';
import { Cluster } from './cluster.ts';
import { faultCalls, FAULTS } from './faults.ts';
import { formatMemory, sampleMemory, type MemorySample } from './memory.ts';
import { Tally, type FaultReport, type TransportCounts, type TransportName } from './tally.ts';

export interface SoakOptions {
  /** Calls to make (the run goes on until every fault has been injected too). */
  calls: number;
  /** Hard cap on the run's length. */
  minutes: number;
  /** How many times each fault is injected. */
  rounds: number;
  restSessions: number;
  restLoops: number;
  streamableClients: number;
  sseClients: number;
  /** MCP clients (of each transport) on per-session processes that answer sampling requests. */
  privateClients: number;
  /** Size of the large echoes, in characters (REST results over 100,000 characters are cut). */
  largeBytes: number;
  /** Only these faults (by name); all of them when absent. */
  faults?: string[];
  /**
   * Calls answered before memory is first sampled (and before the first fault): every path
   * (each transport, tool, large results, sampling) has run by then, and the runtimes have
   * sized their heaps to the load. Default: the calls before the first fault, at most 5,000.
   */
  warmupCalls?: number;
  log(line: string): void;
}

/** Quiet time (no error answers) after a fault before the next one may start. */
const SETTLE_MS = 2000;

export const SHORT_RUN: Omit<SoakOptions, 'log'> = {
  calls: 5000,
  minutes: 3,
  rounds: 1,
  restSessions: 150,
  restLoops: 24,
  streamableClients: 40,
  sseClients: 20,
  privateClients: 3,
  largeBytes: 60_000,
};

export interface SoakReport {
  startedAt: string;
  seconds: number;
  sessions: number;
  counts: Record<TransportName, TransportCounts>;
  faults: (FaultReport & { note: string })[];
  mismatches: string[];
  lost: string[];
  /** After the warm-up, half-way (before the middle fault) and at the end, each with no call in flight. */
  memory: MemorySample[];
  orphans: number;
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const startedAt = new Date();
  const cluster = new Cluster();
  const tally = new Tally();
  let report: SoakReport | undefined;
  try {
    opts.log(`starting the edge and 3 hosts (host-c behind a TCP proxy)`);
    await cluster.start();
    const chosen = FAULTS.filter((f) => !opts.faults || opts.faults.includes(f.name));
    const schedule = Array.from({ length: opts.rounds }, () => chosen).flat();
    // Spread over the calls after the warm-up when its length is given, else over the whole run.
    const at = faultCalls(opts.calls, schedule.length, opts.warmupCalls);
    opts.log(`edge at ${cluster.base}; fault schedule (by calls sent, or by time if the calls come slower):`);
    schedule.forEach((f, i) => opts.log(`  at call ${at[i]}: ${f.name}: ${f.description}`));

    const rest = new RestSessions();
    await rest.create(cluster.base, opts.restSessions);
    let sessions = opts.restSessions;
    const endBy = Date.now() + opts.minutes * 60_000;
    let faultsLeft = schedule.length;
    let gate: Promise<void> = Promise.resolve();
    const control: LoopControl = {
      base: () => cluster.base,
      running: () => (tally.sent < opts.calls || faultsLeft > 0) && Date.now() < endBy,
      gate: () => gate,
    };
    const memory: MemorySample[] = [];
    /** Holds the clients back, waits until nothing is in flight, samples memory, lets them go. */
    const quiet = async (label: string) => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      try {
        await until(() => tally.inFlight === 0, 60_000);
        await until(async () => (await callsInFlight(cluster.base)) === 0, 10_000);
        const sample = await sampleMemory(cluster, label, tally.calls.length);
        memory.push(sample);
        const hosts = Object.entries(sample.hostHeapsKiB).map(([id, k]) => `${id} ${k === undefined ? '?' : Math.round(k / 1024)}`).join(', ');
        opts.log(`memory ${label} (${sample.calls} calls): edge RSS ${Math.round(sample.edgeKiB / 1024)} MiB; live heaps MiB: edge ${sample.edgeHeapKiB === undefined ? '?' : Math.round(sample.edgeHeapKiB / 1024)}, ${hosts}`);
      } finally {
        gate = Promise.resolve();
        release();
      }
    };
    const onSession = () => void sessions++;
    const loops: Promise<void>[] = [];
    for (let i = 0; i < opts.restLoops; i++) loops.push(restLoop(control, tally, rest, opts.largeBytes));
    for (let i = 0; i < opts.streamableClients; i++) loops.push(mcpLoop(control, tally, { transport: 'streamable', server: 'everything', largeBytes: opts.largeBytes * 5, onSession }));
    for (let i = 0; i < opts.sseClients; i++) loops.push(mcpLoop(control, tally, { transport: 'sse', server: 'everything', largeBytes: opts.largeBytes * 5, onSession }));
    for (let i = 0; i < opts.privateClients; i++) {
      loops.push(mcpLoop(control, tally, { transport: 'streamable', server: 'private', largeBytes: 0, onSession }));
      loops.push(mcpLoop(control, tally, { transport: 'sse', server: 'private', largeBytes: 0, onSession }));
    }

    const warmup = opts.warmupCalls ?? Math.min(5000, at[0] ?? opts.calls);
    opts.log(`warm-up: ${warmup} calls, then memory is sampled with no call in flight (again half-way and at the end)`);
    await until(() => tally.calls.length >= warmup || !control.running());
    await quiet('after the warm-up');
    const middle = Math.floor(schedule.length / 2);
    const progress = setInterval(() => {
      const m = cluster.memory();
      const hosts = Object.values(m.hostsKiB).map((k) => Math.round(k / 1024)).join('/');
      const d = cluster.edgeDetail();
      opts.log(`  ${tally.calls.length} calls answered, ${tally.inFlight} in flight; memory MiB: edge ${Math.round(m.edgeKiB / 1024)} (workerd ${Math.round(d.workerdKiB / 1024)}, storage ${(d.storageKiB / 1024).toFixed(1)}), hosts ${hosts}`);
    }, 10_000);
    const notes: string[] = [];
    try {
      for (let i = 0; i < schedule.length; i++) {
        // At its share of the calls, or of the time if the calls come slower than that.
        const byTime = tally.startedAt + ((endBy - tally.startedAt) * (i + 1)) / (schedule.length + 1);
        await until(() => tally.sent >= at[i]! || Date.now() >= byTime);
        if (Date.now() >= endBy) break;
        if (i === middle) await quiet('half-way');
        const fault = schedule[i]!;
        const record = tally.fault(fault.name, fault.description);
        opts.log(`fault ${i + 1}/${schedule.length} at call ${tally.sent} (+${((record.injectedAt - tally.startedAt) / 1000).toFixed(1)} s): ${fault.name}`);
        const note = await fault.run(cluster).catch((err: Error) => `FAILED: ${err.message.split('\n')[0]}`);
        record.doneAt = Date.now();
        // Let it settle before the next fault: 2 s without an error answer (at most 20 s).
        await until(() => Date.now() - Math.max(tally.lastErrorAt, record.doneAt!) > SETTLE_MS, 20_000);
        notes.push(note);
        faultsLeft--;
        opts.log(`  ${fault.name}: ${note} (${record.doneAt - record.injectedAt} ms)`);
      }
      faultsLeft = 0;
      if (schedule.length === 0) {
        await until(() => tally.sent >= opts.calls / 2 || !control.running());
        if (control.running()) await quiet('half-way');
      }
      await Promise.all(loops);
    } finally {
      clearInterval(progress);
    }
    await until(async () => (await callsInFlight(cluster.base)) === 0, 10_000);
    memory.push(await sampleMemory(cluster, 'end', tally.calls.length));
    report = {
      startedAt: startedAt.toISOString(),
      seconds: 0,
      sessions,
      counts: tally.counts(),
      faults: tally.faultReports().map((f, i) => ({ ...f, note: notes[i] ?? 'not run' })),
      mismatches: tally.mismatches,
      lost: tally.lostCalls,
      memory,
      orphans: 0,
    };
  } finally {
    const orphans = await cluster.stop();
    if (report) report.orphans = orphans;
  }
  report.seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  return report;
}

async function callsInFlight(base: string): Promise<number> {
  return ((await (await fetch(`${base}/status`)).json()) as { callsInFlight: number }).callsInFlight;
}

/** Polls `check` every 50 ms; `timeoutMs` bounds the wait (then it returns anyway). */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = Infinity): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.resolve(check()).catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function formatReport(r: SoakReport): string {
  const lines: string[] = [];
  lines.push(`soak run ${r.startedAt}: ${r.seconds} s, ${r.sessions} sessions`);
  lines.push('');
  lines.push('| transport | sent | correct | clear errors (code: count) | mismatched | lost | p50 ms | p99 ms |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const [name, c] of Object.entries(r.counts)) {
    const errors = Object.entries(c.errors).map(([code, n]) => `${code}: ${n}`).join(', ') || 'none';
    lines.push(`| ${name} | ${c.sent} | ${c.correct} | ${errors} | ${c.mismatched} | ${c.lost} | ${c.p50Ms} | ${c.p99Ms} |`);
  }
  lines.push('');
  lines.push('| fault | first error after | errors stop after | error answers | in flight then, failed: last answered after | done after | note |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const f of r.faults) {
    const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v / 1000).toFixed(2)} s`);
    const struck = f.inFlightFailed ? `${f.inFlightFailed}: ${ms(f.inFlightAnsweredMs)}` : '0';
    lines.push(`| ${f.name} | ${ms(f.firstErrorMs)} | ${ms(f.recoveredMs)} | ${f.errors} | ${struck} | ${ms(f.doneAt === undefined ? null : f.doneAt - f.injectedAt)} | ${f.note} |`);
  }
  lines.push('');
  lines.push(...formatMemory(r.memory), '');
  lines.push(`server processes left after the run: ${r.orphans}`);
  if (r.lost.length) lines.push(`lost calls (first ${r.lost.length}):`, ...r.lost.map((m) => `  ${m}`));
  if (r.mismatches.length) lines.push(`mismatches (first ${r.mismatches.length}):`, ...r.mismatches.map((m) => `  ${m}`));
  return lines.join('\n');
}
