/**
 * One soak run: start the cluster, open the sessions, drive REST, Streamable HTTP and HTTP+SSE
 * clients at once, inject every fault on a printed schedule, then stop everything and count.
 */
import { mcpLoop, restLoop, RestSessions, type LoopControl } from './clients.ts';
import { Cluster, type HostId } from './cluster.ts';
import { FAULTS } from './faults.ts';
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
  memoryStart: { edgeKiB: number; hostsKiB: Record<HostId, number> };
  memoryEnd: { edgeKiB: number; hostsKiB: Record<HostId, number> };
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
    const at = schedule.map((_, i) => Math.floor((opts.calls * (i + 1)) / (schedule.length + 1)));
    opts.log(`edge at ${cluster.base}; fault schedule (by calls sent, or by time if the calls come slower):`);
    schedule.forEach((f, i) => opts.log(`  at call ${at[i]}: ${f.name}: ${f.description}`));

    const rest = new RestSessions();
    await rest.create(cluster.base, opts.restSessions);
    let sessions = opts.restSessions;
    const endBy = Date.now() + opts.minutes * 60_000;
    let faultsLeft = schedule.length;
    const control: LoopControl = {
      base: () => cluster.base,
      running: () => (tally.sent < opts.calls || faultsLeft > 0) && Date.now() < endBy,
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

    await until(() => tally.calls.length >= Math.min(300, at[0] ?? 300) || !control.running());
    const memoryStart = cluster.memory();
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
      await Promise.all(loops);
    } finally {
      clearInterval(progress);
    }
    await until(async () => ((await (await fetch(`${cluster.base}/status`)).json()) as { callsInFlight: number }).callsInFlight === 0, 10_000);
    const memoryEnd = cluster.memory();
    report = {
      startedAt: startedAt.toISOString(),
      seconds: 0,
      sessions,
      counts: tally.counts(),
      faults: tally.faultReports().map((f, i) => ({ ...f, note: notes[i] ?? 'not run' })),
      mismatches: tally.mismatches,
      lost: tally.lostCalls,
      memoryStart,
      memoryEnd,
      orphans: 0,
    };
  } finally {
    const orphans = await cluster.stop();
    if (report) report.orphans = orphans;
  }
  report.seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  return report;
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
  lines.push('| fault | first error after | errors stop after | error answers | done after | note |');
  lines.push('|---|---|---|---|---|---|');
  for (const f of r.faults) {
    const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v / 1000).toFixed(2)} s`);
    lines.push(`| ${f.name} | ${ms(f.firstErrorMs)} | ${ms(f.recoveredMs)} | ${f.errors} | ${ms(f.doneAt === undefined ? null : f.doneAt - f.injectedAt)} | ${f.note} |`);
  }
  lines.push('');
  const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
  lines.push(`memory, edge (CLI + workerd): ${mib(r.memoryStart.edgeKiB)} at the start, ${mib(r.memoryEnd.edgeKiB)} at the end`);
  for (const id of Object.keys(r.memoryStart.hostsKiB) as HostId[]) {
    lines.push(`memory, ${id} agent: ${mib(r.memoryStart.hostsKiB[id])} at the start, ${mib(r.memoryEnd.hostsKiB[id])} at the end`);
  }
  lines.push(`server processes left after the run: ${r.orphans}`);
  if (r.lost.length) lines.push(`lost calls (first ${r.lost.length}):`, ...r.lost.map((m) => `  ${m}`));
  if (r.mismatches.length) lines.push(`mismatches (first ${r.mismatches.length}):`, ...r.mismatches.map((m) => `  ${m}`));
  return lines.join('\n');
}
