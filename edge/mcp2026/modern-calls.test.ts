/**
 * The Hub's side of 2026-07-28 in process: what reaches the host for a stateless request, the
 * input_required round trip with a sealed requestState, and hosts too old for the new frames.
 */
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../shared/protocol.ts';
import type { HostConnection, SqlValue } from '../hub/types.ts';
import { ModernCalls } from './modern-calls.ts';

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } };

function setup(version = '1.1') {
  const db = new DatabaseSync(':memory:');
  const sent: Frame[] = [];
  const conn: HostConnection = { hostId: 'laptop', connId: 'c1', send: () => {}, close: () => {} };
  const calls = new ModernCalls(
    {
      sql: { exec: (query: string, ...params: SqlValue[]) => db.prepare(query).all(...params) as Record<string, SqlValue>[] },
      now: () => 1_000_000,
      pickHost: () => conn,
      connectionOf: (hostId) => (hostId === 'laptop' ? conn : undefined),
      send: (_conn, frame) => sent.push(frame),
      finished: () => {},
    },
    { requestTimeoutMs: 5000, parkTtlMs: 60_000, sse: { keepaliveMs: 60_000, maxQueuedBytes: 1 << 20 }, maxCallsPerPrincipal: 10 },
  );
  calls.onHello('laptop', [{ name: 'twin', tools: [], initialize: { capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'twin', version: '1' } } }], version);
  const request = (params: Record<string, unknown>, principal = 'alice') =>
    calls.serve({ server: 'twin', principal, message: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask', arguments: {}, _meta: META, ...params } }, meta: { protocolVersion: '2026-07-28', clientCapabilities: { elicitation: {} } }, wantsSse: false });
  const nextFrame = async () => {
    const deadline = Date.now() + 5000;
    while (sent.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return sent.shift()!;
  };
  return { calls, conn, request, nextFrame };
}

describe('ModernCalls', () => {
  it('sends the request without its envelope, on the lease of its principal and capabilities, and stamps the result', async () => {
    const { calls, conn, request, nextFrame } = setup();
    const answer = request({});
    const frame = await nextFrame();
    expect(frame).toMatchObject({ type: 'modern.call', server: 'twin', method: 'tools/call', params: { name: 'ask', arguments: {} }, clientCapabilities: { elicitation: {} } });
    expect((frame as { params: Record<string, unknown> }).params._meta).toBeUndefined();
    calls.onResponse(conn, { type: 'rpc.response', id: (frame as { id: string }).id, result: { content: [] } });
    const res = await answer;
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [], resultType: 'complete' } });
  });

  it('turns a parked call into input_required, and resumes it with the sealed state, for its principal only', async () => {
    const { calls, conn, request, nextFrame } = setup();
    const first = request({});
    const call = (await nextFrame()) as { id: string };
    calls.onInput(conn, { type: 'modern.input', id: call.id, park: 'park-1', inputRequests: { 'request-0': { method: 'elicitation/create', params: { message: 'Name?' } } } });
    const parked = (await (await first).json()) as { result: { resultType: string; requestState: string } };
    expect(parked.result.resultType).toBe('input_required');

    const stranger = await request({ requestState: parked.result.requestState, inputResponses: {} }, 'mallory');
    expect(stranger.status).toBe(400);

    const resumed = request({ requestState: parked.result.requestState, inputResponses: { 'request-0': { action: 'accept', content: { name: 'Ada' } } } });
    const resume = (await nextFrame()) as { id: string };
    expect(resume).toMatchObject({ type: 'modern.resume', server: 'twin', park: 'park-1', inputResponses: { 'request-0': { action: 'accept' } } });
    calls.onResponse(conn, { type: 'rpc.response', id: resume.id, result: { content: [{ type: 'text', text: 'Hello, Ada!' }] } });
    expect(((await (await resumed).json()) as { result: unknown }).result).toMatchObject({ resultType: 'complete' });
  });

  it('answers at once, naming the fix, when the host predates the 2026-07-28 frames', async () => {
    const { request } = setup('1.0');
    const res = await request({});
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('upgrade it');
  });
});
