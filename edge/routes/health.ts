import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import { hubStub } from '../hub/stub.ts';

/** Liveness and readiness: no credentials, no secrets; hosts and their servers. */
export const healthRoute = new Hono<AppEnv>().get('/health', errorsAs('rest'), async (c) => c.json(await hubStub(c.env).health()));
