/**
 * What the host sends instead of a frame larger than the edge accepts (the edge closes a
 * connection that sends more): a call's result becomes a FRAME_TOO_LARGE fault, a response in an
 * MCP session a JSON-RPC error for the same id. Anything else is dropped (the caller logs it).
 */
import type { Frame } from '../shared/protocol.ts';

/** The JSON-RPC error code for a response the gateway could not carry (implementation-defined range). */
export const RESPONSE_TOO_LARGE_CODE = -32001;

export function standInFor(frame: Frame, reason: string): Frame | undefined {
  if (frame.type === 'rpc.response') {
    return { type: 'rpc.response', id: frame.id, fault: { code: 'FRAME_TOO_LARGE', message: `the server's answer is too large for the gateway: ${reason}` } };
  }
  if (frame.type === 'mcp.message') {
    const { id, method } = frame.message;
    if (method === undefined && id !== undefined && id !== null) {
      return {
        ...frame,
        message: { jsonrpc: '2.0', id, error: { code: RESPONSE_TOO_LARGE_CODE, message: `the server's response is too large for the gateway: ${reason}` } },
      };
    }
  }
  return undefined;
}
