import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { hubFetch } from '../hub/stub.ts';

/** Liveness and readiness: no credentials, no secrets; hosts and their servers. */
export const healthRoute = new Hono<AppEnv>().get('/health', (c) => hubFetch(c.env, '/health'));
