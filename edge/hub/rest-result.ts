/**
 * A REST tool call's answer as its client gets it, as JSON text. A large result is passed on as
 * the text the host sent (the server's own text: see host/raw-json.ts), not parsed and serialized
 * again: the Hub still parses every frame to check it, and notes where a large result's text is.
 */
import { fitResult } from '../../shared/results.ts';
import { memberText, RAW_MIN_CHARS } from '../../shared/json-spans.ts';
import type { Frame } from '../../shared/protocol.ts';

/** Parsed results -> the JSON text they were parsed from (large results only). */
const texts = new WeakMap<object, string>();

/** Notes the text of a large `rpc.response`'s result, from the frame's text (which JSON.parse accepted). */
export function rememberResultText(frame: Frame, text: string): void {
  if (frame.type !== 'rpc.response' || text.length < RAW_MIN_CHARS || !isRecord(frame.result)) return;
  const result = memberText(text, 'result');
  if (result !== undefined) texts.set(frame.result, result);
}

/**
 * A tools/call result as REST clients get it: `content`, `structuredContent` if any, and `isError`
 * always (false unless the server said true); cut to `maxChars` characters when longer (0: never).
 */
export function restResultText(result: unknown, maxChars: number): string {
  const text = isRecord(result) ? texts.get(result) : undefined;
  if (text !== undefined) {
    const whole = withIsError(result as Record<string, unknown>, text);
    if (whole !== undefined && (maxChars <= 0 || whole.length <= maxChars)) return whole;
  }
  return fitResult(normalizeToolResult(result), maxChars);
}

/** The result's text with `isError` as `normalizeToolResult` makes it, or undefined where that takes a copy. */
function withIsError(result: Record<string, unknown>, text: string): string | undefined {
  if (typeof result.isError === 'boolean') return text;
  if (Object.hasOwn(result, 'isError')) return undefined;
  // No isError member (escaped or not, JSON.parse would have made one): it goes last.
  const end = text.lastIndexOf('}');
  return `${text.slice(0, end)}${Object.keys(result).length > 0 ? ',' : ''}"isError":false}`;
}

function normalizeToolResult(result: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = isRecord(result) ? { ...result } : { content: [] };
  body.isError = body.isError === true;
  return body;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
