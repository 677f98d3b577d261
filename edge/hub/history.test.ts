import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { History, MAX_RECENT_ERRORS, MAX_SERIES } from './history.ts';
import { HistoryStore } from './history-store.ts';
import { HostLog } from './host-log.ts';
import { binOf, binUpperMs, percentile } from './latency.ts';
import type { HubSql, SqlValue } from './types.ts';

const T0 = Date.parse('2026-01-01T10:00:00Z');

/** An in-memory SQLite that counts the statements that write. */
function database(db = new DatabaseSync(':memory:')) {
  const counts = { writes: 0 };
  const sql: HubSql = {
    exec: (query: string, ...params: SqlValue[]) => {
      if (!/^\s*SELECT/i.test(query)) counts.writes++;
      return db.prepare(query).all(...params) as Record<string, SqlValue>[];
    },
  };
  return { db, sql, counts };
}

function world(db?: DatabaseSync) {
  const clock = { now: T0 };
  const { sql, counts, db: handle } = database(db);
  let dirtyCalls = 0;
  const history = new History(() => clock.now, () => dirtyCalls++);
  const store = new HistoryStore(sql, history, () => clock.now);
  return { clock, sql, counts, db: handle, history, store, dirty: () => dirtyCalls };
}

describe('latency bins', () => {
  it('puts each duration in a bin whose upper bound is at most 25 % above it', () => {
    for (const ms of [0, 1, 2, 3, 7, 12, 99, 250, 1000, 4321, 30_000]) {
      const bin = binOf(ms);
      expect(binUpperMs(bin)).toBeGreaterThanOrEqual(ms);
      if (ms > 1) expect(binUpperMs(bin)).toBeLessThanOrEqual(ms * 1.25 + 1e-9);
    }
  });

  it('reads percentiles back within a bin, never above the slowest call', () => {
    const bins = new Uint32Array(60);
    for (let i = 1; i <= 100; i++) bins[binOf(i)]!++;
    expect(percentile(bins, 100, 0.5, 100)).toBeGreaterThanOrEqual(50);
    expect(percentile(bins, 100, 0.5, 100)).toBeLessThanOrEqual(63);
    expect(percentile(bins, 100, 0.99, 100)).toBeLessThanOrEqual(100);
    expect(percentile(bins, 0, 0.5, 0)).toBeNull();
  });
});

describe('History', () => {
  it('counts calls, errors by code and latency in the right minute and quarter-hour buckets', () => {
    const { clock, history } = world();
    clock.now = T0 + 5_000;
    history.record('everything', 'home', 3, null, 'tools/call echo');
    history.record('everything', 'home', 40, 'REQUEST_TIMEOUT', 'tools/call sleep');
    clock.now = T0 + 65_000;
    history.record('everything', 'home', 10, null, 'tools/call echo');
    history.record('everything', null, 1, 'HOST_OFFLINE', 'tools/call echo');

    const hour = history.snapshot('hour');
    const w = hour.servers.everything!;
    expect(w.calls).toHaveLength(60);
    expect(Date.parse(w.start)).toBe(T0 + 60_000 - 59 * 60_000);
    expect(w.calls.slice(-2)).toEqual([2, 2]);
    expect(w.errors.slice(-2)).toEqual([1, 1]);
    expect(w.errorsByCode.REQUEST_TIMEOUT!.slice(-2)).toEqual([1, 0]);
    expect(w.errorsByCode.HOST_OFFLINE!.slice(-2)).toEqual([0, 1]);
    // Within one bin (25 %) of the true median; exact when one call is all there is.
    expect(w.p50.at(-3)).toBeNull();
    expect(w.p50.at(-2)).toBeGreaterThanOrEqual(3);
    expect(w.p50.at(-2)).toBeLessThanOrEqual(3.75);
    expect(w.p95.at(-2)).toBe(40);
    expect(w.p50.at(-1)).toBe(1);
    // The host series leaves out the call that reached no host.
    expect(hour.hosts.home!.calls.slice(-2)).toEqual([2, 1]);

    const day = history.snapshot('day').servers.everything!;
    expect(day.calls).toHaveLength(96);
    expect(day.calls.at(-1)).toBe(4);
    expect(day.errors.at(-1)).toBe(2);
  });

  it('lets buckets fall out of the window as time passes, reusing their slots', () => {
    const { clock, history } = world();
    history.record('s', 'h', 5, null, 'x');
    clock.now = T0 + 60 * 60_000;
    history.record('s', 'h', 5, null, 'x');
    const w = history.snapshot('hour').servers.s!;
    expect(w.calls.reduce((a, b) => a + b)).toBe(1);
    expect(history.snapshot('day').servers.s!.calls.reduce((a, b) => a + b)).toBe(2);
    clock.now = T0 + 25 * 3600_000;
    expect(history.snapshot('day').servers.s!.calls.reduce((a, b) => a + b)).toBe(0);
  });

  it('keeps the most recent errors, newest last, without arguments or messages', () => {
    const { history } = world();
    for (let i = 0; i < MAX_RECENT_ERRORS + 5; i++) history.record('s', 'h', 1, 'UPSTREAM_ERROR', `tools/call t${i}`);
    const recent = history.recentErrors();
    expect(recent).toHaveLength(MAX_RECENT_ERRORS);
    expect(recent.at(-1)).toEqual({ at: T0, server: 's', host: 'h', code: 'UPSTREAM_ERROR', what: `tools/call t${MAX_RECENT_ERRORS + 4}` });
  });

  it('tracks a bounded number of servers and hosts, forgetting the one idle longest', () => {
    const { clock, history } = world();
    for (let i = 0; i <= MAX_SERIES; i++) {
      clock.now = T0 + i;
      history.record(`s${i}`, null, 1, null, 'x');
    }
    const servers = Object.keys(history.snapshot('hour').servers);
    expect(servers).toHaveLength(MAX_SERIES);
    expect(servers).not.toContain('s0');
  });
});

describe('HistoryStore', () => {
  it('writes nothing per call, asks for one flush per batch of changes, and writes only on flush', () => {
    const { history, store, counts, dirty } = world();
    const before = counts.writes;
    for (let i = 0; i < 1000; i++) history.record('everything', 'home', i % 50, i % 10 ? null : 'UPSTREAM_ERROR', 'tools/call echo');
    expect(counts.writes).toBe(before);
    expect(dirty()).toBe(1);
    store.flush();
    expect(counts.writes).toBeGreaterThan(before);
    expect(store.savedAt).toBe(T0);
    const afterFlush = counts.writes;
    store.flush();
    expect(counts.writes).toBe(afterFlush);
    history.record('everything', 'home', 1, null, 'x');
    expect(dirty()).toBe(2);
  });

  it('reads the history back in a new Hub over the same storage (hibernation, restart)', () => {
    const first = world();
    first.clock.now = T0 + 10_000;
    for (let i = 0; i < 20; i++) first.history.record('everything', 'home', 5 + i, i < 3 ? 'INVALID_ARGUMENTS' : null, 'tools/call echo');
    first.clock.now = T0 + 70_000;
    first.history.record('test', 'home', 100, 'SERVER_EXITED', 'tools/call crash');
    first.store.flush();
    const before = { hour: first.history.snapshot('hour'), day: first.history.snapshot('day'), errors: first.history.recentErrors() };

    const second = world(first.db);
    second.clock.now = first.clock.now;
    expect(second.history.snapshot('hour')).toEqual(before.hour);
    expect(second.history.snapshot('day')).toEqual(before.day);
    expect(second.history.recentErrors()).toEqual(before.errors);
    expect(second.store.savedAt).toBe(T0 + 70_000);
    // What was read back is not written again.
    expect(second.history.hasChanges()).toBe(false);
  });

  it('prunes rows that fell out of their window, so storage stays bounded', () => {
    const { clock, history, store, db } = world();
    for (let m = 0; m < 180; m++) {
      clock.now = T0 + m * 60_000;
      history.record('s', 'h', 1, null, 'x');
      store.flush();
    }
    const rows = db.prepare("SELECT range, count(*) AS n FROM history_buckets WHERE kind = 'server' GROUP BY range ORDER BY range").all();
    expect(rows).toEqual([
      { range: 'day', n: 12 },
      { range: 'hour', n: 60 },
    ]);
  });
});

describe('HostLog', () => {
  it('records connects and drops, and how long each absence lasted', () => {
    const { sql } = database();
    const log = new HostLog(sql);
    log.connected('laptop', T0);
    log.dropped('laptop', T0 + 60_000, 1006);
    log.connected('laptop', T0 + 63_500);
    log.connected('server', T0);
    const all = log.all();
    expect(all.laptop).toEqual({
      connects: 2,
      drops: 1,
      awayMs: 3500,
      events: [
        { at: new Date(T0).toISOString(), kind: 'connect' },
        { at: new Date(T0 + 60_000).toISOString(), kind: 'drop', code: 1006 },
        { at: new Date(T0 + 63_500).toISOString(), kind: 'connect', awayMs: 3500 },
      ],
    });
    expect(all.server).toEqual({ connects: 1, drops: 0, awayMs: 0, events: [{ at: new Date(T0).toISOString(), kind: 'connect' }] });
  });

  it('keeps a bounded number of events per host', () => {
    const { sql, db } = database();
    const log = new HostLog(sql);
    for (let i = 0; i < 200; i++) (i % 2 ? log.dropped('h', T0 + i, 1006) : log.connected('h', T0 + i));
    expect(log.all().h!.events).toHaveLength(20);
    expect(Number((db.prepare('SELECT count(*) AS n FROM host_events').get() as { n: number }).n)).toBeLessThanOrEqual(40);
  });
});
