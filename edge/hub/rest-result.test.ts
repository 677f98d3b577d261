import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RAW_MIN_CHARS } from '../../shared/json-spans.ts';
import type { Frame } from '../../shared/protocol.ts';
import { rememberHostText } from './host-text.ts';
import { restResultText } from './rest-result.ts';

const pad = 'p'.repeat(RAW_MIN_CHARS);

/** The frame a host sends, parsed as the Hub parses it, with its text noted. */
function received(text: string): Frame {
  const frame = JSON.parse(text) as Frame;
  rememberHostText(frame, text);
  return frame;
}

/** What the plain path gives: the result copied with isError set, then serialized. */
function plain(result: Record<string, unknown>): unknown {
  return { ...result, isError: result.isError === true };
}

describe('restResultText', () => {
  it('gives a large result as the value the plain path gives, whatever it holds and however it is written', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), fc.constantFrom(undefined, true, false, 'yes', null), fc.boolean(), (others, isError, spaced) => {
        const result: Record<string, unknown> = { ...others, padding: pad };
        if (isError !== undefined) result.isError = isError;
        const frame = { type: 'rpc.response', id: 'c1', result };
        const parsed = received(spaced ? JSON.stringify(frame, null, 1) : JSON.stringify(frame)) as Extract<Frame, { type: 'rpc.response' }>;
        expect(JSON.parse(restResultText(parsed.result, 0))).toEqual(plain(parsed.result as Record<string, unknown>));
      }),
      { numRuns: 300 },
    );
  });

  it('passes the host\'s own text on, with isError added where the server left it out', () => {
    const text = `{"type":"rpc.response","id":"c1","result":{ "content" : [{"type":"text","text":"${pad}"}] }}`;
    const frame = received(text) as Extract<Frame, { type: 'rpc.response' }>;
    expect(restResultText(frame.result, 0)).toBe(`{ "content" : [{"type":"text","text":"${pad}"}] ,"isError":false}`);
    const empty = received(`{"type":"rpc.response","id":"c2","result":{},"x":"${pad}"}`) as Extract<Frame, { type: 'rpc.response' }>;
    expect(restResultText(empty.result, 0)).toBe('{"isError":false}');
  });

  it('still cuts a result longer than maxChars, the same way as before', () => {
    const frame = received(JSON.stringify({ type: 'rpc.response', id: 'c1', result: { content: [{ type: 'text', text: pad }] } })) as Extract<Frame, { type: 'rpc.response' }>;
    const cut = JSON.parse(restResultText(frame.result, 10_000)) as { content: { text: string }[]; truncated: boolean; isError: boolean };
    expect(cut.truncated).toBe(true);
    expect(cut.isError).toBe(false);
    expect(JSON.stringify(cut).length).toBeLessThanOrEqual(10_000);
  });

  it('serializes small results and results it has no text for', () => {
    expect(restResultText({ content: [] }, 0)).toBe('{"content":[],"isError":false}');
    expect(restResultText(null, 0)).toBe('{"content":[],"isError":false}');
  });
});
