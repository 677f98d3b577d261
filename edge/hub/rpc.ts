/**
 * What crosses between the Worker and the Hub Durable Object (Durable Object RPC): the argument
 * shapes of its methods, and results that carry a GatewayError's code explicitly, since an
 * exception thrown across RPC keeps only its message.
 */
import { GatewayError, type ErrorCode } from '../../shared/errors.ts';
import type { JsonRpcMessage } from '../../shared/protocol.ts';

/** A GatewayError as plain data. */
export interface WireError {
  code: ErrorCode;
  message: string;
  retryAfter?: number;
  fields?: { path: string; message: string }[];
}

export type HubResult<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** Who asks, and on which server's process: every REST request to a server carries this. */
export interface RestTarget {
  server: string;
  /** A REST session id, or null for a one-off call on a fresh process. */
  session: string | null;
  principal: string;
}

export interface RestToolCall extends RestTarget {
  tool: string;
  /** The arguments, parsed by the Worker; */
  args?: Record<string, unknown>;
  /** or a large body's text, parsed by the Hub (rest-body.ts). */
  argsText?: string;
}

export interface RestServerRequest extends RestTarget {
  method: 'resources/list' | 'resources/read' | 'prompts/list' | 'prompts/get';
  params: Record<string, unknown>;
}

/** An MCP client's session on one server; `session` is null only before initialize. */
export interface McpTarget {
  server: string;
  session: string | null;
  principal: string;
}

export interface McpPost extends McpTarget {
  /** The message, parsed by the Worker; */
  message?: JsonRpcMessage;
  /** or a large body's text, parsed by the Hub (client-text.ts). */
  messageText?: string;
  /** The client accepts text/event-stream (else the answer comes as one JSON body). */
  wantsSse: boolean;
  /** It accepts application/json as well: the answer is JSON unless something must be streamed first. */
  jsonToo?: boolean;
}

/** Runs `work`, turning a GatewayError it throws into `{ ok: false }`; anything else is rethrown. */
export async function settle<T>(work: () => T | Promise<T>): Promise<HubResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { ok: false, error: toWire(err) };
  }
}

export function toWire(err: GatewayError): WireError {
  return {
    code: err.code,
    message: err.message,
    ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}),
    ...(err.fields ? { fields: err.fields } : {}),
  };
}

/** The value, or the GatewayError the Hub reported, thrown again on this side. */
export function unwrap<T>(result: HubResult<T>): T {
  if (result.ok) return result.value;
  const { code, message, retryAfter, fields } = result.error;
  throw new GatewayError(code, message, retryAfter, fields);
}
