/**
 * A large answer from a server travels on as the text the server wrote, not parsed and written
 * again: the host still parses every line (to check it and to find its id), but the frame for
 * the edge is put together around the line's own text for the result (REST calls) or the whole
 * message (MCP sessions). For a 1 MiB answer that saves a 1 MiB `JSON.stringify` and its garbage.
 * The same goes the other way for a large request from the edge: its params (or the session's
 * whole message) reach the server's stdin as the text the edge sent. Small lines go the plain
 * way: for them the difference is nothing.
 *
 * Where such a text is plain ASCII, its bytes as they arrived (the server's stdout line, the
 * edge's WebSocket message) are kept too, one byte a character, and written on as they are:
 * no string joined around a MiB (a copy) and encoded again (another), and far less for the
 * garbage collector, whose young generation a MiB-sized string overflows at once.
 */
import { isOneLine, memberSpan } from '../shared/json-spans.ts';
import type { Frame, FrameOf } from '../shared/protocol.ts';

/** Parsed values (objects and arrays) -> the JSON text they were parsed from. */
const texts = new WeakMap<object, string>();
/** The same, for texts of plain ASCII: their bytes, as many as the text has characters. */
const asciiBytes = new WeakMap<object, Uint8Array>();

/**
 * Notes that `value` was parsed from `text` (which JSON.parse accepted), to be sent on as that
 * text; `bytes`, if given, is the text's UTF-8, kept when it is plain ASCII. The host never
 * changes a server's message in place (filters make new objects), which is what keeps the text
 * true to the value.
 */
export function rememberText(value: unknown, text: string, bytes?: Uint8Array): void {
  if (typeof value !== 'object' || value === null) return;
  texts.set(value, text);
  // UTF-8 takes more than one byte for any character past ASCII: equal lengths mean ASCII.
  if (bytes !== undefined && bytes.length === text.length) asciiBytes.set(value, bytes);
}

/**
 * Notes the text of what a large frame from the edge carries for a server: a call's params, a
 * session's message. `bytes`: the frame's UTF-8 as it arrived, if the frame came in one message.
 */
export function rememberFrameText(frame: Frame, text: string, bytes?: Uint8Array): void {
  const key = frame.type === 'rpc.request' && frame.params !== undefined ? 'params' : frame.type === 'mcp.message' ? 'message' : undefined;
  if (key === undefined) return;
  const span = memberSpan(text, key);
  if (span === undefined) return;
  const value = text.slice(span[0], span[1]);
  // Plain ASCII frames only: then a character's index is its byte's.
  const ascii = bytes !== undefined && bytes.length === text.length ? bytes.subarray(span[0], span[1]) : undefined;
  if (isOneLine(value)) rememberText(key === 'params' ? (frame as FrameOf<'rpc.request'>).params : (frame as FrameOf<'mcp.message'>).message, value, ascii);
}

type StdinMessage = { jsonrpc: '2.0'; id?: unknown; method?: string; params?: unknown };

/** A JSON-RPC message for a server's stdin: around the edge's own text for its params, or the whole message. */
export function messageText(message: StdinMessage): string {
  const whole = texts.get(message);
  if (whole !== undefined) return whole;
  const params = typeof message.params === 'object' && message.params !== null ? texts.get(message.params) : undefined;
  if (params === undefined || !plainRequest(message)) return JSON.stringify(message);
  return `${requestHead(message)}${params}}`;
}

/**
 * What `messageText` gives, as pieces to write one after another, where its large part came as
 * ASCII bytes (written as they are); undefined otherwise (write `messageText`).
 */
export function messageBytes(message: StdinMessage): (string | Uint8Array)[] | undefined {
  const whole = asciiBytes.get(message);
  if (whole !== undefined) return [whole];
  const params = typeof message.params === 'object' && message.params !== null ? asciiBytes.get(message.params) : undefined;
  if (params === undefined || !plainRequest(message)) return undefined;
  return [requestHead(message), params, '}'];
}

/** A request or notification with nothing but jsonrpc, id, method and params (written around its params' text). */
function plainRequest(message: StdinMessage): boolean {
  return message.method !== undefined && Object.keys(message).length === (message.id === undefined ? 3 : 4);
}

function requestHead(message: StdinMessage): string {
  return `{"jsonrpc":"2.0",${message.id === undefined ? '' : `"id":${JSON.stringify(message.id)},`}"method":${JSON.stringify(message.method)},"params":`;
}

/** The frame's JSON text: around the server's own text where the frame carries it unchanged. */
export function frameText(frame: Frame): string {
  const carried = carriedOf(frame);
  const text = carried === undefined ? undefined : texts.get(carried);
  if (text === undefined) return JSON.stringify(frame);
  const [head, tail] = frameEnds(frame as CarryingFrame);
  return `${head}${text}${tail}`;
}

/**
 * The frame's JSON text as bytes, where what it carries came as ASCII bytes (so the frame is
 * ASCII too: as many bytes as characters): `frameText`'s text, never encoded as a whole. With it,
 * `carried`: the carried value's text, one level down in the frame (for the nesting check).
 */
export function frameBytes(frame: Frame): { bytes: Buffer; carried: string } | undefined {
  const value = carriedOf(frame);
  const bytes = value === undefined ? undefined : asciiBytes.get(value);
  const carried = value === undefined ? undefined : texts.get(value);
  if (bytes === undefined || carried === undefined) return undefined;
  const [head, tail] = frameEnds(frame as CarryingFrame);
  // Names and ids are checked names and strings of JSON.stringify: non-ASCII in them would make more bytes than characters.
  if (Buffer.byteLength(head) !== head.length) return undefined;
  const out = Buffer.allocUnsafe(head.length + bytes.length + tail.length);
  out.write(head, 0, 'latin1');
  out.set(bytes, head.length);
  out.write(tail, head.length + bytes.length, 'latin1');
  return { bytes: out, carried };
}

type CarryingFrame = FrameOf<'rpc.response'> | FrameOf<'mcp.message'>;

/** The object a frame carries for a client that may have a text of its own: a plain result, a relayed message. */
function carriedOf(frame: Frame): object | undefined {
  if (frame.type === 'rpc.response') {
    // type, id, result: anything more (an error, a fault, another member) goes the plain way.
    if (frame.error !== undefined || frame.fault !== undefined || Object.keys(frame).length !== 3) return undefined;
    return typeof frame.result === 'object' && frame.result !== null ? frame.result : undefined;
  }
  if (frame.type === 'mcp.message' && Object.keys(frame).length === 4) return frame.message;
  return undefined;
}

/** The frame's text before and after the carried value's. */
function frameEnds(frame: CarryingFrame): [head: string, tail: string] {
  if (frame.type === 'rpc.response') return [`{"type":"rpc.response","id":${JSON.stringify(frame.id)},"result":`, '}'];
  return [`{"type":"mcp.message","server":${JSON.stringify(frame.server)},"session":${JSON.stringify(frame.session)},"message":`, '}'];
}
