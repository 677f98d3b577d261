/**
 * Memory at quiet moments of a soak run: after the warm-up, half-way, and at the end, each taken
 * with no call in flight (the run holds its clients back for it). Per process: resident memory
 * (RSS), and the live JS heap after a full collection. RSS also counts what V8 and the allocators
 * keep once they have used it, so it rises during the warm-up and then plateaus; the live heap
 * is what the process still holds: that is the figure bounded.
 */
import { HOST_IDS, type Cluster, type HostId } from './cluster.ts';

/** The live heap at the end may be at most this much above the one after the warm-up. */
export const HEAP_BOUND = 0.1;

export interface MemorySample {
  label: string;
  /** Calls answered when it was taken. */
  calls: number;
  /** RSS of the edge (CLI and workerd), of workerd alone, and the state folder's size. */
  edgeKiB: number;
  workerdKiB: number;
  storageKiB: number;
  hostsKiB: Record<HostId, number>;
  /** Live JS heaps (undefined when the inspector did not answer). */
  edgeHeapKiB: number | undefined;
  /** What V8 has committed for workerd's heap, live or not. */
  edgeCommittedKiB: number | undefined;
  hostHeapsKiB: Record<HostId, number | undefined>;
  /** What V8 has committed for each host agent's heap, live or not. */
  hostCommittedKiB?: Record<HostId, number | undefined>;
  /** Which process each was: bumped by every start, so a restart in between shows. */
  edgeStart: number;
  hostStarts: Record<HostId, number>;
}

export async function sampleMemory(cluster: Cluster, label: string, calls: number): Promise<MemorySample> {
  // Heaps first: their full collections let V8 return pages before RSS is read.
  const heaps = await cluster.liveHeaps();
  const rss = cluster.memory();
  const detail = cluster.edgeDetail();
  return {
    label,
    calls,
    edgeKiB: rss.edgeKiB,
    workerdKiB: detail.workerdKiB,
    storageKiB: detail.storageKiB,
    hostsKiB: rss.hostsKiB,
    edgeHeapKiB: heaps.edgeKiB,
    edgeCommittedKiB: heaps.edgeCommittedKiB,
    hostHeapsKiB: heaps.hostsKiB,
    hostCommittedKiB: heaps.hostsCommittedKiB,
    edgeStart: cluster.edgeStarts,
    hostStarts: Object.fromEntries(HOST_IDS.map((id) => [id, cluster.hostStarts(id)])) as Record<HostId, number>,
  };
}

export interface HeapCheck {
  process: string;
  startKiB: number | undefined;
  endKiB: number | undefined;
  /** True when the end is within HEAP_BOUND of the start; undefined when a heap was not read. */
  ok: boolean | undefined;
  /** The process was restarted between the two samples (the end is a younger process's). */
  restarted: boolean;
}

/** The bound, per process: live heap at the end against after the warm-up. */
export function heapChecks(start: MemorySample, end: MemorySample): HeapCheck[] {
  const check = (process: string, a: number | undefined, b: number | undefined, restarted: boolean): HeapCheck => ({
    process,
    startKiB: a,
    endKiB: b,
    ok: a === undefined || b === undefined ? undefined : b <= a * (1 + HEAP_BOUND),
    restarted,
  });
  return [
    check('edge (workerd)', start.edgeHeapKiB, end.edgeHeapKiB, start.edgeStart !== end.edgeStart),
    ...HOST_IDS.map((id) => check(`${id} agent`, start.hostHeapsKiB[id], end.hostHeapsKiB[id], start.hostStarts[id] !== end.hostStarts[id])),
  ];
}

const mib = (kib: number | undefined) => (kib === undefined ? '?' : (kib / 1024).toFixed(1));

/** The report's memory section: the samples as a table, then the bound per process. */
export function formatMemory(samples: MemorySample[]): string[] {
  if (samples.length === 0) return ['memory: not sampled'];
  const lines = [
    'memory at quiet moments (no call in flight), MiB: RSS, and live JS heap after a full collection; * = a new process since the sample before',
    '',
    `| when | calls | edge RSS | workerd RSS | edge heap (committed) | state on disk | ${HOST_IDS.map((id) => `${id} RSS | ${id} heap (committed)`).join(' | ')} |`,
    `|---|---|---|---|---|---|${HOST_IDS.map(() => '---|---|').join('')}`,
  ];
  samples.forEach((s, i) => {
    const prev = samples[i - 1];
    const edgeMark = prev && prev.edgeStart !== s.edgeStart ? '*' : '';
    const hosts = HOST_IDS.map((id) => {
      const mark = prev && prev.hostStarts[id] !== s.hostStarts[id] ? '*' : '';
      return `${mib(s.hostsKiB[id])}${mark} | ${mib(s.hostHeapsKiB[id])} (${mib(s.hostCommittedKiB?.[id])})${mark}`;
    });
    lines.push(`| ${s.label} | ${s.calls} | ${mib(s.edgeKiB)}${edgeMark} | ${mib(s.workerdKiB)}${edgeMark} | ${mib(s.edgeHeapKiB)} (${mib(s.edgeCommittedKiB)})${edgeMark} | ${mib(s.storageKiB)} | ${hosts.join(' | ')} |`);
  });
  const start = samples[0]!;
  const end = samples.at(-1)!;
  const middle = samples.length === 3 ? samples[1]! : undefined;
  if (middle) {
    // Resident memory that rose in the first half and stops rising in the second is kept, not leaked.
    const grew = (pick: (s: MemorySample) => number, restarted: (a: MemorySample, b: MemorySample) => boolean) => {
      const half = (a: MemorySample, b: MemorySample) => `${restarted(a, b) ? '*' : ''}${(pick(b) - pick(a)) / 1024 >= 0 ? '+' : ''}${((pick(b) - pick(a)) / 1024).toFixed(1)}`;
      return `${half(start, middle)} / ${half(middle, end)}`;
    };
    const edgeRestarted = (a: MemorySample, b: MemorySample) => a.edgeStart !== b.edgeStart;
    const parts = [
      `edge ${grew((s) => s.edgeKiB, edgeRestarted)}`,
      `workerd ${grew((s) => s.workerdKiB, edgeRestarted)}`,
      ...HOST_IDS.map((id) => `${id} ${grew((s) => s.hostsKiB[id], (a, b) => a.hostStarts[id] !== b.hostStarts[id])}`),
    ];
    lines.push('', `RSS growth, first half / second half, MiB (* = across a restart): ${parts.join(', ')}`);
    // With two rounds or more, half-way comes after every fault ran once: a warm-up of every path.
    const pct = (pick: (s: MemorySample) => number) => ((pick(end) / pick(middle) - 1) * 100).toFixed(1);
    const rss = [`edge ${pct((s) => s.edgeKiB)}%`, `workerd ${pct((s) => s.workerdKiB)}%`, ...HOST_IDS.map((id) => `${id} ${pct((s) => s.hostsKiB[id])}%`)];
    lines.push(`RSS at the end against half-way: ${rss.join(', ')}`);
  }
  if (samples.length > 1) {
    // The figure the reliability page aims for: resident memory at the end within 10% of after the warm-up.
    const rss = [
      ['edge (CLI and workerd)', start.edgeKiB, end.edgeKiB],
      ['workerd', start.workerdKiB, end.workerdKiB],
      ...HOST_IDS.map((id) => [`${id}`, start.hostsKiB[id], end.hostsKiB[id]] as const),
    ] as const;
    const parts = rss.map(([name, a, b]) => `${name} ${b >= a ? '+' : ''}${((b / a - 1) * 100).toFixed(1)}%${b > a * (1 + HEAP_BOUND) ? ' (OVER)' : ''}`);
    lines.push(`RSS at the end against after the warm-up (bound +${HEAP_BOUND * 100}%): ${parts.join(', ')}`);
  }
  lines.push('');
  for (const c of heapChecks(start, end)) {
    const verdict = c.ok === undefined ? 'not read' : c.ok ? 'within' : 'OVER';
    const restarted = c.restarted ? ' (restarted since: the end is a younger process)' : '';
    lines.push(`live heap, ${c.process}: ${mib(c.startKiB)} MiB after the warm-up, ${mib(c.endKiB)} MiB at the end: ${verdict} the bound of +${HEAP_BOUND * 100}%${restarted}`);
  }
  return lines;
}
