/** How a finished call is counted in the traffic history: its server, host, duration and error code. */
import { RESOURCE_NOT_FOUND_RPC, type ErrorCode } from '../../shared/errors.ts';

/** GatewayError codes, and TOOL_ERROR for a tool result that says `isError: true`. */
export type OutcomeCode = ErrorCode | 'TOOL_ERROR';

export interface FinishedCall {
  server: string;
  /** The host that ran it; null if none was reached (no host connected, say). */
  host: string | null;
  ms: number;
  /** Null for a success. */
  code: OutcomeCode | null;
  /** The JSON-RPC method, and the tool for tools/call. */
  what: string;
}

/** TOOL_ERROR for a tool result with `isError: true`, else null (a success). */
export function callOutcome(result: unknown): OutcomeCode | null {
  return result !== null && typeof result === 'object' && (result as { isError?: unknown }).isError === true ? 'TOOL_ERROR' : null;
}

/** The code of a JSON-RPC error a server (or the Hub's own deadline) answered an MCP request with. */
export function jsonRpcErrorCode(code: number): OutcomeCode {
  if (code === -32602) return 'INVALID_ARGUMENTS';
  if (code === RESOURCE_NOT_FOUND_RPC) return 'NOT_FOUND';
  if (code === -32001) return 'REQUEST_TIMEOUT';
  return 'UPSTREAM_ERROR';
}

/** How a JSON-RPC response to an MCP request is counted: its error's code, or its result's outcome. */
export function answerOutcome(answer: Record<string, unknown>): OutcomeCode | null {
  const error = answer.error as { code?: unknown } | null | undefined;
  return error === undefined ? callOutcome(answer.result) : jsonRpcErrorCode(Number(error?.code));
}

/** What a JSON-RPC request asks, for the history: its method, and the tool for tools/call. */
export function whatOf(method: unknown, params: unknown): string {
  const name = (params as { name?: unknown } | undefined)?.name;
  return method === 'tools/call' && typeof name === 'string' ? `tools/call ${name}` : String(method);
}
