/**
 * The frames every call brings (the edge's `rpc.request` and `mcp.message` to a host, a host's
 * `rpc.response` and `mcp.message` to the edge), checked by hand before the full schema: the same
 * rules as `FrameSchema` for these shapes, without zod's generic walk (which cannot compile its
 * parsers on workerd). Anything else, or anything these checks are unsure of (errors, faults,
 * unusual fields), returns undefined and goes through the frame decoder and its schema as before,
 * so no frame is accepted here that the schema would refuse, and each one taken is what the schema
 * would give.
 */
import { CHUNK_CHARS, MAX_FRAME_JSON_DEPTH, NAME_PATTERN } from './constants.ts';
import { nestsDeeperThan } from './json-depth.ts';
import type { Frame, FrameOf, JsonRpcMessage } from './protocol.ts';

type Parsed = Record<string, unknown>;

/** The longest deadline an `rpc.request` may carry (as RequestFrameSchema). */
const MAX_TIMEOUT_MS = 3_600_000;

/** A whole, small `rpc.request`, `rpc.response` (with a result) or `mcp.message` frame; undefined for anything else. */
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
  if (value.type === 'mcp.message') return messageFrame(value);
  if (value.type === 'rpc.response') return responseFrame(value);
  if (value.type === 'rpc.request') return requestFrame(value);
  return undefined;
}

function requestFrame(value: Parsed): FrameOf<'rpc.request'> | undefined {
  const { id, server, session, method, timeoutMs } = value;
  if (!isId(id) || !isName(server) || !isId(session)) return undefined;
  if (typeof method !== 'string' || method.length < 1 || method.length > 256) return undefined;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) return undefined;
  const frame: FrameOf<'rpc.request'> = { type: 'rpc.request', id, server, session, method, timeoutMs };
  if ('params' in value) frame.params = value.params;
  return frame;
}

function responseFrame(value: Parsed): FrameOf<'rpc.response'> | undefined {
  if (!isId(value.id) || value.error !== undefined || value.fault !== undefined) return undefined;
  return 'result' in value ? { type: 'rpc.response', id: value.id, result: value.result } : { type: 'rpc.response', id: value.id };
}

function messageFrame(value: Parsed): FrameOf<'mcp.message'> | undefined {
  const { server, session, message } = value;
  if (!isName(server) || !isId(session) || !isObject(message)) return undefined;
  if (message.jsonrpc !== '2.0') return undefined;
  const { id, method } = message;
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') return undefined;
  if (method !== undefined && typeof method !== 'string') return undefined;
  return { type: 'mcp.message', server, session, message: message as JsonRpcMessage };
}

function isObject(value: unknown): value is Parsed {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/** Call and session ids: 1 to 128 characters. */
function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= 128;
}
