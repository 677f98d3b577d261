import { afterEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../shared/errors.ts';
import { ProcessSlots } from './process-slots.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('ProcessSlots', () => {
  it('grants up to max at once; a release lets the next waiter in, in order', async () => {
    const slots = new ProcessSlots(2);
    const a = await slots.acquire(1000);
    await slots.acquire(1000);
    expect(slots.tryAcquire()).toBeUndefined();
    const order: string[] = [];
    const c = slots.acquire(1000).then(() => order.push('c'));
    const d = slots.acquire(1000).then(() => order.push('d'));
    expect(slots.waiting).toBe(2);
    a();
    a(); // a second release of the same slot changes nothing
    await c;
    expect(order).toEqual(['c']);
    expect(slots.used).toBe(2);
    expect(slots.waiting).toBe(1);
    void d;
  });

  it('a waiter past its wait gets HOST_BUSY (503 with Retry-After), never a hang', async () => {
    vi.useFakeTimers();
    const slots = new ProcessSlots(1);
    slots.tryAcquire();
    const waiting = slots.acquire(5000);
    const outcome = waiting.then(
      () => undefined,
      (err: unknown) => err,
    );
    vi.advanceTimersByTime(5000);
    const err = await outcome;
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('HOST_BUSY');
    expect((err as GatewayError).status).toBe(503);
    expect((err as GatewayError).retryAfter).toBeGreaterThan(0);
    expect(slots.waiting).toBe(0);
  });

  it('the count goes back down when everything is released', () => {
    const slots = new ProcessSlots(3);
    const releases = [slots.tryAcquire()!, slots.tryAcquire()!, slots.tryAcquire()!];
    for (const release of releases) release();
    expect(slots.used).toBe(0);
  });
});
