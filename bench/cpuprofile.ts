/** Reading V8 CPU profiles (`.cpuprofile`, from `--cpu-prof` or the inspector's Profiler): where the time went. */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface TopEntry {
  name: string;
  where: string;
  selfMs: number;
  /** Share of the samples that were not idle. */
  pct: number;
}

/**
 * Self time per function (name and location), largest first, from the samples taken between
 * `fromUs` and `toUs` on the profile's clock (microseconds, CLOCK_MONOTONIC; default: all).
 */
export function topFunctions(profile: CpuProfile, count: number, fromUs = -Infinity, toUs = Infinity): { busyMs: number; top: TopEntry[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, { name: string; where: string; us: number }>();
  let t = profile.startTime;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) continue;
    const frame = byId.get(profile.samples[i]!);
    if (!frame || frame.functionName === '(idle)') continue;
    // The time until the next sample is what this one stands for.
    const us = profile.timeDeltas[i + 1] ?? delta;
    busy += us;
    const file = frame.url ? frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(edge|host|shared|bench)\//, '$1/') : '';
    const where = file ? `${file}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}\u0000${where}`;
    const entry = self.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    self.set(key, entry);
  }
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, pct: busy ? (e.us / busy) * 100 : 0 }));
  return { busyMs: busy / 1000, top };
}

/** Monotonic clock in microseconds, as V8's profiles use. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
