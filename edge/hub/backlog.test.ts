/**
 * The replay backlog of an MCP session is bounded by events and by characters, and only
 * Streamable HTTP sessions (which can resume with Last-Event-ID) keep one.
 */
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SSE_BACKLOG_CHARS } from '../../shared/constants.ts';
import { McpSessions } from './mcp-sessions.ts';
import { SCHEMA } from './schema.ts';
import type { HostConnection, SqlValue } from './types.ts';

function sessions(): { mcp: McpSessions; db: DatabaseSync } {
  const db = new DatabaseSync(':memory:');
  const sql = { exec: (query: string, ...params: SqlValue[]) => db.prepare(query).all(...params) as Record<string, SqlValue>[] };
  for (const statement of SCHEMA) sql.exec(statement);
  const conn: HostConnection = { hostId: 'h', connId: 'c', send: () => {}, close: () => {} };
  const mcp = new McpSessions(
    { sql, now: Date.now, pickHost: () => conn, connectionOf: () => conn, send: () => {}, finished: () => {} },
    { requestTimeoutMs: 60_000, maxSessionsPerPrincipal: 10, sse: { keepaliveMs: 60_000, maxQueuedBytes: 64 * 1024 * 1024 }, backlog: 200 },
  );
  return { mcp, db };
}

/** Reads the SSE events that are ready on a stream, then stops. */
async function readyEvents(response: Response): Promise<{ id: string; data: string }[]> {
  const reader = response.body!.getReader();
  let text = '';
  for (;;) {
    const next = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), 200))]);
    if (!next || next.done) break;
    text += new TextDecoder().decode(next.value);
  }
  void reader.cancel();
  return text
    .split('\n\n')
    .map((block) => ({ id: /^id: (.*)$/m.exec(block)?.[1] ?? '', data: /^data: (.*)$/m.exec(block)?.[1] ?? '' }))
    .filter((e) => e.data.startsWith('{'));
}

describe('MCP session backlog', () => {
  it('keeps at most SSE_BACKLOG_CHARS of undelivered messages, newest first', async () => {
    const { mcp, db } = sessions();
    const init = mcp.post({ server: 's', sessionId: null, principal: 'p', message: { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, wantsSse: false });
    const session = String((db.prepare('SELECT id FROM mcp_sessions').get() as { id: string }).id);
    mcp.onServerMessage(session, { jsonrpc: '2.0', id: 1, result: {} });
    expect((await init).headers.get('mcp-session-id')).toBe(session);
    const big = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 10; i++) mcp.onServerMessage(session, { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `${i}:${big}` } });

    const replayed = await readyEvents(mcp.openStream('s', session, 'p', '0'));
    const held = replayed.map((e) => JSON.parse(e.data).params.data.split(':')[0]);
    expect(held.length).toBeGreaterThan(0);
    expect(held.length * big.length).toBeLessThanOrEqual(SSE_BACKLOG_CHARS);
    expect(held.at(-1)).toBe('9');
  });
});
