/**
 * The frames every call brings (an answer, a session's message), checked by hand before the
 * full schema: the same rules as `FrameSchema` for these two shapes, without zod's generic
 * walk (which cannot compile its parsers on workerd). Anything else, or anything these checks
 * are unsure of (errors, faults, unusual fields), returns undefined and goes through the
 * frame decoder and its schema as before, so no frame is accepted here that it would refuse.
 */
import { CHUNK_CHARS, MAX_FRAME_JSON_DEPTH, NAME_PATTERN } from '../../shared/constants.ts';
import { nestsDeeperThan } from '../../shared/json-depth.ts';
import type { Frame, FrameOf, JsonRpcMessage } from '../../shared/protocol.ts';

type Parsed = Record<string, unknown>;

/** A whole, small `rpc.response` (with a result) or `mcp.message` frame; undefined for anything else. */
export function hotFrame(text: string): Frame | undefined {
  // Larger frames arrive in chunks, and the decoder's size rules apply to them.
  if (text.length > CHUNK_CHARS || nestsDeeperThan(text, MAX_FRAME_JSON_DEPTH)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  if (value.type === 'rpc.response') return responseFrame(value);
  if (value.type === 'mcp.message') return messageFrame(value);
  return undefined;
}

function responseFrame(value: Parsed): FrameOf<'rpc.response'> | undefined {
  if (!isId(value.id) || value.error !== undefined || value.fault !== undefined) return undefined;
  return 'result' in value ? { type: 'rpc.response', id: value.id, result: value.result } : { type: 'rpc.response', id: value.id };
}

function messageFrame(value: Parsed): FrameOf<'mcp.message'> | undefined {
  const { server, session, message } = value;
  if (typeof server !== 'string' || !NAME_PATTERN.test(server) || !isId(session) || !isObject(message)) return undefined;
  if (message.jsonrpc !== '2.0') return undefined;
  const { id, method } = message;
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') return undefined;
  if (method !== undefined && typeof method !== 'string') return undefined;
  return { type: 'mcp.message', server, session, message: message as JsonRpcMessage };
}

function isObject(value: unknown): value is Parsed {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Call and session ids: 1 to 128 characters. */
function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= 128;
}
