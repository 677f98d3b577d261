/** The live OpenAPI document, built on each request from the servers the connected hosts announce. */
import { Hono, type Context } from 'hono';
import { stringify } from 'yaml';
import { ClientAuthSchema } from '../../shared/auth.ts';
import { buildOpenApi, buildServerOpenApi, type OpenApiInput } from '../../shared/openapi.ts';
import type { Tool } from '../../shared/protocol.ts';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import { hubStub } from '../hub/stub.ts';

async function inputFor(c: Context<AppEnv>): Promise<OpenApiInput> {
  const servers: { name: string; tools: Tool[] }[] = await hubStub(c.env).catalog();
  const auth = c.env.CLIENT_AUTH ? ClientAuthSchema.parse(JSON.parse(c.env.CLIENT_AUTH)) : undefined;
  return {
    servers,
    serverUrl: (c.env.PUBLIC_URL || new URL(c.req.url).origin).replace(/\/$/, ''),
    auth: { basic: Boolean(auth?.basic.length), bearer: Boolean(auth?.bearer.length), jwt: Boolean(auth?.jwt) },
  };
}

const rest = errorsAs('rest');

export const openapiRoutes = new Hono<AppEnv>()
  .get('/openapi.json', rest, async (c) => c.json(buildOpenApi(await inputFor(c))))
  .get('/openapi.yaml', rest, async (c) => c.body(stringify(buildOpenApi(await inputFor(c)), { aliasDuplicateObjects: false }), 200, { 'content-type': 'application/yaml; charset=utf-8' }))
  .get('/api/:server/openapi.json', rest, async (c) => c.json(buildServerOpenApi(await inputFor(c), c.req.param('server'))));
