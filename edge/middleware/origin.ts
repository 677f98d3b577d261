import { createMiddleware } from 'hono/factory';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';

/**
 * DNS-rebinding protection: a request that carries an `Origin` must come from the gateway's own
 * origin or one listed in ALLOWED_ORIGINS; requests without `Origin` (non-browser clients) pass.
 */
export const checkOrigin = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== new URL(c.req.url).origin) {
    const allowed = (c.env.ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
    if (!allowed.includes(origin)) throw new GatewayError('FORBIDDEN', `origin ${origin} is not allowed`);
  }
  await next();
});
