import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app.ts';

/** Headers a browser client must be able to read from responses. */
const EXPOSED = ['Mcp-Session-Id', 'Mcp-Protocol-Version', 'WWW-Authenticate', 'Retry-After'];

/**
 * CORS from the same allow-list as the Origin check: only the gateway's own origin and
 * ALLOWED_ORIGINS get CORS headers (never `*`), requested headers are reflected in preflights,
 * and Mcp-Session-Id is exposed.
 */
export const corsHeaders = createMiddleware<AppEnv>((c, next) => {
  const allowed = new Set((c.env.ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean));
  const own = new URL(c.req.url).origin;
  return cors({
    origin: (origin) => (origin === own || allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    exposeHeaders: EXPOSED,
    credentials: true,
    maxAge: 600,
  })(c, next);
});
