/** Every failure the gateway reports, with the HTTP status it maps to. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  MALFORMED_JSON: 400,
  SESSION_REQUIRED: 400,
  INVALID_REQUEST_STATE: 400,
  INVALID_ARGUMENTS: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  SERVER_NOT_FOUND: 404,
  TOOL_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_SESSIONS: 429,
  INPUT_REQUIRED: 409,
  FRAME_TOO_LARGE: 413,
  BAD_FRAME: 400,
  PROTOCOL_MISMATCH: 400,
  BAD_HELLO: 400,
  INTERNAL: 500,
  UPSTREAM_ERROR: 502,
  SERVER_EXITED: 502,
  SPAWN_FAILED: 502,
  HOST_OFFLINE: 503,
  MISCONFIGURED: 503,
  HOST_BUSY: 503,
  TOO_MANY_REQUESTS: 429,
  REQUEST_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Seconds a client is told to wait (Retry-After) by default, per code. */
const DEFAULT_RETRY_AFTER: Partial<Record<ErrorCode, number>> = { HOST_OFFLINE: 5, TOO_MANY_SESSIONS: 60, HOST_BUSY: 2, TOO_MANY_REQUESTS: 1 };

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  /** Seconds a client should wait before trying again (503). */
  readonly retryAfter: number | undefined;
  /** Per-field problems (INVALID_ARGUMENTS). */
  readonly fields: { path: string; message: string }[] | undefined;
  /** The WWW-Authenticate challenge of an UNAUTHORIZED answer (see `unauthorized`). */
  challenge: string | undefined;

  constructor(code: ErrorCode, message: string, retryAfter?: number, fields?: { path: string; message: string }[]) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter ?? DEFAULT_RETRY_AFTER[code];
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.fields ? { fields: this.fields } : {}) } };
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; fields?: { path: string; message: string }[] };
}

/** An UNAUTHORIZED error that carries its WWW-Authenticate challenge to whichever response shape the route takes. */
export function unauthorized(message: string, challenge: string): GatewayError {
  const err = new GatewayError('UNAUTHORIZED', message);
  err.challenge = challenge;
  return err;
}

/** The headers every shape of error response carries: its type, Retry-After and WWW-Authenticate. */
export function errorHeaders(err: GatewayError, contentType: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  if (err.challenge !== undefined) headers['www-authenticate'] = err.challenge;
  return headers;
}

/** A GatewayError as a REST JSON response (edge/error-response.ts picks the shape per route). */
export function errorResponse(err: GatewayError): Response {
  return new Response(JSON.stringify(err.toJSON()), { status: err.status, headers: errorHeaders(err, 'application/json') });
}

/** MCP's JSON-RPC error for a resource a server does not have (2025-era servers; 2026-07-28 uses -32602). */
export const RESOURCE_NOT_FOUND_RPC = -32002;

/** JSON-RPC error codes for gateway errors on the MCP endpoints. */
const JSON_RPC_CODES: Partial<Record<ErrorCode, number>> = {
  MALFORMED_JSON: -32700,
  BAD_REQUEST: -32600,
  SESSION_REQUIRED: -32600,
  INVALID_ARGUMENTS: -32602,
  INVALID_REQUEST_STATE: -32602,
  NOT_FOUND: -32601,
  SESSION_NOT_FOUND: -32001,
  REQUEST_TIMEOUT: -32001,
  INTERNAL: -32603,
};

/** A GatewayError as a JSON-RPC error response (MCP routes). */
export function jsonRpcErrorResponse(err: GatewayError, id: string | number | null = null): Response {
  const body = { jsonrpc: '2.0', id, error: { code: JSON_RPC_CODES[err.code] ?? -32000, message: err.message, data: { code: err.code } } };
  return new Response(JSON.stringify(body), { status: err.status, headers: errorHeaders(err, 'application/json') });
}
