/** The comparison's tables: each target's numbers, the gateway's ratios to the best peer, and the targets' checks. */
import type { Transport } from './clients.ts';
import { checks, median, pct, perCall } from './compare-checks.ts';
import type { Group, Options } from './compare.ts';
import { fixed, formatTable, type Cell } from './load.ts';

export interface Summary {
  name: string;
  group: Group;
  transport: Transport;
  /** RSS of the target's own processes (edge + host, or the proxy; not servers), started, no session. */
  idleRssMiB?: number;
  /** The same after the run, with every session closed. */
  rssAfterMiB?: number;
  /** Latency of every sequential call, ms. */
  seq: number[];
  seqCalls: number;
  /** Calls/s at c=64, one value per round. */
  par: number[];
  /** CPU over the sequential calls, by role, ms. */
  cpuMs: Partial<Record<'edge' | 'host' | 'proxy' | 'server', number>>;
  mib1Ms: number[];
  mib5Ms: number[];
  mib5Error: string | undefined;
  /** New session to first answer, ms. */
  startMs: number[];
  /** A new session failed: later ones were not tried. */
  startFailed: boolean;
  /** End of a session (disconnect or DELETE) to its process gone, ms. */
  goneMs: number[];
  /** Sessions whose process was still running GONE_WAIT_MS after they ended (or is shared). */
  kept: number;
  errors: number;
  reasons: Map<string, number>;
}

/** Prints everything; returns true if a call on the gateway or direct path failed. */
export function report(summaries: Summary[], opts: Options): boolean {
  const rows: Cell[][] = summaries.map((s) => {
    const proxyCpu = s.group === 'gateway' || s.group === 'floor' ? (s.cpuMs.edge ?? 0) + (s.cpuMs.host ?? 0) : s.cpuMs.proxy;
    return [
      s.name, fixed(median(s.seq), 3), fixed(pct(s.seq, 99), 3),
      fixed(median(s.par), 0), s.par.length > 1 ? `${fixed(Math.min(...s.par), 0)}-${fixed(Math.max(...s.par), 0)}` : undefined,
      s.startFailed && !s.startMs.length ? 'fails' : fixed(median(s.startMs), 1),
      s.transport === 'rest' ? 'n/a' : s.goneMs.length ? fixed(Math.max(...s.goneMs), 0) : undefined,
      s.kept ? `${s.kept}` : s.transport === 'rest' ? 'n/a' : '0',
      fixed(median(s.mib1Ms), 1), s.mib5Ms.length ? fixed(median(s.mib5Ms), 1) : 'fails',
      fixed(s.idleRssMiB, 0), fixed(s.rssAfterMiB, 0),
      fixed(perCall(s, proxyCpu), 3), fixed(perCall(s, s.cpuMs.edge), 3), fixed(perCall(s, s.cpuMs.host), 3), fixed(perCall(s, s.cpuMs.server), 3),
      s.errors,
    ];
  });
  console.log(formatTable([
    'target', 'p50 ms', 'p99 ms', `calls/s c=${opts.concurrency}`, 'range', 'session start p50 ms', 'gone after end max ms', 'kept',
    '1 MiB echo ms', '5 MiB echo ms', 'idle RSS MiB', 'RSS after MiB', 'proxy CPU ms/call', 'edge CPU ms/call', 'host CPU ms/call', 'server CPU ms/call', 'errors',
  ], rows));
  console.log(`
p50 and p99: ${opts.seqCalls} sequential calls per round, all rounds pooled; calls/s: median of rounds (range: min-max)
session start: a new session (REST: a new session id) to its first answer; gone after end: from the client's
disconnect (HTTP+SSE, stdio) or DELETE (Streamable HTTP) to its server process gone; kept: sessions whose process
was still there 2 s later (a shared process). RSS: the proxy's own processes (gateway: edge + host; floor:
edge + relay), servers not counted. CPU per sequential call, from each thread's /proc schedstat (proxy = edge + host for
the gateway; for the architecture floor, the host column is its relay).`);

  checks(summaries);

  let failed = false;
  for (const s of summaries) {
    if (!s.errors && !s.mib5Error) continue;
    const mine = s.group !== 'peer';
    if (mine && s.errors) failed = true;
    console.log(`\n${s.name}: ${s.errors} failed call(s)${s.mib5Error ? `; 5 MiB echo: ${s.mib5Error}` : ''}${mine ? '' : ' (a peer: reported, not a benchmark failure)'}`);
    for (const [r, n] of [...s.reasons].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`  ${n} x ${r}`);
  }
  if (!failed) console.log('\nevery call through the gateway, the architecture floor and directly answered with the expected echo');
  return failed;
}
