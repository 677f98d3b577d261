/**
 * The targets' checks, each one for the gateway against the best peer, and next to it the same
 * limit applied to the architecture floor (bench/floor/): whether the shape itself can meet the
 * target, and how far the gateway is from the floor. Then one sentence per missed target.
 */
import type { Transport } from './clients.ts';
import type { Summary } from './compare-report.ts';
import { fixed, formatTable, type Cell } from './load.ts';

type Unit = 'ms' | 'calls/s' | 'MiB';

interface Check {
  what: string;
  value: number | undefined;
  limit: number | undefined;
  ok: boolean | undefined;
  detail: string;
  unit: Unit;
  /** The architecture floor's figure for the same measure, and which floor target it comes from. */
  floor?: { name: string; value: number | undefined };
}

/** Nearest-rank percentile. */
export function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
export const median = (values: number[]) => pct(values, 50);
/** CPU ms over the sequential calls, per call. */
export const perCall = (s: Summary, ms: number | undefined) => (ms === undefined || !s.seqCalls ? undefined : ms / s.seqCalls);
const finite = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n);

/** Whether `value` is within `limit`: at most for times and memory, at least for rates. */
function within(value: number, limit: number, unit: Unit): boolean {
  return unit === 'calls/s' ? value >= limit : value <= limit;
}

/** The gateway against the floor: how much more time or memory it takes, or what share of the floor's rate it reaches. */
function gap(c: Check): string | undefined {
  const f = c.floor?.value;
  if (!finite(c.value) || !finite(f)) return undefined;
  if (c.unit === 'calls/s') return `x${fixed(c.value / f, 2)}`;
  const d = c.value - f;
  return `${d >= 0 ? '+' : ''}${fixed(d, c.unit === 'MiB' ? 0 : 3)} ${c.unit}`;
}

function floorMeets(c: Check): boolean | undefined {
  const f = c.floor?.value;
  return finite(f) && finite(c.limit) ? within(f, c.limit, c.unit) : undefined;
}

/** One sentence for a missed target: reachable in this shape (the floor meets it) or not (by how much). */
function why(c: Check): string | undefined {
  const f = c.floor?.value;
  if (c.ok !== false || !c.floor || !finite(f) || !finite(c.limit) || !finite(c.value)) return undefined;
  const digits = c.unit === 'ms' ? 3 : 0;
  const fv = `${fixed(f, digits)} ${c.unit}`;
  const lim = `${fixed(c.limit, digits)} ${c.unit}`;
  if (floorMeets(c)) {
    return c.unit === 'calls/s'
      ? `${c.what}: reachable: the floor (${c.floor.name}) does ${fv} against the ${lim} needed; the gateway reaches ${fixed(c.value / f, 2)} of the floor's rate`
      : `${c.what}: reachable: the floor (${c.floor.name}) takes ${fv} against the limit ${lim}; the gateway's own work is ${gap(c)} of its ${fixed(c.value, digits)}`;
  }
  return c.unit === 'calls/s'
    ? `${c.what}: not reachable in this shape: the floor (${c.floor.name}) misses it too, ${fv} against the ${lim} needed (${fixed(f / c.limit, 2)} of it)`
    : `${c.what}: not reachable in this shape: the floor (${c.floor.name}) misses it too, ${fv} against the limit ${lim} (${fixed(f / c.limit, 2)}x)`;
}

export function checks(summaries: Summary[]): void {
  const peers = summaries.filter((s) => s.group === 'peer');
  const gw = (t: Transport) => summaries.find((s) => s.group === 'gateway' && s.transport === t);
  const floors = summaries.filter((s) => s.group === 'floor');
  // The floor over the same transport (with --only, another of its transports if that one was left out).
  const floorOf = (t: Transport) => floors.find((s) => s.transport === t) ?? floors.find((s) => s.transport === 'streamable') ?? floors[0];
  const direct = summaries.find((s) => s.group === 'direct');
  const best = (pick: (s: Summary) => number, among: Summary[], low: boolean) => {
    const scored = among.map((s) => ({ s, v: pick(s) })).filter((x) => Number.isFinite(x.v));
    scored.sort((a, b) => (low ? a.v - b.v : b.v - a.v));
    return scored[0];
  };
  const out: Check[] = [];
  const floorFigure = (f: Summary | undefined, pick: (s: Summary) => number | undefined) => (f ? { name: f.name, value: pick(f) } : undefined);

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
    const limit = b && b.v * factor;
    out.push({
      what: `${g.name} p50 <= ${factor}x best of ${what} (ms)`, value: p50, limit, ok: b && p50 <= b.v * factor, unit: 'ms',
      detail: b ? `${b.s.name} ${fixed(b.v, 3)}; ratio ${fixed(p50 / b.v, 2)}` : 'no peer measured',
      floor: floorFigure(floorOf(t), (s) => median(s.seq)),
    });
  }
  for (const [t, among, what] of pairs) {
    const g = gw(t);
    if (!g) continue;
    const b = best((s) => median(s.par), among, false);
    const rate = median(g.par);
    out.push({
      what: `${g.name} calls/s >= 1.2x best of ${what}`, value: rate, limit: b && b.v * 1.2, ok: b && rate >= b.v * 1.2, unit: 'calls/s',
      detail: b ? `${b.s.name} ${fixed(b.v, 0)}; ratio ${fixed(rate / b.v, 2)}` : 'no peer measured',
      floor: floorFigure(floorOf(t), (s) => median(s.par)),
    });
  }
  const rest = gw('rest') ?? summaries.find((s) => s.group === 'gateway');
  if (rest) {
    const edge = perCall(rest, rest.cpuMs.edge);
    const host = perCall(rest, rest.cpuMs.host);
    const f = floorOf(rest.transport);
    out.push({ what: `workerd CPU per sequential call, ${rest.name} (ms)`, value: edge, limit: 0.35, ok: edge !== undefined && edge <= 0.35, unit: 'ms', detail: '', floor: floorFigure(f, (s) => perCall(s, s.cpuMs.edge)) });
    out.push({ what: `host agent CPU per sequential call, ${rest.name} (ms)`, value: host, limit: 0.12, ok: host !== undefined && host <= 0.12, unit: 'ms', detail: 'floor: the relay\'s CPU', floor: floorFigure(f, (s) => perCall(s, s.cpuMs.host)) });
    const rss = rest.idleRssMiB;
    out.push({
      what: 'idle RSS of edge + host, no session (MiB)', value: rss, limit: 200, ok: rss !== undefined && rss <= 200, unit: 'MiB',
      detail: rest.rssAfterMiB !== undefined ? `after the run: ${fixed(rest.rssAfterMiB, 0)}` : '',
      floor: floorFigure(f, (s) => s.idleRssMiB),
    });
  }
  const r = gw('rest');
  if (r) {
    const start = median(r.startMs);
    out.push({
      what: 'gateway REST new session to first answer, p50 (ms)', value: start, limit: 20, ok: Number.isFinite(start) ? start <= 20 : undefined, unit: 'ms',
      detail: `${r.startMs.length} sessions`, floor: floorFigure(floorOf('rest'), (s) => median(s.startMs)),
    });
  }
  for (const [t, among, what] of pairs) {
    const g = gw(t);
    if (!g) continue;
    const b = best((s) => median(s.mib1Ms), among, true);
    const ms = median(g.mib1Ms);
    const d = direct && median(direct.mib1Ms);
    out.push({
      what: `${g.name} 1 MiB echo <= 0.7x best of ${what} (ms)`, value: ms, limit: b && b.v * 0.7, ok: b && ms <= b.v * 0.7, unit: 'ms',
      detail: `${b ? `${b.s.name} ${fixed(b.v, 1)}; ratio ${fixed(ms / b.v, 2)}` : 'no peer measured'}${finite(d) ? `; direct stdio ${fixed(d, 1)}` : ''}`,
      floor: floorFigure(floorOf(t), (s) => median(s.mib1Ms)),
    });
  }
  for (const g of summaries.filter((s) => s.group === 'gateway')) {
    const f = floorOf(g.transport);
    out.push({
      what: `${g.name} 5 MiB echo works`, value: g.mib5Ms.length ? median(g.mib5Ms) : undefined, limit: undefined, ok: g.mib5Error === undefined && g.mib5Ms.length > 0, unit: 'ms',
      detail: g.mib5Error ?? '', floor: f && { name: f.name, value: f.mib5Ms.length ? median(f.mib5Ms) : undefined },
    });
  }
  for (const g of summaries.filter((s) => s.group === 'gateway' && s.transport !== 'rest')) {
    const worst = g.goneMs.length ? Math.max(...g.goneMs) : undefined;
    const ok = g.kept === 0 && worst !== undefined && worst <= 1000;
    // The floor keeps one server for every session: nothing to measure there.
    out.push({ what: `${g.name} session's process gone after its end, max (ms)`, value: worst, limit: 1000, ok: g.goneMs.length || g.kept ? ok : undefined, unit: 'ms', detail: g.kept ? `${g.kept} still running after 2 s` : '' });
  }

  if (!out.length) {
    console.log('\ntargets: no gateway target in this run, nothing to check');
    return;
  }
  const rows: Cell[][] = out.map((c) => {
    const digits = c.unit === 'ms' ? 3 : 0;
    const fm = c.limit === undefined ? (c.floor && finite(c.floor.value) ? true : c.floor ? false : undefined) : floorMeets(c);
    return [
      c.what, fixed(c.value, 3), fixed(c.limit, 3), c.ok === undefined ? 'n/a' : c.ok ? 'met' : 'MISSED', c.detail,
      c.floor ? c.floor.name.replace('architecture floor ', '') : undefined, fixed(c.floor?.value, digits),
      fm === undefined ? undefined : fm ? 'met' : 'MISSED', gap(c),
    ];
  });
  console.log('\ntargets (ratios within this run), and the architecture floor against the same limits:\n');
  console.log(formatTable(['check', 'value', 'limit', 'result', 'against', 'floor', 'floor value', 'floor result', 'gateway - floor'], rows));
  const sentences = out.map(why).filter((s): s is string => s !== undefined);
  if (sentences.length) console.log(`\nmissed targets against the floor:\n${sentences.map((s) => `- ${s}`).join('\n')}`);
}
