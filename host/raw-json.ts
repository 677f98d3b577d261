/**
 * A large answer from a server travels on as the text the server wrote, not parsed and written
 * again: the host still parses every line (to check it and to find its id), but the frame for
 * the edge is put together around the line's own text for the result (REST calls) or the whole
 * message (MCP sessions). For a 1 MiB answer that saves a 1 MiB `JSON.stringify` and its garbage.
 * The same goes the other way for a large request from the edge: its params (or the session's
 * whole message) reach the server's stdin as the text the edge sent. Small lines go the plain
 * way: for them the difference is nothing.
 */
import type { Frame, FrameOf } from '../shared/protocol.ts';

/** Lines shorter than this are parsed and serialized again as usual. */
export const RAW_MIN_CHARS = 64 * 1024;

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

/**
 * The value of a top-level member of a JSON object text, as a span of that text, or undefined.
 * The text must be one JSON.parse accepted; as JSON.parse does, the last of duplicate keys wins.
 * Keys written with escapes are not matched (undefined: the caller serializes as usual).
 */
export function memberText(text: string, key: string): string | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  i = skipSpace(text, i + 1);
  let found: string | undefined;
  while (text.charCodeAt(i) === 0x22) {
    const keyEnd = stringEnd(text, i);
    const name = text.slice(i + 1, keyEnd);
    if (name.includes('\\')) return undefined; // an escaped key may be a duplicate JSON.parse sees differently
    i = skipSpace(text, keyEnd + 1);
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    const start = skipSpace(text, i + 1);
    const end = valueEnd(text, start);
    if (name === key) found = text.slice(start, end);
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== 0x2c) break;
    i = skipSpace(text, i + 1);
  }
  return found;
}

/** Notes the text of what a large frame from the edge carries for a server: a call's params, a session's message. */
export function rememberFrameText(frame: Frame, text: string): void {
  if (frame.type === 'rpc.request' && frame.params !== undefined) {
    const params = memberText(text, 'params');
    if (params !== undefined) rememberText(frame.params, params);
  } else if (frame.type === 'mcp.message') {
    const message = memberText(text, 'message');
    if (message !== undefined) rememberText(frame.message, message);
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

function skipSpace(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = text.charCodeAt(++i);
  return i;
}

/** Index of the quote that ends the string starting at `start` (a quote). */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** Index just past the JSON value starting at `start`. */
function valueEnd(text: string, start: number): number {
  const c = text.charCodeAt(start);
  if (c === 0x22) return stringEnd(text, start) + 1;
  if (c !== 0x7b && c !== 0x5b) {
    // A number, true, false or null: up to the next delimiter.
    let i = start;
    for (let d = text.charCodeAt(i); i < text.length && d !== 0x2c && d !== 0x7d && d !== 0x5d && d !== 0x20 && d !== 0x09 && d !== 0x0a && d !== 0x0d; d = text.charCodeAt(++i));
    return i;
  }
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x22) i = stringEnd(text, i);
    else if (d === 0x7b || d === 0x5b) depth++;
    else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1;
  }
  return text.length;
}
