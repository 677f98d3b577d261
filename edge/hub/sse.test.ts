import { describe, expect, it } from 'vitest';
import { SseStream } from './sse.ts';

const OPTS = { keepaliveMs: 60_000, maxQueuedBytes: 1000 };

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('SseStream', () => {
  it('delivers every event in order, the ones written before close included', async () => {
    const stream = new SseStream(OPTS);
    stream.send('one', { id: '1' });
    stream.send('two\nlines', { id: '2', event: 'message' });
    stream.close();
    expect(await readAll(stream.readable)).toBe('id: 1\ndata: one\n\nevent: message\nid: 2\ndata: two\ndata: lines\n\n');
    expect(stream.closed).toBe(true);
  });

  it('hands large backlogs to the reader in chunks, each event whole', async () => {
    const stream = new SseStream({ ...OPTS, maxQueuedBytes: 1 << 20 });
    const events = Array.from({ length: 40 }, (_, i) => `${i}:${'x'.repeat(10_000)}`);
    for (const e of events) stream.send(e);
    stream.close();
    const reader = stream.readable.getReader();
    const chunks: number[] = [];
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      chunks.push(r.value.byteLength);
      text += new TextDecoder().decode(r.value);
    }
    expect(text).toBe(events.map((e) => `data: ${e}\n\n`).join(''));
    expect(chunks.length).toBeGreaterThan(1);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(64 * 1024);
  });

  it('a reader that stops reading has its stream closed once maxQueuedBytes wait, and nothing more is kept', async () => {
    const stream = new SseStream(OPTS);
    let closedBy = 0;
    stream.onClose(() => closedBy++);
    const reader = stream.readable.getReader();
    const event = 'y'.repeat(200);
    let accepted = 0;
    while (stream.send(event)) accepted++;
    expect(accepted).toBe(5); // 5 events of 208 characters reach 1000: the sixth is refused
    expect(stream.closed).toBe(true);
    expect(closedBy).toBe(1);
    expect(stream.queuedChars).toBe(0);
    await expect(reader.read()).rejects.toThrow('SSE reader too slow');
  });

  it('a reader that keeps up is never cut off, whatever passes through', async () => {
    const stream = new SseStream(OPTS);
    const reader = stream.readable.getReader();
    for (let i = 0; i < 50; i++) {
      expect(stream.send('y'.repeat(300))).toBe(true);
      const { value } = await reader.read();
      expect(new TextDecoder().decode(value)).toBe(`data: ${'y'.repeat(300)}\n\n`);
    }
    expect(stream.closed).toBe(false);
    stream.close();
  });

  it('a reader that goes away ends the stream (its close listeners run)', async () => {
    const stream = new SseStream(OPTS);
    let closed = false;
    stream.onClose(() => (closed = true));
    await stream.readable.cancel();
    expect(closed).toBe(true);
    expect(stream.send('late')).toBe(false);
  });

  it('closed by the gateway while text waits: takes no more writes, and ends once the reader has it all', async () => {
    const stream = new SseStream({ ...OPTS, maxQueuedBytes: 1 << 20 });
    const events = Array.from({ length: 20 }, (_, i) => `${i}:${'z'.repeat(10_000)}`);
    for (const e of events) stream.send(e);
    stream.close();
    expect(stream.closed).toBe(true);
    expect(stream.send('late')).toBe(false);
    expect(stream.queuedChars).toBeGreaterThan(0); // not encoded until read
    expect(await readAll(stream.readable)).toBe(events.map((e) => `data: ${e}\n\n`).join(''));
    expect(stream.queuedChars).toBe(0);
  });
});
