import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { edgeLimits } from '../settings.ts';

/** 413 for a body over MAX_BODY_BYTES, before any of it is parsed. */
export const limitBody = createMiddleware<AppEnv>((c, next) => {
  const maxSize = edgeLimits(c.env).maxBodyBytes;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new GatewayError('PAYLOAD_TOO_LARGE', `request body is over ${maxSize} bytes`);
    },
  })(c, next);
});
