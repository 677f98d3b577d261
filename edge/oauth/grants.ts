/**
 * The caller's own OAuth grants (sign-ins of applications), for `mcp-gateway oauth list|revoke`:
 * `GET /oauth/grants` and `DELETE /oauth/grants/{id}`, under the gateway's usual credentials.
 * A principal sees and revokes only its own grants. Tokens never appear: a grant lists its client,
 * scopes and dates.
 */
import { Hono, type Context, type Next } from 'hono';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { bearerToken } from '../middleware/auth.ts';
import { isOAuthToken } from './authenticate.ts';
import { gatewayOAuth, userIdOf } from './server.ts';

const GRANT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_GRANTS = 1000;

export const grantRoutes = new Hono<AppEnv>();

// An application signed in over OAuth may not list or revoke its owner's sign-ins: only the
// gateway's own credentials may.
grantRoutes.use('/oauth/grants/*', notWithOAuthToken);
grantRoutes.use('/oauth/grants', notWithOAuthToken);

async function notWithOAuthToken(c: Context<AppEnv>, next: Next): Promise<void> {
  if (isOAuthToken(bearerToken(c.req.header('authorization')))) throw new GatewayError('FORBIDDEN', "sign-ins are managed with the gateway's own credentials, not with an OAuth token");
  await next();
}

grantRoutes.get('/oauth/grants', async (c) => {
  const oauth = gatewayOAuth(c.env, c.req.url);
  if (!oauth) throw new GatewayError('NOT_FOUND', 'OAuth is not enabled on this gateway');
  const api = oauth.server.getOAuthApi(oauth.env);
  const userId = userIdOf(c.get('principal'));
  const grants = [];
  let cursor: string | undefined;
  do {
    const page = await api.listUserGrants(userId, cursor ? { cursor } : {});
    for (const g of page.items) {
      const client = await api.lookupClient(g.clientId).catch(() => null);
      grants.push({
        id: g.id,
        clientId: g.clientId,
        clientName: client?.clientName ?? null,
        scopes: g.scope,
        createdAt: new Date(g.createdAt * 1000).toISOString(),
        expiresAt: g.expiresAt ? new Date(g.expiresAt * 1000).toISOString() : null,
      });
    }
    cursor = page.cursor;
  } while (cursor && grants.length < MAX_GRANTS);
  return c.json({ principal: c.get('principal'), grants });
});

grantRoutes.delete('/oauth/grants/:id', async (c) => {
  const oauth = gatewayOAuth(c.env, c.req.url);
  if (!oauth) throw new GatewayError('NOT_FOUND', 'OAuth is not enabled on this gateway');
  const id = c.req.param('id');
  if (!GRANT_ID.test(id)) throw new GatewayError('BAD_REQUEST', 'not a grant id');
  const api = oauth.server.getOAuthApi(oauth.env);
  const userId = userIdOf(c.get('principal'));
  const page = await api.listUserGrants(userId, { limit: MAX_GRANTS });
  if (!page.items.some((g) => g.id === id)) throw new GatewayError('NOT_FOUND', 'no such grant of yours');
  await api.revokeGrant(id, userId);
  return c.body(null, 204);
});
