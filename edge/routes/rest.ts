import { Hono, type Context } from 'hono';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { hubFetch } from '../hub/stub.ts';
import { limitBody } from '../middleware/body-limit.ts';

/**
 * REST for HTTP clients and custom GPTs: the original project's tool calls, plus tool, resource
 * and prompt listings. `sessionId` is optional everywhere: with it, calls run on that session's
 * server process; without it, on a fresh one that is stopped afterwards.
 */
export const restRoutes = new Hono<AppEnv>();

restRoutes.get('/sessionid', (c) => hubFetch(c.env, '/session', { method: 'POST', headers: { 'x-principal': c.get('principal') } }));

restRoutes.delete('/sessionid/:id', (c) =>
  hubFetch(c.env, '/session', { method: 'DELETE', headers: { 'x-session': c.req.param('id'), 'x-principal': c.get('principal') } }),
);

restRoutes.get('/:server/tools', (c) => hubFetch(c.env, '/tools', { headers: { 'x-server': c.req.param('server'), 'x-principal': c.get('principal') } }));

restRoutes.get('/:server/resources', (c) => serverRequest(c, 'resources/list', {}));

restRoutes.get('/:server/resources/read', (c) => {
  const uri = c.req.query('uri');
  if (!uri) throw new GatewayError('BAD_REQUEST', 'uri query parameter is required');
  return serverRequest(c, 'resources/read', { uri });
});

restRoutes.get('/:server/prompts', (c) => serverRequest(c, 'prompts/list', {}));

restRoutes.post('/:server/prompts/:name', limitBody, async (c) => {
  const args = JSON.parse(argumentsOf(await c.req.text())) as Record<string, unknown>;
  return serverRequest(c, 'prompts/get', { name: c.req.param('name'), arguments: args });
});

restRoutes.post('/:server/:tool', limitBody, async (c) => {
  const args = argumentsOf(await c.req.text());
  return hubFetch(c.env, '/call', {
    method: 'POST',
    headers: { 'x-server': c.req.param('server'), 'x-tool': c.req.param('tool'), 'x-session': c.req.query('sessionId') ?? '', 'x-principal': c.get('principal') },
    body: args,
  });
});

function serverRequest(c: Context<AppEnv>, method: string, params: object): Promise<Response> {
  return hubFetch(c.env, '/request', {
    method: 'POST',
    headers: { 'x-server': c.req.param('server') ?? '', 'x-method': method, 'x-session': c.req.query('sessionId') ?? '', 'x-principal': c.get('principal') },
    body: JSON.stringify(params),
  });
}

/** The body is the arguments: a JSON object, or nothing at all. Returns it as JSON text. */
function argumentsOf(body: string): string {
  if (body.trim() === '') return '{}';
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new GatewayError('MALFORMED_JSON', 'request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('BAD_REQUEST', 'request body must be a JSON object of arguments');
  }
  return body;
}
