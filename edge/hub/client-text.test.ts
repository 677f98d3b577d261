import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../shared/errors.ts';
import { clientTextOf, parseLargeMessage, parseMessage } from './client-text.ts';
import { sendFrame } from './host-links.ts';
import type { HostConnection } from './types.ts';

const big = 'é"'.repeat(40_000);

function sentBy(message: ReturnType<typeof parseMessage>): string[] {
  const texts: string[] = [];
  const conn: HostConnection = { hostId: 'h', connId: 'c', maxMessageChars: 8 * 1024 * 1024, send: (text) => texts.push(text), close: () => {} };
  sendFrame(conn, { type: 'mcp.message', server: 's', session: 'x', message });
  return texts;
}

describe('a large client message', () => {
  it('goes to the host as the client wrote it', () => {
    const text = `{ "jsonrpc" : "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": ${JSON.stringify(big)}}} }`;
    const message = parseLargeMessage(text);
    expect(clientTextOf(message)).toBe(text);
    expect(sentBy(message)).toEqual([`{"type":"mcp.message","server":"s","session":"x","message":${text}}`]);
  });

  it('is serialized again when written over several lines, and refused as the Worker refuses it', () => {
    const message = parseLargeMessage(`{"jsonrpc":"2.0",\n"method":"notifications/x","params":{"big":${JSON.stringify(big)}}}`);
    expect(clientTextOf(message)).toBeUndefined();
    expect(sentBy(message)).toEqual([JSON.stringify({ type: 'mcp.message', server: 's', session: 'x', message })]);
    for (const bad of [`{"jsonrpc":"2.0","id":1,"method":"x"`, `[{"jsonrpc":"2.0","id":1,"method":"x"}]`, `{"id":1,"method":"x"}`]) {
      expect(() => parseLargeMessage(bad)).toThrow(GatewayError);
    }
  });
});
