/** The history part of GET /status: traffic windows, host connection history and recent errors. */
import type { History, HistoryRange, SeriesWindow } from './history.ts';
import type { HistoryStore } from './history-store.ts';
import type { HostHistory, HostLog } from './host-log.ts';

/** Which windows /status includes (`?history=`): both by default. */
export type HistoryChoice = HistoryRange | 'both' | 'none';

export interface HistoryStatus {
  /** When the history was last written to the Hub's storage (null: not yet). */
  savedAt: string | null;
  /** Per range: every server's and host's buckets, oldest first. */
  hour?: { servers: Record<string, SeriesWindow>; hosts: Record<string, SeriesWindow> };
  day?: { servers: Record<string, SeriesWindow>; hosts: Record<string, SeriesWindow> };
  hostConnections: Record<string, HostHistory>;
  recentErrors: { at: string; server: string; host: string | null; code: string; what: string }[];
}

export function historyStatusOf(history: History, store: HistoryStore, hostLog: HostLog, choice: HistoryChoice): HistoryStatus {
  const status: HistoryStatus = {
    savedAt: store.savedAt === null ? null : new Date(store.savedAt).toISOString(),
    hostConnections: hostLog.all(),
    recentErrors: history.recentErrors().reverse().map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  };
  if (choice === 'hour' || choice === 'both') status.hour = history.snapshot('hour');
  if (choice === 'day' || choice === 'both') status.day = history.snapshot('day');
  return status;
}
