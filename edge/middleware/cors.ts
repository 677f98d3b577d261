import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app.ts';
import { listOf } from './origin.ts';

/** Headers a browser client must be able to read from responses. */
const EXPOSED = ['Mcp-Session-Id', 'Mcp-Protocol-Version', 'WWW-Authenticate', 'Retry-After'];

/**
 * CORS from the same allow-list as the Origin check: only the gateway's own origin and
 * ALLOWED_ORIGINS get CORS headers (never `*`), requested headers are reflected in preflights,
 * and Mcp-Session-Id is exposed.
 */
export const corsHeaders = createMiddleware<AppEnv>((c, next) => {
  const allowed = new Set(listOf(c.env.ALLOWED_ORIGINS));
  const url = new URL(c.req.url);
  const hosts = listOf(c.env.ALLOWED_HOSTS);
  // The request's own origin counts only when its Host is one the gateway serves.
  const own = hosts.length === 0 || hosts.includes(url.hostname.replace(/^\[|\]$/g, '')) ? url.origin : undefined;
  return cors({
    origin: (origin) => (origin === own || allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    exposeHeaders: EXPOSED,
    credentials: true,
    maxAge: 600,
  })(c, next);
});
