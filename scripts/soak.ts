/**
 * `npm run soak -- --calls N --minutes M [--rounds R] [--warmup W] [--faults a,b] [--large-bytes B]`: the
 * load-and-fault run against the real edge on workerd, three real host agents and real servers. Prints the fault schedule, then the
 * counts per transport, the faults' timings, memory and orphans. Exits 1 if any call was lost
 * or mismatched, any process was left behind, or a live heap ended past its bound.
 */
import { parseArgs } from 'node:util';
import { heapChecks } from '../test/soak/memory.ts';
import { formatReport, runSoak, SHORT_RUN } from '../test/soak/run.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: String(SHORT_RUN.calls) },
    minutes: { type: 'string', default: String(SHORT_RUN.minutes) },
    rounds: { type: 'string', default: '1' },
    json: { type: 'string' },
    faults: { type: 'string' },
    warmup: { type: 'string' },
    'large-bytes': { type: 'string' },
  },
});
const number = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} must be a positive whole number, got "${text}"`);
    process.exit(2);
  }
  return n;
};

const calls = number('calls', values.calls!);
const warmupCalls = values.warmup ? number('warmup', values.warmup) : undefined;
if (warmupCalls !== undefined && warmupCalls >= calls) {
  console.error(`--warmup must be fewer calls than --calls (the faults come after it), got ${warmupCalls} and ${calls}`);
  process.exit(2);
}

process.env.WRANGLER_SEND_METRICS ??= 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
const report = await runSoak({
  ...SHORT_RUN,
  calls,
  minutes: number('minutes', values.minutes!),
  rounds: number('rounds', values.rounds!),
  ...(values.faults ? { faults: values.faults.split(',') } : {}),
  ...(warmupCalls !== undefined ? { warmupCalls } : {}),
  ...(values['large-bytes'] ? { largeBytes: number('large-bytes', values['large-bytes']) } : {}),
  log: (line) => console.log(line),
});
console.log(`\n${formatReport(report)}`);
if (values.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(values.json, JSON.stringify(report, null, 2));
}
const heapOver = report.memory.length > 1 && heapChecks(report.memory[0]!, report.memory.at(-1)!).some((c) => c.ok === false);
const bad = Object.values(report.counts).some((c) => c.lost > 0 || c.mismatched > 0) || report.orphans > 0 || heapOver;
process.exit(bad ? 1 : 0);
