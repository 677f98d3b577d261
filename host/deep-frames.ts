/**
 * A server's answer nested deeper than the edge accepts in a frame would be refused there
 * (BAD_FRAME) and leave its caller waiting for the deadline. The host checks what it is about to
 * send and answers the caller with a clear error at once instead.
 */
import { MAX_FRAME_JSON_DEPTH } from '../shared/constants.ts';
import { nestsDeeperThan } from '../shared/json-depth.ts';
import type { Frame } from '../shared/protocol.ts';

/** Whether a frame's JSON text nests deeper than the edge accepts (checked once, before it is cut into chunks). */
export function tooDeep(text: string): boolean {
  return nestsDeeperThan(text, MAX_FRAME_JSON_DEPTH);
}

/**
 * `tooDeep` for a frame that carries `text` as one of its members (a result, a relayed message),
 * checked on that text alone: the frame around it adds one level.
 */
export function carriedTooDeep(text: string): boolean {
  return nestsDeeperThan(text, MAX_FRAME_JSON_DEPTH - 1);
}

const WHY = `the server's answer nests arrays and objects deeper than ${MAX_FRAME_JSON_DEPTH} levels`;

/** What to send instead of a frame that is too deep: an error to the same caller, or nothing. */
export function refusal(frame: Frame): Frame | undefined {
  if (frame.type === 'rpc.response') return { type: 'rpc.response', id: frame.id, fault: { code: 'UPSTREAM_ERROR', message: WHY } };
  if (frame.type === 'mcp.message' && frame.message.id !== undefined && frame.message.id !== null && frame.message.method === undefined) {
    return { ...frame, message: { jsonrpc: '2.0', id: frame.message.id, error: { code: -32603, message: WHY } } };
  }
  return undefined;
}
