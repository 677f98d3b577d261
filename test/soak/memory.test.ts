import { describe, expect, it } from 'vitest';
import { formatMemory, heapChecks, type MemorySample } from './memory.ts';

const sample = (label: string, edgeHeapKiB: number | undefined, hostA: number, edgeStart = 1): MemorySample => ({
  label,
  calls: 0,
  edgeKiB: 300 * 1024,
  workerdKiB: 160 * 1024,
  storageKiB: 4096,
  hostsKiB: { 'host-a': 110 * 1024, 'host-b': 110 * 1024, 'host-c': 110 * 1024 },
  edgeHeapKiB,
  edgeCommittedKiB: 40 * 1024,
  hostHeapsKiB: { 'host-a': hostA, 'host-b': 15_000, 'host-c': undefined },
  edgeStart,
  hostStarts: { 'host-a': 1, 'host-b': 1, 'host-c': 1 },
});

describe('soak memory: the live heap bound', () => {
  it('passes a heap within 10% of the start, fails one above, and leaves an unread one undecided', () => {
    const checks = heapChecks(sample('after the warm-up', 14_000, 15_000), sample('end', 15_400, 16_600, 2));
    expect(checks.map((c) => [c.process, c.ok, c.restarted])).toEqual([
      ['edge (workerd)', true, true],
      ['host-a agent', false, false],
      ['host-b agent', true, false],
      ['host-c agent', undefined, false],
    ]);
  });

  it('reports the growth of each half, marking a restart in between', () => {
    const text = formatMemory([sample('after the warm-up', 14_000, 15_000), sample('half-way', 14_000, 15_000, 2), sample('end', 14_000, 15_000, 2)]).join('\n');
    expect(text).toContain('RSS growth, first half / second half');
    expect(text).toMatch(/edge \*\+0\.0 \/ \+0\.0/);
    expect(text).toContain('host-a agent: 14.6 MiB after the warm-up, 14.6 MiB at the end: within the bound of +10%');
  });
});
