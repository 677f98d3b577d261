import { describe, expect, it } from 'vitest';
import { ListenStreams } from './listen.ts';

const SSE = { keepaliveMs: 60_000, maxQueuedBytes: 1 << 20 };

async function events(res: Response, count: number): Promise<any[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const found = () => text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6).map((l) => JSON.parse(l.slice(6)));
  while (found().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  reader.releaseLock();
  return found();
}

describe('subscriptions/listen streams', () => {
  it('honor only what the client asked and the server declared, and tag each notification', async () => {
    const listen = new ListenStreams(SSE);
    const res = listen.open('s', 'p', 7, { notifications: { toolsListChanged: true, promptsListChanged: true, resourceSubscriptions: ['x'] } }, { tools: { listChanged: true }, prompts: {} });
    listen.changed('s', 'prompts');
    listen.changed('other', 'tools');
    listen.changed('s', 'tools');
    const [ack, change] = await events(res, 2);
    expect(ack).toEqual({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: { toolsListChanged: true }, _meta: { 'io.modelcontextprotocol/subscriptionId': 7 } } });
    expect(change).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 7 } } });
  });

  it('end at once, gracefully, when nothing asked for can be delivered', async () => {
    const res = new ListenStreams(SSE).open('s', 'p', 'a', { notifications: { resourcesListChanged: true } }, { resources: {} });
    const [ack, result] = await events(res, 3);
    expect(ack.params.notifications).toEqual({});
    expect(result).toEqual({ jsonrpc: '2.0', id: 'a', result: { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': 'a' } } });
  });

  it('cap the streams one principal holds', () => {
    const listen = new ListenStreams(SSE);
    for (let i = 0; i < 16; i++) listen.open('s', 'p', i, { notifications: { toolsListChanged: true } }, { tools: { listChanged: true } });
    expect(() => listen.open('s', 'p', 99, { notifications: { toolsListChanged: true } }, { tools: { listChanged: true } })).toThrow(/at most 16/);
    expect(() => listen.open('s', 'q', 99, { notifications: { toolsListChanged: true } }, { tools: { listChanged: true } })).not.toThrow();
  });
});
