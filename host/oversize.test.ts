import { describe, expect, it } from 'vitest';
import { RESPONSE_TOO_LARGE_CODE, standInFor } from './oversize.ts';

describe('standInFor', () => {
  it('turns a call’s result into a FRAME_TOO_LARGE fault for the same call', () => {
    expect(standInFor({ type: 'rpc.response', id: 'a.1', result: { huge: true } }, 'too big')).toEqual({
      type: 'rpc.response',
      id: 'a.1',
      fault: { code: 'FRAME_TOO_LARGE', message: expect.stringContaining('too big') },
    });
  });

  it('turns a response in an MCP session into a JSON-RPC error for the same id', () => {
    const standIn = standInFor({ type: 'mcp.message', server: 's', session: 'x', message: { jsonrpc: '2.0', id: 7, result: {} } }, 'too big');
    expect(standIn).toEqual({ type: 'mcp.message', server: 's', session: 'x', message: { jsonrpc: '2.0', id: 7, error: { code: RESPONSE_TOO_LARGE_CODE, message: expect.any(String) } } });
  });

  it('has nothing to send for a notification or a server request', () => {
    expect(standInFor({ type: 'mcp.message', server: 's', session: 'x', message: { jsonrpc: '2.0', method: 'notifications/message', params: {} } }, 'r')).toBeUndefined();
    expect(standInFor({ type: 'mcp.message', server: 's', session: 'x', message: { jsonrpc: '2.0', id: 1, method: 'sampling/createMessage' } }, 'r')).toBeUndefined();
  });
});
