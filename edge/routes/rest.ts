import { Hono, type Context } from 'hono';
import { GatewayError } from '../../shared/errors.ts';
import { RAW_MIN_CHARS } from '../../shared/json-spans.ts';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import type { RestServerRequest, RestTarget } from '../hub/rpc.ts';
import { unwrap } from '../hub/rpc.ts';
import { argumentsOf } from '../hub/rest-body.ts';
import { hubStub } from '../hub/stub.ts';
import { limitBody } from '../middleware/body-limit.ts';

/**
 * REST for HTTP clients and custom GPTs: the original project's tool calls, plus tool, resource
 * and prompt listings. `sessionId` is optional everywhere: with it, calls run on that session's
 * server process; without it, on a fresh one that is stopped afterwards.
 */
export const restRoutes = new Hono<AppEnv>();
const rest = errorsAs('rest');

restRoutes.get('/sessionid', rest, async (c) => c.json({ sessionId: unwrap(await hubStub(c.env).createRestSession(c.get('principal'))) }));

restRoutes.delete('/sessionid/:id', rest, async (c) => {
  unwrap(await hubStub(c.env).deleteRestSession(c.req.param('id'), c.get('principal')));
  return c.body(null, 204);
});

restRoutes.get('/:server/tools', rest, async (c) => c.json({ tools: unwrap(await hubStub(c.env).tools(c.req.param('server'))) }));

restRoutes.get('/:server/resources', rest, (c) => serverRequest(c, 'resources/list', {}));

restRoutes.get('/:server/resources/read', rest, (c) => {
  const uri = c.req.query('uri');
  if (!uri) throw new GatewayError('BAD_REQUEST', 'uri query parameter is required');
  return serverRequest(c, 'resources/read', { uri });
});

restRoutes.get('/:server/prompts', rest, (c) => serverRequest(c, 'prompts/list', {}));

restRoutes.post('/:server/prompts/:name', rest, limitBody, async (c) => {
  return serverRequest(c, 'prompts/get', { name: c.req.param('name'), arguments: argumentsOf(await c.req.text()) });
});

restRoutes.post('/:server/:tool', rest, limitBody, async (c) => {
  // The body is read once, here: no other handler of this route reads it. A large one goes to
  // the Hub as its text, parsed there once and sent on to the host as it came.
  const body = await c.req.raw.text();
  const call = body.length >= RAW_MIN_CHARS ? { argsText: body } : { args: argumentsOf(body) };
  const result = unwrap(await hubStub(c.env).callTool({ ...targetOf(c), tool: c.req.param('tool'), ...call }));
  return new Response(result, { headers: { 'content-type': 'application/json' } });
});

function targetOf(c: Context<AppEnv>): RestTarget {
  return { server: c.req.param('server') ?? '', session: c.req.query('sessionId') || null, principal: c.get('principal') };
}

async function serverRequest(c: Context<AppEnv>, method: RestServerRequest['method'], params: Record<string, unknown>): Promise<Response> {
  return c.json(unwrap(await hubStub(c.env).serverRequest({ ...targetOf(c), method, params })) as object);
}
