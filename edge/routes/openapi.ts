/** The live OpenAPI document, built on each request from the servers the connected hosts announce. */
import { Hono, type Context } from 'hono';
import { stringify } from 'yaml';
import { ClientAuthSchema } from '../../shared/auth.ts';
import { buildOpenApi, buildServerOpenApi, type OpenApiInput } from '../../shared/openapi.ts';
import type { Tool } from '../../shared/protocol.ts';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import { hubStub } from '../hub/stub.ts';
import { AUTHORIZE_PATH, TOKEN_PATH, gatewayOAuth } from '../oauth/server.ts';
import { SCOPE_ALL, serverScope } from '../../shared/oauth.ts';

async function inputFor(c: Context<AppEnv>): Promise<OpenApiInput> {
  const servers: { name: string; tools: Tool[] }[] = await hubStub(c.env).catalog();
  const auth = c.env.CLIENT_AUTH ? ClientAuthSchema.parse(JSON.parse(c.env.CLIENT_AUTH)) : undefined;
  return {
    servers,
    serverUrl: (c.env.PUBLIC_URL || new URL(c.req.url).origin).replace(/\/$/, ''),
    auth: { basic: Boolean(auth?.basic.length), bearer: Boolean(auth?.bearer.length), jwt: Boolean(auth?.jwt), ...oauthSecurity(c, servers) },
  };
}

/** The OAuth sign-in as an OpenAPI security scheme, when it is on here. */
function oauthSecurity(c: Context<AppEnv>, servers: { name: string }[]): { oauth?: NonNullable<OpenApiInput['auth']['oauth']> } {
  const oauth = c.env.CLIENT_AUTH ? gatewayOAuth(c.env, c.req.url) : undefined;
  if (!oauth) return {};
  const scopes: Record<string, string> = { [SCOPE_ALL]: 'Every server.' };
  for (const { name } of servers) scopes[serverScope(name)] = `The server ${name} only.`;
  return { oauth: { authorizationUrl: `${oauth.issuer}${AUTHORIZE_PATH}`, tokenUrl: `${oauth.issuer}${TOKEN_PATH}`, scopes } };
}

const rest = errorsAs('rest');

export const openapiRoutes = new Hono<AppEnv>()
  .get('/openapi.json', rest, async (c) => c.json(buildOpenApi(await inputFor(c))))
  .get('/openapi.yaml', rest, async (c) => c.body(stringify(buildOpenApi(await inputFor(c)), { aliasDuplicateObjects: false }), 200, { 'content-type': 'application/yaml; charset=utf-8' }))
  .get('/api/:server/openapi.json', rest, async (c) => c.json(buildServerOpenApi(await inputFor(c), c.req.param('server'))));
