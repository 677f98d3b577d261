/**
 * The short soak run: the real edge, three real hosts and server-everything under REST,
 * Streamable HTTP and HTTP+SSE load across 200+ sessions, with each fault injected once.
 * Nothing may be lost, no answer may belong to another call, no process may be left behind.
 * (`npm run soak` runs the long version by hand; docs/reliability.md has its figures.)
 */
import { describe, expect, it } from 'vitest';
import { FAULTS } from './faults.ts';
import { heapChecks } from './memory.ts';
import { formatReport, runSoak, SHORT_RUN } from './run.ts';

const CALLS = Number(process.env.SOAK_CALLS) || 5000;

describe('soak: load with faults', () => {
  it(`${CALLS} calls (or 4 minutes) over three transports with every fault once: none lost, none mismatched, no orphans, heaps bounded`, { timeout: 300_000 }, async () => {
    const log: string[] = [];
    const report = await runSoak({ ...SHORT_RUN, calls: CALLS, minutes: 4, log: (line) => log.push(line) });
    const summary = `${log.join('\n')}\n${formatReport(report)}`;
    for (const [transport, c] of Object.entries(report.counts)) {
      expect(c.lost, `${transport} lost\n${summary}`).toBe(0);
      expect(c.mismatched, `${transport} mismatched\n${summary}`).toBe(0);
      expect(c.correct, `${transport} correct\n${summary}`).toBeGreaterThan(0);
    }
    expect(report.orphans, summary).toBe(0);
    expect(report.sessions, summary).toBeGreaterThanOrEqual(200);
    expect(report.faults.map((f) => f.name), summary).toEqual(FAULTS.map((f) => f.name));
    for (const f of report.faults) expect(f.note, summary).not.toMatch(/^FAILED/);
    // Memory: every live JS heap at the end within 10% of after the warm-up (RSS is reported, not bounded).
    for (const c of heapChecks(report.memory[0]!, report.memory.at(-1)!)) expect(c.ok, `${c.process} heap\n${summary}`).not.toBe(false);
    // On a loaded machine the 4 minutes may come first: the faults are then spread over the time.
    const sent = Object.values(report.counts).reduce((n, c) => n + c.sent, 0);
    expect(sent, summary).toBeGreaterThanOrEqual(Math.min(CALLS, 500));
  });
});
