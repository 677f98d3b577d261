/** The comparison's tables: each target's numbers, the gateway's ratios to the best peer, and the targets' checks. */
import type { Transport } from './clients.ts';
import type { Options } from './compare.ts';
import { fixed, formatTable, type Cell } from './load.ts';

export interface Summary {
  name: string;
  group: 'direct' | 'peer' | 'gateway';
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

function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
const median = (values: number[]) => pct(values, 50);
const perCall = (s: Summary, ms: number | undefined) => (ms === undefined || !s.seqCalls ? undefined : ms / s.seqCalls);

/** Prints everything; returns true if a call on the gateway or direct path failed. */
export function report(summaries: Summary[], opts: Options): boolean {
  const rows: Cell[][] = summaries.map((s) => {
    const proxyCpu = s.group === 'gateway' ? (s.cpuMs.edge ?? 0) + (s.cpuMs.host ?? 0) : s.cpuMs.proxy;
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
was still there 2 s later (a shared process). RSS: the proxy's own processes (gateway: edge + host), servers
not counted. CPU per sequential call, from /proc/<pid>/stat (proxy = edge + host for the gateway).`);

  checks(summaries);

  let failed = false;
  for (const s of summaries) {
    if (!s.errors && !s.mib5Error) continue;
    const mine = s.group !== 'peer';
    if (mine && s.errors) failed = true;
    console.log(`\n${s.name}: ${s.errors} failed call(s)${s.mib5Error ? `; 5 MiB echo: ${s.mib5Error}` : ''}${mine ? '' : ' (a peer: reported, not a benchmark failure)'}`);
    for (const [r, n] of [...s.reasons].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`  ${n} x ${r}`);
  }
  if (!failed) console.log('\nevery call through the gateway and directly answered with the expected echo');
  return failed;
}

function checks(summaries: Summary[]): void {
  const peers = summaries.filter((s) => s.group === 'peer');
  const gw = (t: Transport) => summaries.find((s) => s.group === 'gateway' && s.transport === t);
  const best = (pick: (s: Summary) => number, among: Summary[], low: boolean) => {
    const scored = among.map((s) => ({ s, v: pick(s) })).filter((x) => Number.isFinite(x.v));
    scored.sort((a, b) => (low ? a.v - b.v : b.v - a.v));
    return scored[0];
  };
  const out: Cell[][] = [];
  const check = (what: string, value: number | undefined, limit: number | undefined, ok: boolean | undefined, detail: string) => {
    out.push([what, fixed(value, 3), fixed(limit, 3), ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED', detail]);
  };
  const pairs: [Transport, Summary[], string][] = [
    ['rest', peers, 'any peer'],
    ['streamable', peers.filter((p) => p.transport === 'streamable'), 'Streamable peers'],
    ['sse', peers.filter((p) => p.transport === 'sse'), 'SSE peers'],
  ];
  for (const [t, among, what] of pairs) {
    const g = gw(t);
    if (!g) continue;
    const factor = t === 'streamable' ? 0.8 : 1;
    const b = best((s) => median(s.seq), among, true);
    const p50 = median(g.seq);
    check(`${g.name} p50 <= ${factor}x best of ${what} (ms)`, p50, b && b.v * factor, b && p50 <= b.v * factor, b ? `${b.s.name} ${fixed(b.v, 3)}; ratio ${fixed(p50 / b.v, 2)}` : 'no peer measured');
  }
  for (const [t, among, what] of pairs) {
    const g = gw(t);
    if (!g) continue;
    const b = best((s) => median(s.par), among, false);
    const rate = median(g.par);
    check(`${g.name} calls/s >= 1.2x best of ${what}`, rate, b && b.v * 1.2, b && rate >= b.v * 1.2, b ? `${b.s.name} ${fixed(b.v, 0)}; ratio ${fixed(rate / b.v, 2)}` : 'no peer measured');
  }
  const rest = gw('rest') ?? summaries.find((s) => s.group === 'gateway');
  if (rest) {
    const edge = perCall(rest, rest.cpuMs.edge);
    const host = perCall(rest, rest.cpuMs.host);
    check(`workerd CPU per sequential call, ${rest.name} (ms)`, edge, 0.35, edge !== undefined && edge <= 0.35, '');
    check(`host agent CPU per sequential call, ${rest.name} (ms)`, host, 0.12, host !== undefined && host <= 0.12, '');
    const rss = rest.idleRssMiB;
    check('idle RSS of edge + host, no session (MiB)', rss, 200, rss !== undefined && rss <= 200, rest.rssAfterMiB !== undefined ? `after the run: ${fixed(rest.rssAfterMiB, 0)}` : '');
  }
  const r = gw('rest');
  if (r) {
    const start = median(r.startMs);
    check('gateway REST new session to first answer, p50 (ms)', start, 20, Number.isFinite(start) ? start <= 20 : undefined, `${r.startMs.length} sessions`);
  }
  for (const [t, among, what] of pairs) {
    const g = gw(t);
    if (!g) continue;
    const b = best((s) => median(s.mib1Ms), among, true);
    const ms = median(g.mib1Ms);
    check(`${g.name} 1 MiB echo <= 0.7x best of ${what} (ms)`, ms, b && b.v * 0.7, b && ms <= b.v * 0.7, b ? `${b.s.name} ${fixed(b.v, 1)}; ratio ${fixed(ms / b.v, 2)}` : 'no peer measured');
  }
  for (const g of summaries.filter((s) => s.group === 'gateway')) {
    check(`${g.name} 5 MiB echo works`, g.mib5Ms.length ? median(g.mib5Ms) : undefined, undefined, g.mib5Error === undefined && g.mib5Ms.length > 0, g.mib5Error ?? '');
  }
  for (const g of summaries.filter((s) => s.group === 'gateway' && s.transport !== 'rest')) {
    const worst = g.goneMs.length ? Math.max(...g.goneMs) : undefined;
    const ok = g.kept === 0 && worst !== undefined && worst <= 1000;
    check(`${g.name} session's process gone after its end, max (ms)`, worst, 1000, g.goneMs.length || g.kept ? ok : undefined, g.kept ? `${g.kept} still running after 2 s` : '');
  }
  console.log('\ntargets (ratios within this run):\n');
  console.log(formatTable(['check', 'value', 'limit', 'result', 'against'], out));
}
