import { describe, expect, it } from 'vitest';
import { hotFrame } from './hot-frames.ts';
import { FrameSchema } from './protocol.ts';

/** What the full schema makes of a text: the frame, or 'refused'. */
function bySchema(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'refused';
  }
  const parsed = FrameSchema.safeParse(value);
  return parsed.success ? parsed.data : 'refused';
}

const accepted = [
  { type: 'rpc.response', id: 'a.1', result: { content: [{ type: 'text', text: 'Echo: hi' }] } },
  { type: 'rpc.response', id: 'a.2', result: null },
  { type: 'rpc.response', id: 'a.3' },
  { type: 'rpc.response', id: 'a.4', result: 1, extra: 'stripped' },
  { type: 'mcp.message', server: 'everything', session: 's1', message: { jsonrpc: '2.0', id: 3, result: {} } },
  { type: 'mcp.message', server: 'every_thing-2', session: 's1', message: { jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } } },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'bad' } } },
  { type: 'rpc.request', id: 'c.1', server: 'everything', session: 's1', method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } }, timeoutMs: 60_000 },
  { type: 'rpc.request', id: 'c.2', server: 'every_thing-2', session: 's1', method: 'tools/list', timeoutMs: 1 },
  { type: 'rpc.request', id: 'c.3', server: 'x', session: 's', method: 'm', params: null, timeoutMs: 3_600_000, extra: 'stripped' },
  { type: 'mcp.message', server: 'everything', session: 's1', message: { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo' } } },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '2.0', method: 'notifications/initialized' } },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '2.0', id: 'a', result: {}, more: [1] } },
];

const others = [
  { type: 'rpc.response', id: '', result: 1 },
  { type: 'rpc.response', id: 'x'.repeat(129), result: 1 },
  { type: 'rpc.response', id: 7, result: 1 },
  { type: 'rpc.response', id: 'e', error: { code: -32602, message: 'bad arguments' } },
  { type: 'rpc.response', id: 'f', fault: { code: 'SPAWN_FAILED', message: 'no' } },
  { type: 'mcp.message', server: 'bad name', session: 's', message: { jsonrpc: '2.0', id: 1 } },
  { type: 'mcp.message', server: 'x', session: '', message: { jsonrpc: '2.0', id: 1 } },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '1.0', id: 1 } },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '2.0', id: true } },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '2.0', method: 5 } },
  { type: 'mcp.message', server: 'x', session: 's', message: [{ jsonrpc: '2.0' }] },
  { type: 'host.stats', sessions: 1, pooled: 0, watching: 0 },
  { type: 'chunk', id: 'c', seq: 0, last: true, data: '{}' },
  { type: 'rpc.request', id: '', server: 'x', session: 's', method: 'm', timeoutMs: 1 },
  { type: 'rpc.request', id: 'x'.repeat(129), server: 'x', session: 's', method: 'm', timeoutMs: 1 },
  { type: 'rpc.request', id: 7, server: 'x', session: 's', method: 'm', timeoutMs: 1 },
  { type: 'rpc.request', id: 'a', server: 'bad name', session: 's', method: 'm', timeoutMs: 1 },
  { type: 'rpc.request', id: 'a', server: 'x', session: '', method: 'm', timeoutMs: 1 },
  { type: 'rpc.request', id: 'a', server: 'x', session: 's', method: '', timeoutMs: 1 },
  { type: 'rpc.request', id: 'a', server: 'x', session: 's', method: 'm'.repeat(257), timeoutMs: 1 },
  { type: 'rpc.request', id: 'a', server: 'x', session: 's', method: 'm', timeoutMs: 0 },
  { type: 'rpc.request', id: 'a', server: 'x', session: 's', method: 'm', timeoutMs: 1.5 },
  { type: 'rpc.request', id: 'a', server: 'x', session: 's', method: 'm', timeoutMs: 3_600_001 },
  { type: 'rpc.request', id: 'a', server: 'x', session: 's', method: 'm', timeoutMs: '5' },
  { type: 'rpc.request', id: 'a', server: 'x', session: 's', method: 'm' },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '1.0', id: 1 } },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '2.0', id: true } },
  { type: 'mcp.message', server: 'x', session: 's', message: { jsonrpc: '2.0', method: 5 } },
  { type: 'mcp.message', server: 'x', session: 's', message: [{ jsonrpc: '2.0' }] },
  { type: 'rpc.cancel', id: 'a' },
  { type: 'host.welcome', version: '1.1' },
  { type: 'chunk', id: 'c', seq: 0, last: true, data: '{}' },
];

describe('hotFrame', () => {
  it('gives exactly what the full schema gives for the frames it takes', () => {
    for (const frame of accepted) {
      const text = JSON.stringify(frame);
      expect(hotFrame(text), text).toEqual(bySchema(text));
    }
  });

  it('leaves every other frame, valid or not, to the decoder and its schema', () => {
    for (const frame of others) expect(hotFrame(JSON.stringify(frame)), JSON.stringify(frame)).toBeUndefined();
    for (const text of ['', 'nope', '[]', 'null', '{"type":"rpc.response"', '{"type":"rpc.request"', `${'['.repeat(300)}${']'.repeat(300)}`]) expect(hotFrame(text)).toBeUndefined();
  });

  it('leaves frames too deep or too large to the decoder', () => {
    const deepResult = { type: 'rpc.response', id: 'd', result: JSON.parse(`${'['.repeat(300)}${']'.repeat(300)}`) };
    const deepParams = { type: 'rpc.request', id: 'd', server: 'x', session: 's', method: 'm', params: JSON.parse(`${'['.repeat(300)}${']'.repeat(300)}`), timeoutMs: 1 };
    for (const deep of [deepResult, deepParams]) expect(hotFrame(JSON.stringify(deep))).toBeUndefined();
    expect(hotFrame(JSON.stringify({ type: 'rpc.response', id: 'l', result: 'x'.repeat(300_000) }))).toBeUndefined();
    expect(hotFrame(JSON.stringify({ type: 'rpc.request', id: 'l', server: 'x', session: 's', method: 'm', params: 'x'.repeat(300_000), timeoutMs: 1 }))).toBeUndefined();
  });
});
