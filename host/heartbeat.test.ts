import { describe, expect, it } from 'vitest';
import { HEARTBEAT_TIMEOUT_MS, PING_INTERVAL_MS } from '../shared/constants.ts';
import { HostHeartbeat } from './heartbeat.ts';

function clocked() {
  const clock = { now: 1_000_000 };
  return { clock, beat: new HostHeartbeat(() => clock.now) };
}

describe('HostHeartbeat', () => {
  it('calls a link dead once pings go unanswered for about the heartbeat timeout after the last answer', () => {
    const { clock, beat } = clocked();
    beat.pinged();
    clock.now += 5;
    beat.heard(); // the pong
    const lastAnswer = clock.now;
    // The link stalls: every ping from now on goes unanswered.
    let deadAt: number | undefined;
    for (let tick = 1; tick <= 20 && deadAt === undefined; tick++) {
      clock.now = lastAnswer - 5 + tick * PING_INTERVAL_MS;
      if (beat.silentFor() > 0) deadAt = clock.now;
      else beat.pinged();
    }
    expect(deadAt! - lastAnswer).toBeGreaterThan(HEARTBEAT_TIMEOUT_MS - PING_INTERVAL_MS);
    expect(deadAt! - lastAnswer).toBeLessThanOrEqual(HEARTBEAT_TIMEOUT_MS + PING_INTERVAL_MS);
  });

  it('does not call a live link dead after its own event loop was blocked (no ping went out meanwhile)', () => {
    const { clock, beat } = clocked();
    beat.pinged();
    clock.now += 5;
    beat.heard();
    clock.now += 10_000; // blocked: no ping sent, none expected
    expect(beat.silentFor()).toBe(0);
    beat.pinged();
    clock.now += 5;
    beat.heard();
    expect(beat.silentFor()).toBe(0);
  });

  it('any message from the edge answers every ping sent before it', () => {
    const { clock, beat } = clocked();
    for (let i = 0; i < 7; i++) {
      beat.pinged();
      clock.now += PING_INTERVAL_MS;
    }
    expect(beat.silentFor()).toBeGreaterThan(0);
    beat.heard();
    expect(beat.silentFor()).toBe(0);
  });

  it('beat: pings while answered; past the limit gives the link up after what arrived meanwhile is read, unless something did', async () => {
    const { clock, beat } = clocked();
    const seen: string[] = [];
    const link = { current: () => true, ping: () => (seen.push('ping'), true), dead: (ms: number) => seen.push(`dead ${ms}`) };
    beat.beat(link);
    expect(seen).toEqual(['ping']);
    clock.now += HEARTBEAT_TIMEOUT_MS;
    beat.beat(link);
    beat.heard(); // a frame read before the second look
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['ping']);
    beat.beat(link);
    clock.now += HEARTBEAT_TIMEOUT_MS;
    beat.beat(link);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['ping', 'ping', `dead ${HEARTBEAT_TIMEOUT_MS}`]);
  });
});
