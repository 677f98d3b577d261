import { afterEach, describe, expect, it, vi } from 'vitest';
import { Ticks } from './ticks.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('Ticks', () => {
  it('runs every listener of a period from one timer, and each only until it leaves', async () => {
    vi.useFakeTimers();
    const ticks = new Ticks({ linger: true });
    const seen: string[] = [];
    const stopA = ticks.every(1000, () => seen.push('a'));
    const stopB = ticks.every(1000, () => seen.push('b'));
    ticks.every(250, () => seen.push('probe'));
    expect(ticks.running).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen.filter((s) => s !== 'probe')).toEqual(['a', 'b']);
    expect(seen.filter((s) => s === 'probe')).toHaveLength(4);
    stopA();
    seen.length = 0;
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen.filter((s) => s !== 'probe')).toEqual(['b']);
    stopB();
    expect(ticks.running).toBe(2); // lingers until its next tick finds nobody
    await vi.advanceTimersByTimeAsync(1000);
    expect(ticks.running).toBe(1);
  });

  it('keeps one timer for listeners that come and go one after another', async () => {
    vi.useFakeTimers();
    const ticks = new Ticks({ linger: true });
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    for (let i = 0; i < 100; i++) ticks.every(1000, () => {})();
    expect(setIntervalSpy).toHaveBeenCalledTimes(1);
  });

  it('without linger, stops as soon as its last listener leaves', () => {
    vi.useFakeTimers();
    const ticks = new Ticks();
    const stop = ticks.every(1000, () => {});
    expect(ticks.running).toBe(1);
    stop();
    stop(); // twice is harmless
    expect(ticks.running).toBe(0);
  });
});
