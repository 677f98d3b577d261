/**
 * /status (credentials required): hosts, servers, sessions, processes, calls and their history;
 * ending a session; and the page that shows it all. The page itself is a static shell with no data
 * (so that a browser can load it to ask for a bearer token); everything it shows comes from
 * /status with credentials.
 */
import { Hono } from 'hono';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { hubFetch } from '../hub/stub.ts';
import { STATUS_PAGE } from '../status-page/html.ts';

const HISTORY_CHOICES = new Set(['hour', 'day', 'both', 'none']);
/** Session ids are 32 hex characters; this accepts any plausible id and nothing that needs escaping. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export const statusRoutes = new Hono<AppEnv>()
  .get('/status', (c) => {
    const history = c.req.query('history') ?? 'both';
    if (!HISTORY_CHOICES.has(history)) throw new GatewayError('BAD_REQUEST', 'history must be hour, day, both or none');
    return hubFetch(c.env, `/status?history=${history}`);
  })
  .delete('/status/sessions/:id', (c) => {
    const id = c.req.param('id');
    if (!SESSION_ID.test(id)) throw new GatewayError('BAD_REQUEST', 'not a session id');
    return hubFetch(c.env, '/status/end-session', { method: 'POST', headers: { 'x-session': id } });
  })
  // Behind credentials: a browser asks for a username and password here, then goes to the page.
  .get('/status/login', (c) => c.redirect('/status/page', 303));

/** Mounted before client authentication: the page holds no data. */
export const statusPageRoute = new Hono<AppEnv>().get('/status/page', (c) =>
  c.html(STATUS_PAGE, 200, { 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' }),
);
