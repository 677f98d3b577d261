/**
 * The one place a GatewayError becomes a response. Each route declares the body shape of its
 * errors with `errorsAs(...)` in front of its handler: REST JSON (`{"error": {...}}`), a JSON-RPC
 * error (MCP routes) or plain text (pages). Errors thrown before the route runs (Origin check,
 * body limit) take the shape of the route the request matched; a request that matches no route
 * gets REST JSON.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { errorHeaders, errorResponse, GatewayError, jsonRpcErrorResponse } from '../shared/errors.ts';
import { edgeLog } from './log.ts';

export type ErrorShape = 'rest' | 'jsonrpc' | 'text';

type Tagged = MiddlewareHandler & { errorShape: ErrorShape };

/** Marks a route's errors as `shape`; put it first among the route's handlers. */
export function errorsAs(shape: ErrorShape): MiddlewareHandler {
  const tag = ((_c, next) => next()) as Tagged;
  tag.errorShape = shape;
  return tag;
}

/** The shape declared by the route that answers this request (the first tagged one it matched). */
export function errorShapeOf(c: Context): ErrorShape {
  for (const route of matchedRoutes(c)) {
    const shape = (route.handler as Partial<Tagged>).errorShape;
    if (shape) return shape;
  }
  return 'rest';
}

export function errorResponseAs(shape: ErrorShape, err: GatewayError): Response {
  switch (shape) {
    case 'jsonrpc':
      return jsonRpcErrorResponse(err);
    case 'text':
      return new Response(`${err.code}: ${err.message}\n`, { status: err.status, headers: errorHeaders(err, 'text/plain; charset=utf-8') });
    default:
      return errorResponse(err);
  }
}

/** What anything thrown while answering becomes (the app's onError): a GatewayError as itself, anything else logged and answered as INTERNAL. */
export function thrownResponseAs(shape: ErrorShape, err: unknown): Response {
  const error = err instanceof GatewayError ? err : new GatewayError('INTERNAL', 'internal error');
  if (!(err instanceof GatewayError)) edgeLog('error', 'unhandled error', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return errorResponseAs(shape, error);
}
