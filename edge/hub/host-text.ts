/**
 * The host's own text of what a large frame carries for a client: a REST call's result, an MCP
 * session's message (the server's text: see host/raw-json.ts). The Hub parses every frame to
 * check it; what goes on to the client is this text rather than the parsed value serialized again.
 */
import { isOneLine, memberText, RAW_MIN_CHARS } from '../../shared/json-spans.ts';
import type { Frame } from '../../shared/protocol.ts';

/** Parsed values -> the JSON text they were parsed from (large ones only). */
const texts = new WeakMap<object, string>();

/** Notes the text of a large `rpc.response`'s result or `mcp.message`'s message, from the frame's text (which JSON.parse accepted). */
export function rememberHostText(frame: Frame, text: string): void {
  if (text.length < RAW_MIN_CHARS) return;
  const key = frame.type === 'rpc.response' ? 'result' : frame.type === 'mcp.message' ? 'message' : undefined;
  const value = key === 'result' ? (frame as { result?: unknown }).result : key === 'message' ? (frame as { message: unknown }).message : undefined;
  if (key === undefined || typeof value !== 'object' || value === null) return;
  const span = memberText(text, key);
  // One line: an SSE event's data (and a log line) must not be split by the text's own line breaks.
  if (span !== undefined && isOneLine(span)) texts.set(value, span);
}

/** The host's text of a value taken from one of its frames, if it was large enough to be noted. */
export function hostTextOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? texts.get(value) : undefined;
}
