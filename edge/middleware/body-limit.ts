import { bodyLimit } from 'hono/body-limit';
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { edgeLimits } from '../settings.ts';

/** Hono's body limit for one size, built once (MAX_BODY_BYTES changes only on deploy). */
const limiters = new Map<number, MiddlewareHandler>();

function limiterFor(maxSize: number): MiddlewareHandler {
  let limiter = limiters.get(maxSize);
  if (!limiter) {
    if (limiters.size >= 8) limiters.clear();
    limiter = bodyLimit({
      maxSize,
      onError: () => {
        throw new GatewayError('PAYLOAD_TOO_LARGE', `request body is over ${maxSize} bytes`);
      },
    });
    limiters.set(maxSize, limiter);
  }
  return limiter;
}

/**
 * 413 for a body over MAX_BODY_BYTES, before any of it is parsed. A declared Content-Length (and
 * no Transfer-Encoding) is checked here directly, as Hono's limit does, without first making the
 * body's stream object; anything else goes through Hono's limit, which counts the bytes.
 */
export const limitBody = createMiddleware<AppEnv>((c, next) => {
  const maxSize = edgeLimits(c.env).maxBodyBytes;
  const headers = c.req.raw.headers;
  const length = headers.get('content-length');
  if (length === null || headers.has('transfer-encoding')) return limiterFor(maxSize)(c, next);
  if (Number.parseInt(length, 10) > maxSize) throw new GatewayError('PAYLOAD_TOO_LARGE', `request body is over ${maxSize} bytes`);
  return next();
});
