/**
 * /status (credentials required): hosts, servers, sessions, processes, calls and their history;
 * ending a session; and the page that shows it all. The page itself is a static shell with no data
 * (so that a browser can load it to ask for a bearer token); everything it shows comes from
 * /status with credentials.
 */
import { Hono, type Context, type Next } from 'hono';
import { GatewayError, unauthorized } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import type { HistoryChoice } from '../hub/hub.ts';
import { unwrap } from '../hub/rpc.ts';
import { hubStub } from '../hub/stub.ts';
import { authSetupOf } from '../middleware/client-auth-setup.ts';
import { checkOrigin } from '../middleware/origin.ts';
import { STATUS_PAGE } from '../status-page/html.ts';

const HISTORY_CHOICES = new Set<string>(['hour', 'day', 'both', 'none'] satisfies HistoryChoice[]);
/** Session ids are 32 hex characters; this accepts any plausible id and nothing that needs escaping. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * With `operators` in CLIENT_AUTH (config.yaml's `auth.operators`), only those principals see
 * `/status` (every session, host and process) and end sessions there; anyone else gets 403 naming
 * their own principal id, which is what an operator adds to the list.
 */
async function operatorsOnly(c: Context<AppEnv>, next: Next): Promise<void> {
  const setup = authSetupOf(c.env.CLIENT_AUTH, c.env.OPEN_API);
  const operators = setup.kind === 'checked' ? setup.auth.operators : undefined;
  const principal = c.get('principal');
  if (operators?.length && !operators.includes(principal)) {
    throw new GatewayError('FORBIDDEN', `/status is for the gateway's operators (auth.operators), and ${principal} is not one of them`);
  }
  await next();
}

export const statusRoutes = new Hono<AppEnv>()
  .use('/status', errorsAs('rest'), operatorsOnly)
  .use('/status/sessions/*', errorsAs('rest'), operatorsOnly)
  .get('/status', errorsAs('rest'), async (c): Promise<Response> => {
    // Signed in by the browser (see statusPageRoute): on to the page.
    if (c.req.query('login') !== undefined) return c.redirect('/status/page', 303);
    const history = c.req.query('history') ?? 'both';
    if (!HISTORY_CHOICES.has(history)) throw new GatewayError('BAD_REQUEST', 'history must be hour, day, both or none');
    return c.json(await hubStub(c.env).status(history as HistoryChoice));
  })
  .delete('/status/sessions/:id', errorsAs('rest'), async (c) => {
    const id = c.req.param('id');
    if (!SESSION_ID.test(id)) throw new GatewayError('BAD_REQUEST', 'not a session id');
    unwrap(await hubStub(c.env).endSession(id));
    return c.body(null, 204);
  });

/**
 * Mounted before client authentication: the page (it holds no data), and the browser sign-in at
 * `/status?login`. Without credentials that answers 401 with a Basic challenge alone, because
 * browsers read only the first challenge of a WWW-Authenticate header and the API's names Bearer
 * first. Its path sits at the root, so the browser then sends the credentials to /status too.
 * With credentials it goes on through authentication to the redirect above.
 */
export const statusPageRoute = new Hono<AppEnv>()
  .get('/status/page', errorsAs('text'), checkOrigin, (c) => c.html(STATUS_PAGE, 200, { 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' }))
  .use('/status', errorsAs('rest'), checkOrigin, async (c, next) => {
    if (c.req.query('login') === undefined || c.req.header('authorization')) return next();
    throw unauthorized('sign in with a username and password', 'Basic realm="mcp-gateway", charset="UTF-8"');
  });
