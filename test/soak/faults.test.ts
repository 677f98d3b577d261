import { describe, expect, it } from 'vitest';
import { faultCalls, hostSide } from './faults.ts';

describe('soak faults: the host side of a stalled link', () => {
  it('reads when the host noticed the silence and when it was welcomed back, from its log', () => {
    const stalledAt = Date.parse('2026-11-30T12:00:00.000Z');
    const log = [
      '2026-11-29T12:00:00.000Z [WARN]: the edge stopped answering pings; reconnecting silentMs=3100',
      '2026-11-30T11:59:59.000Z [INFO]: connected to the edge servers=everything',
      '2026-11-30T12:00:03.250Z [WARN]: the edge stopped answering pings; reconnecting silentMs=3001',
      '2026-11-30T12:00:03.300Z [INFO]: disconnected from the edge; reconnecting in 180 ms code=1006',
      '2026-11-30T12:00:03.700Z [INFO]: connected to the edge servers=everything',
    ].join('\n');
    expect(hostSide(log, stalledAt)).toBe(' (host: noticed after 3.25 s, welcomed back after 3.70 s)');
    expect(hostSide('', stalledAt)).toBe('');
  });
});

describe('soak faults: the schedule', () => {
  it('spreads the faults evenly over the run, or over the calls after the warm-up when one is given', () => {
    expect(faultCalls(100_000, 4)).toEqual([20_000, 40_000, 60_000, 80_000]);
    expect(faultCalls(100_000, 3, 20_000)).toEqual([40_000, 60_000, 80_000]);
    expect(faultCalls(100_000, 12, 20_000).every((at) => at > 20_000 && at < 100_000)).toBe(true);
    expect(faultCalls(5_000, 0)).toEqual([]);
  });
});
