import { afterEach, describe, expect, it, vi } from 'vitest';
import { Tally } from './tally.ts';

afterEach(() => vi.useRealTimers());

describe('soak tally: a fault report', () => {
  it('counts the calls in flight when the fault struck that then failed, and when the last of them was answered', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const tally = new Tally();
    const before1 = tally.start('rest');
    const before2 = tally.start('sse');
    const unharmed = tally.start('streamable');
    vi.advanceTimersByTime(100);
    tally.fault('host-kill', 'a host killed');
    vi.advanceTimersByTime(150);
    before1({ kind: 'error', code: 'HOST_OFFLINE' });
    unharmed({ kind: 'correct' });
    const after = tally.start('rest');
    vi.advanceTimersByTime(50);
    before2({ kind: 'error', code: 'stream lost' });
    after({ kind: 'error', code: 'HOST_OFFLINE' });
    const [report] = tally.faultReports();
    expect(report).toMatchObject({ errors: 3, firstErrorMs: 150, inFlightFailed: 2, inFlightAnsweredMs: 200 });
  });
});
