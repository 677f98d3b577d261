/**
 * An MCP client's message, parsed once where it is used: the Worker parses a small body; a large
 * one crosses to the Hub as its text, is parsed there, and goes on to the host as the client's
 * own text of it (sendFrame), not serialized again.
 */
import { MAX_BODY_JSON_DEPTH } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import { nestsDeeperThan } from '../../shared/json-depth.ts';
import type { JsonRpcMessage } from '../../shared/protocol.ts';
import { passesAsText } from './rest-body.ts';

/** Parsed client messages -> the text they were parsed from (large ones only). */
const texts = new WeakMap<object, string>();

/** One JSON-RPC message (no batches, since 2025-06-18), parsed here, once. */
export function parseMessage(text: string): JsonRpcMessage {
  if (nestsDeeperThan(text, MAX_BODY_JSON_DEPTH)) throw new GatewayError('BAD_REQUEST', `body nests arrays and objects deeper than ${MAX_BODY_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError('MALFORMED_JSON', 'body is not valid JSON');
  }
  if (Array.isArray(value)) throw new GatewayError('BAD_REQUEST', 'JSON-RPC batches are not supported: send one message per request');
  const message = value as { jsonrpc?: unknown; method?: unknown; id?: unknown; result?: unknown; error?: unknown } | null;
  const valid =
    message !== null &&
    typeof message === 'object' &&
    message.jsonrpc === '2.0' &&
    (typeof message.method === 'string' || ('id' in message && ('result' in message || 'error' in message)));
  if (!valid) throw new GatewayError('BAD_REQUEST', 'body is not a JSON-RPC 2.0 request, notification or response');
  return message as JsonRpcMessage;
}

/** `parseMessage` for a large body in the Hub: the message, with its text kept for the frame to the host. */
export function parseLargeMessage(text: string): JsonRpcMessage {
  const message = parseMessage(text);
  if (passesAsText(text)) texts.set(message, text);
  return message;
}

/** The client's text of a message, if it came large and in one line. */
export function clientTextOf(message: JsonRpcMessage): string | undefined {
  return texts.get(message);
}
