import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { hubFetch } from '../hub/stub.ts';

/** The original project's REST API: a session id, then POST /api/{server}/{tool}. */
export const restRoutes = new Hono<AppEnv>();

restRoutes.get('/sessionid', (c) => hubFetch(c.env, '/session', { method: 'POST' }));

restRoutes.post(
  '/:server/:tool',
  (c, next) =>
    bodyLimit({
      maxSize: Number(c.env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES,
      onError: () => {
        throw new GatewayError('PAYLOAD_TOO_LARGE', `request body is over ${c.env.MAX_BODY_BYTES} bytes`);
      },
    })(c, next),
  async (c) => {
    const sessionId = c.req.query('sessionId');
    if (!sessionId) {
      throw new GatewayError('SESSION_REQUIRED', 'sessionId query parameter is required: get one from GET /api/sessionid');
    }
    const body = await c.req.text();
    const args = parseArguments(body);
    return hubFetch(c.env, '/call', {
      method: 'POST',
      headers: { 'x-server': c.req.param('server'), 'x-tool': c.req.param('tool'), 'x-session': sessionId },
      body: args,
    });
  },
);

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
