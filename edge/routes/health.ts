import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import { hubStub } from '../hub/stub.ts';

/** Liveness and readiness, without credentials: counts only (no host ids, server names or errors; those are on /status). */
export const healthRoute = new Hono<AppEnv>().get('/health', errorsAs('rest'), async (c) => c.json(await hubStub(c.env).health()));
