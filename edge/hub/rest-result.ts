/**
 * A REST tool call's answer as its client gets it, as JSON text. A large result is passed on as
 * the text the host sent (host-text.ts), not serialized again.
 */
import { fitResult } from '../../shared/results.ts';
import { hostTextOf } from './host-text.ts';

/**
 * A tools/call result as REST clients get it: `content`, `structuredContent` if any, and `isError`
 * always (false unless the server said true); cut to `maxChars` characters when longer (0: never).
 */
export function restResultText(result: unknown, maxChars: number): string {
  const text = isRecord(result) ? hostTextOf(result) : undefined;
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
