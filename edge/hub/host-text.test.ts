import { describe, expect, it } from 'vitest';
import { RAW_MIN_CHARS } from '../../shared/json-spans.ts';
import type { Frame } from '../../shared/protocol.ts';
import { hostTextOf, rememberHostText } from './host-text.ts';

const big = 'b'.repeat(RAW_MIN_CHARS);

function received(text: string): Frame & { message?: object } {
  const frame = JSON.parse(text) as Frame & { message?: object };
  rememberHostText(frame, text);
  return frame;
}

describe('rememberHostText', () => {
  it('keeps a large session message as the host wrote it', () => {
    const message = `{"jsonrpc":"2.0", "id":7, "result":{"text":"${big}"}}`;
    const frame = received(`{"type":"mcp.message","server":"s","session":"x","message":${message}}`);
    expect(hostTextOf(frame.message)).toBe(message);
  });

  it('keeps nothing for small frames, or for text with line breaks (an SSE event is one line of data)', () => {
    expect(hostTextOf(received('{"type":"mcp.message","server":"s","session":"x","message":{"jsonrpc":"2.0","id":1,"result":{}}}').message)).toBeUndefined();
    const broken = received(`{"type":"mcp.message","server":"s","session":"x","message":{"jsonrpc":"2.0",\r"id":1,"result":{"text":"${big}"}}}`);
    expect(hostTextOf(broken.message)).toBeUndefined();
  });
});
