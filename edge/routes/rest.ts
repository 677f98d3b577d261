import { Hono } from 'hono';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { hubFetch } from '../hub/stub.ts';
import { limitBody } from '../middleware/body-limit.ts';

/** The original project's REST API: a session id, then POST /api/{server}/{tool}. */
export const restRoutes = new Hono<AppEnv>();

restRoutes.get('/sessionid', (c) => hubFetch(c.env, '/session', { method: 'POST', headers: { 'x-principal': c.get('principal') } }));

restRoutes.post('/:server/:tool', limitBody, async (c) => {
    const sessionId = c.req.query('sessionId');
    if (!sessionId) {
      throw new GatewayError('SESSION_REQUIRED', 'sessionId query parameter is required: get one from GET /api/sessionid');
    }
    const body = await c.req.text();
    const args = parseArguments(body);
    return hubFetch(c.env, '/call', {
      method: 'POST',
      headers: { 'x-server': c.req.param('server'), 'x-tool': c.req.param('tool'), 'x-session': sessionId, 'x-principal': c.get('principal') },
      body: args,
    });
});

/** The body is the tool's arguments: a JSON object, or nothing at all. Returns it as JSON text. */
function parseArguments(body: string): string {
  if (body.trim() === '') return '{}';
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new GatewayError('MALFORMED_JSON', 'request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('INVALID_ARGUMENTS', 'request body must be a JSON object of tool arguments');
  }
  return body;
}
