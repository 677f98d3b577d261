import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app.ts';
import { listOf } from './origin.ts';

/** Headers a browser client must be able to read from responses. */
const EXPOSED = ['Mcp-Session-Id', 'Mcp-Protocol-Version', 'WWW-Authenticate', 'Retry-After'];

/** Hono's CORS middleware for one ALLOWED_ORIGINS / ALLOWED_HOSTS setting, built once. */
let built: { key: string; handler: MiddlewareHandler<AppEnv> } | undefined;

function corsFor(allowedOrigins: string | undefined, allowedHosts: string | undefined): MiddlewareHandler<AppEnv> {
  const key = `${allowedOrigins ?? ''}\u0000${allowedHosts ?? ''}`;
  if (built?.key === key) return built.handler;
  const allowed = new Set(listOf(allowedOrigins));
  const hosts = listOf(allowedHosts);
  const handler = cors({
    origin: (origin, c) => {
      const url = new URL(c.req.url);
      // The request's own origin counts only when its Host is one the gateway serves.
      const own = hosts.length === 0 || hosts.includes(url.hostname.replace(/^\[|\]$/g, '')) ? url.origin : undefined;
      return origin === own || allowed.has(origin) ? origin : null;
    },
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    exposeHeaders: EXPOSED,
    credentials: true,
    maxAge: 600,
  });
  built = { key, handler };
  return handler;
}

/**
 * CORS from the same allow-list as the Origin check: only the gateway's own origin and
 * ALLOWED_ORIGINS get CORS headers (never `*`), requested headers are reflected in preflights,
 * and Mcp-Session-Id is exposed. A request without `Origin` (not from a browser page) gets no
 * CORS headers, only `Vary: Origin`, added to its response as it is: building an empty response
 * for the headers first and copying the real one into it afterwards cost a tenth of the
 * Worker's time per call.
 */
export const corsHeaders = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === 'OPTIONS' || c.req.header('origin') !== undefined) return corsFor(c.env.ALLOWED_ORIGINS, c.env.ALLOWED_HOSTS)(c, next);
  await next();
  try {
    c.res.headers.append('Vary', 'Origin');
  } catch {
    c.header('Vary', 'Origin', { append: true }); // immutable headers (a Response from elsewhere): copied once
  }
});
