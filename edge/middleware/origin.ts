import { createMiddleware } from 'hono/factory';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { hostnameOf, parsedUrl } from './request-url.ts';

/**
 * DNS-rebinding protection, in two parts:
 * - `Host` must name the gateway (ALLOWED_HOSTS, set by the local runtime; on Cloudflare the
 *   platform only routes the gateway's own hostnames here, so the list is empty there);
 * - an `Origin`, when present, must be the gateway's own origin or one in ALLOWED_ORIGINS.
 * Requests without `Origin` (non-browser clients) pass the second part.
 */
export const checkOrigin = createMiddleware<AppEnv>(async (c, next) => {
  const hosts = listOf(c.env.ALLOWED_HOSTS);
  // The URL's text naming an allowed host is enough; anything else is decided by the parsed URL.
  if (hosts.length && !hosts.includes(hostnameOf(c.req.url))) {
    const url = parsedUrl(c.req.raw);
    if (!hosts.includes(url.hostname.replace(/^\[|\]$/g, ''))) throw new GatewayError('FORBIDDEN', `host ${url.hostname} is not one this gateway serves`);
  }
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== parsedUrl(c.req.raw).origin && !listOf(c.env.ALLOWED_ORIGINS).includes(origin)) {
    throw new GatewayError('FORBIDDEN', `origin ${origin} is not allowed`);
  }
  await next();
});

const lists = new Map<string, readonly string[]>();

/** A comma-separated setting as a list (settings change only on deploy: each is split once). */
export function listOf(value: string | undefined): readonly string[] {
  const key = value ?? '';
  let list = lists.get(key);
  if (!list) {
    if (lists.size >= 16) lists.clear();
    list = key.split(',').map((v) => v.trim()).filter(Boolean);
    lists.set(key, list);
  }
  return list;
}
