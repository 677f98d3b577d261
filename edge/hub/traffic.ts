/**
 * What the Hub counts for /status, in one place: calls and errors since start (ServerStats), the
 * traffic history (History, written by HistoryStore on the alarm), host connections (HostLog);
 * and the /status document built from them.
 */
import { History } from './history.ts';
import { HistoryStore } from './history-store.ts';
import { HostLog } from './host-log.ts';
import { listSessions, type LiveSession } from './live-sessions.ts';
import { GatewayError } from '../../shared/errors.ts';
import { callOutcome, type FinishedCall } from './outcome.ts';
import { ServerStats, statusOf, type HubStatus, type ProcessCounts } from './status.ts';
import { historyStatusOf, type HistoryChoice, type HistoryStatus } from './status-history.ts';
import type { HubSql } from './types.ts';

/** How long a change to the traffic history waits in memory before it is written to storage. */
export const HISTORY_FLUSH_MS = 5000;

/** GET /status: the current state, its history, and the live sessions. */
export type HubFullStatus = HubStatus & { history: HistoryStatus; liveSessions: LiveSession[] };

export class Traffic {
  readonly #sql: HubSql;
  readonly #now: () => number;
  readonly #stats: ServerStats;
  readonly #history: History;
  readonly #store: HistoryStore;
  readonly #hostLog: HostLog;

  /** `scheduleFlush` asks for `flush` to run in `delayMs` (the Hub's alarm). */
  constructor(sql: HubSql, now: () => number, scheduleFlush: (delayMs: number) => void) {
    this.#sql = sql;
    this.#now = now;
    this.#stats = new ServerStats(sql, now);
    this.#history = new History(now, () => scheduleFlush(HISTORY_FLUSH_MS));
    this.#store = new HistoryStore(sql, this.#history, now);
    this.#hostLog = new HostLog(sql);
  }

  /** One finished call: O(1), in memory. */
  finished(call: FinishedCall): void {
    this.#stats.count(call.server, call.code === null || call.code === 'TOOL_ERROR');
    this.#history.record(call.server, call.host, call.ms, call.code, call.what);
  }

  /**
   * Runs one request of a server and counts it, with the host `hostOf` names once it ran.
   * Refusals before any server was asked (no such server, no such session) are not counted.
   */
  async timed<T>(server: string, what: string, hostOf: () => string | null, work: () => Promise<T>): Promise<T> {
    const startedAt = this.#now();
    try {
      const result = await work();
      this.finished({ server, host: hostOf(), ms: this.#now() - startedAt, code: callOutcome(result), what });
      return result;
    } catch (err) {
      if (err instanceof GatewayError && err.code !== 'SESSION_NOT_FOUND' && err.code !== 'SERVER_NOT_FOUND') {
        this.finished({ server, host: hostOf(), ms: this.#now() - startedAt, code: err.code, what });
      }
      throw err;
    }
  }

  hostConnected(hostId: string): void {
    this.#hostLog.connected(hostId, this.#now());
  }

  /** `code`: the WebSocket close code, null when the connection was found gone (after a restart). */
  hostDropped(hostId: string, code: number | null): void {
    this.#hostLog.dropped(hostId, this.#now(), code);
  }

  hostProcesses(hostId: string, counts: ProcessCounts): void {
    this.#stats.host(hostId, counts);
  }

  /** A host forgotten (it left, or restated itself in a new hello): its process counts go with it. */
  hostGone(hostId: string): void {
    this.#stats.forgetHost(hostId);
  }

  /** Writes the history's changes to storage. */
  flush(): void {
    this.#store.flush();
  }

  status(callsInFlight: number, history: HistoryChoice): HubFullStatus {
    return {
      ...statusOf(this.#sql, this.#stats, this.#now(), callsInFlight),
      history: historyStatusOf(this.#history, this.#store, this.#hostLog, history),
      liveSessions: listSessions(this.#sql),
    };
  }
}
