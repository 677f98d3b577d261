import { afterEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from './errors.ts';
import { PendingRequests } from './pending.ts';

afterEach(() => {
  vi.useRealTimers();
});

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: GatewayError) => ({ code: error.code, message: error.message }),
  );
}

describe('PendingRequests', () => {
  it('answers each request once, by key, and hands back its data', async () => {
    const pending = new PendingRequests<string, number, { conn: string }>();
    const a = pending.wait('a', { meta: { conn: 'x' } });
    const b = pending.wait('b', { meta: { conn: 'y' } });
    expect(pending.resolve('b', 2)).toEqual({ conn: 'y' });
    expect(pending.resolve('b', 3)).toBeUndefined(); // a late second answer finds nothing
    expect(pending.resolve('a', 1)).toEqual({ conn: 'x' });
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(pending.size).toBe(0);
  });

  it('refuses a key that is already waiting', async () => {
    const pending = new PendingRequests<number, string>();
    void pending.wait(1, { meta: undefined });
    expect(await outcome(pending.wait(1, { meta: undefined }))).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('fails a request past its deadline with the error onTimeout gives, after removing it', async () => {
    vi.useFakeTimers();
    const pending = new PendingRequests<string, string, string>();
    const seen: boolean[] = [];
    const late = pending.wait('slow', {
      meta: 'conn-1',
      timeoutMs: 1000,
      onTimeout: (conn) => {
        seen.push(pending.has('slow'));
        return new GatewayError('REQUEST_TIMEOUT', `no answer on ${conn}`);
      },
    });
    const result = outcome(late);
    await vi.advanceTimersByTimeAsync(999);
    expect(pending.has('slow')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toEqual({ code: 'REQUEST_TIMEOUT', message: 'no answer on conn-1' });
    expect(seen).toEqual([false]);
    expect(pending.resolve('slow', 'too late')).toBeUndefined();
  });

  it('an answer before the deadline stops the timer', async () => {
    vi.useFakeTimers();
    const pending = new PendingRequests<string, string>();
    const onTimeout = vi.fn(() => new GatewayError('REQUEST_TIMEOUT', 'late'));
    const answered = pending.wait('k', { meta: undefined, timeoutMs: 1000, onTimeout });
    pending.resolve('k', 'ok');
    await vi.advanceTimersByTimeAsync(5000);
    expect(await answered).toBe('ok');
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it('rejects every request of a closed connection at once, and only those', async () => {
    const pending = new PendingRequests<string, string, string>();
    const calls = ['a', 'b', 'c'].map((key, i) => outcome(pending.wait(key, { meta: i < 2 ? 'conn-1' : 'conn-2' })));
    expect(pending.rejectAll((conn) => new GatewayError('HOST_OFFLINE', `${conn} closed`), (conn) => conn === 'conn-1')).toBe(2);
    pending.resolve('c', 'fine');
    expect(await Promise.all(calls)).toEqual([
      { code: 'HOST_OFFLINE', message: 'conn-1 closed' },
      { code: 'HOST_OFFLINE', message: 'conn-1 closed' },
      { value: 'fine' },
    ]);
  });

  describe('with one shared timer', () => {
    it('fails each request at its own deadline, however many wait', async () => {
      vi.useFakeTimers();
      const pending = new PendingRequests<string, string>({ oneTimer: true });
      const first = outcome(pending.wait('a', { meta: undefined, timeoutMs: 1000 }));
      await vi.advanceTimersByTimeAsync(400);
      const second = outcome(pending.wait('b', { meta: undefined, timeoutMs: 1000 }));
      const shorter = outcome(pending.wait('c', { meta: undefined, timeoutMs: 100 }));
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(100);
      expect(await shorter).toMatchObject({ code: 'REQUEST_TIMEOUT' });
      await vi.advanceTimersByTimeAsync(499);
      expect([pending.has('a'), pending.has('b')]).toEqual([true, true]);
      await vi.advanceTimersByTimeAsync(1);
      expect(await first).toMatchObject({ code: 'REQUEST_TIMEOUT' });
      expect(pending.has('b')).toBe(true);
      await vi.advanceTimersByTimeAsync(400);
      expect(await second).toMatchObject({ code: 'REQUEST_TIMEOUT' });
    });

    it('an answered request leaves no failure behind, and the timer stops once nothing waits', async () => {
      vi.useFakeTimers();
      const pending = new PendingRequests<string, string>({ oneTimer: true });
      const onTimeout = vi.fn(() => new GatewayError('REQUEST_TIMEOUT', 'late'));
      const answered = pending.wait('k', { meta: undefined, timeoutMs: 1000, onTimeout });
      pending.resolve('k', 'ok');
      expect(await answered).toBe('ok');
      await vi.advanceTimersByTimeAsync(1000);
      expect(onTimeout).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
    });

    it('a close that fails every request stops the timer at once', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const pending = new PendingRequests<string, string>({ oneTimer: true });
      const waiting = outcome(pending.wait('k', { meta: undefined, timeoutMs: 60_000 }));
      pending.rejectAll(() => new GatewayError('HOST_OFFLINE', 'closed'));
      expect(await waiting).toMatchObject({ code: 'HOST_OFFLINE' });
      expect(vi.getTimerCount()).toBe(0);
    });

    it('with unrefTimer, the shared timer does not hold a Node process open, and still fires', async () => {
      const pending = new PendingRequests<string, string>({ oneTimer: true, unrefTimer: true });
      const hasRef = vi.spyOn(globalThis, 'setTimeout');
      const late = outcome(pending.wait('a', { meta: undefined, timeoutMs: 20 }));
      const timer = hasRef.mock.results[0]?.value as NodeJS.Timeout;
      hasRef.mockRestore();
      expect(timer.hasRef()).toBe(false);
      expect(await late).toMatchObject({ code: 'REQUEST_TIMEOUT' });
    });

    it('works with timers whose clock runs ahead of Date', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const pending = new PendingRequests<string, string>({ oneTimer: true });
      const slow = outcome(pending.wait('a', { meta: undefined, timeoutMs: 5000 }));
      await vi.advanceTimersByTimeAsync(5000);
      expect(await slow).toMatchObject({ code: 'REQUEST_TIMEOUT' });
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
