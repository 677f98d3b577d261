/**
 * How 2026-07-28 messages are shaped at the edge: results stamped with `resultType` and cache
 * hints, the `_meta` envelope taken off before a request reaches a 2025-era server, the server's
 * capabilities as the gateway can honour them, and protocol errors with their HTTP status.
 */
import { CACHEABLE_METHODS, META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION } from '../../shared/mcp2026.ts';

/** Cache hint the gateway puts on cacheable results that have none. */
const DEFAULT_TTL_MS = 0;
const ENVELOPE_KEYS = [META_PROTOCOL_VERSION, META_CLIENT_INFO, META_CLIENT_CAPABILITIES, META_LOG_LEVEL];

/** The server's capabilities as a 2026-07-28 client may use them through the gateway. */
export function advertised(capabilities: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(capabilities)) {
    if (key === 'resources') {
      // List changes reach subscriptions/listen streams; resource subscriptions are not offered.
      const { subscribe: _s, ...rest } = (value ?? {}) as Record<string, unknown>;
      out[key] = rest;
    } else if (key !== 'tasks') {
      out[key] = value;
    }
  }
  return out;
}

export function withoutEnvelope(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta as Record<string, unknown> | undefined;
  if (!meta) return params;
  const rest = Object.fromEntries(Object.entries(meta).filter(([key]) => !ENVELOPE_KEYS.includes(key)));
  const { _meta: _, ...others } = params;
  return Object.keys(rest).length ? { ...others, _meta: rest } : others;
}

/** A 2025-era result as 2026-07-28 has it: `resultType`, and cache hints where the method is cacheable. */
export function stamp(method: string, result: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = result && typeof result === 'object' ? { ...(result as Record<string, unknown>) } : {};
  body.resultType ??= 'complete';
  if (CACHEABLE_METHODS.has(method)) {
    if (!(typeof body.ttlMs === 'number' && Number.isInteger(body.ttlMs) && body.ttlMs >= 0)) body.ttlMs = DEFAULT_TTL_MS;
    if (body.cacheScope !== 'public' && body.cacheScope !== 'private') body.cacheScope = 'private';
  }
  return body;
}

export function ok(id: string | number, result: unknown): { status: number; body: string } {
  return { status: 200, body: JSON.stringify({ jsonrpc: '2.0', id, result }) };
}

export function json(id: string | number | null, result: unknown): Response {
  return Response.json({ jsonrpc: '2.0', id, result });
}

/** A protocol-level JSON-RPC error with the HTTP status the specification gives it. */
export function rpcError(status: number, id: string | number | null, code: number, message: string, data?: unknown): Response {
  return Response.json({ jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } }, { status });
}
