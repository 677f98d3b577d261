import { Hono } from 'hono';
import { GatewayError } from '../../shared/errors.ts';
import { matchesAnySecret } from '../../shared/secure.ts';
import type { AppEnv } from '../app.ts';
import { hubStub } from '../hub/stub.ts';
import { bearerToken } from '../middleware/auth.ts';

/** Host agents dial in here with a host token; the Hub holds the WebSocket. */
export const agentRoute = new Hono<AppEnv>().get('/agent', async (c) => {
  const hostTokens = (c.env.HOST_TOKENS ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const token = bearerToken(c.req.header('authorization'));
  if (!token || hostTokens.length === 0 || !(await matchesAnySecret(token, hostTokens))) {
    throw new GatewayError('UNAUTHORIZED', 'a valid host token is required on /agent');
  }
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new GatewayError('BAD_REQUEST', '/agent expects a WebSocket upgrade');
  }
  return hubStub(c.env).fetch(c.req.raw);
});
