/**
 * A large answer from a server travels on as the text the server wrote, not parsed and written
 * again: the host still parses every line (to check it and to find its id), but the frame for
 * the edge is put together around the line's own text for the result (REST calls) or the whole
 * message (MCP sessions). For a 1 MiB answer that saves a 1 MiB `JSON.stringify` and its garbage.
 * The same goes the other way for a large request from the edge: its params (or the session's
 * whole message) reach the server's stdin as the text the edge sent. Small lines go the plain
 * way: for them the difference is nothing.
 */
import { isOneLine, memberText } from '../shared/json-spans.ts';
import type { Frame, FrameOf } from '../shared/protocol.ts';

/** Parsed values (objects and arrays) -> the JSON text they were parsed from. */
const texts = new WeakMap<object, string>();

/**
 * Notes that `value` was parsed from `text` (which JSON.parse accepted), to be sent on as that
 * text. The host never changes a server's message in place (filters make new objects), which is
 * what keeps the text true to the value.
 */
export function rememberText(value: unknown, text: string): void {
  if (typeof value === 'object' && value !== null) texts.set(value, text);
}

/** Notes the text of what a large frame from the edge carries for a server: a call's params, a session's message. */
export function rememberFrameText(frame: Frame, text: string): void {
  if (frame.type === 'rpc.request' && frame.params !== undefined) {
    const params = memberText(text, 'params');
    if (params !== undefined && isOneLine(params)) rememberText(frame.params, params);
  } else if (frame.type === 'mcp.message') {
    const message = memberText(text, 'message');
    if (message !== undefined && isOneLine(message)) rememberText(frame.message, message);
  }
}

/** A JSON-RPC message for a server's stdin: around the edge's own text for its params, or the whole message. */
export function messageText(message: { jsonrpc: '2.0'; id?: unknown; method?: string; params?: unknown }): string {
  const whole = texts.get(message);
  if (whole !== undefined) return whole;
  const params = typeof message.params === 'object' && message.params !== null ? texts.get(message.params) : undefined;
  if (params === undefined || message.method === undefined || Object.keys(message).length !== (message.id === undefined ? 3 : 4)) return JSON.stringify(message);
  return `{"jsonrpc":"2.0",${message.id === undefined ? '' : `"id":${JSON.stringify(message.id)},`}"method":${JSON.stringify(message.method)},"params":${params}}`;
}

/** The frame's JSON text: around the server's own text where the frame carries it unchanged. */
export function frameText(frame: Frame): string {
  if (frame.type === 'rpc.response' && frame.error === undefined && frame.fault === undefined) return responseText(frame) ?? JSON.stringify(frame);
  if (frame.type === 'mcp.message' && Object.keys(frame).length === 4) {
    const message = texts.get(frame.message);
    if (message !== undefined) return `{"type":"mcp.message","server":${JSON.stringify(frame.server)},"session":${JSON.stringify(frame.session)},"message":${message}}`;
  }
  return JSON.stringify(frame);
}

function responseText(frame: FrameOf<'rpc.response'>): string | undefined {
  if (Object.keys(frame).length !== 3) return undefined; // type, id, result: anything more goes the plain way
  const result = typeof frame.result === 'object' && frame.result !== null ? texts.get(frame.result) : undefined;
  return result === undefined ? undefined : `{"type":"rpc.response","id":${JSON.stringify(frame.id)},"result":${result}}`;
}
