import { Hono } from 'hono';
import { GatewayError } from '../../shared/errors.ts';
import { hostClaimOf, parseHostTokens, type HostToken } from '../../shared/auth.ts';
import { edgeLog } from '../log.ts';
import { credentialId, secretsEqual } from '../../shared/secure.ts';
import type { AppEnv } from '../app.ts';
import { hubStub } from '../hub/stub.ts';
import { bearerToken } from '../middleware/auth.ts';

/** Host agents dial in here with a host token; the Hub holds the WebSocket. */
export const agentRoute = new Hono<AppEnv>().get('/agent', async (c) => {
  let hostTokens: HostToken[];
  try {
    hostTokens = parseHostTokens(c.env.HOST_TOKENS);
  } catch {
    // Fail closed, and never log the value (it holds the tokens).
    edgeLog('error', 'hosts are refused: HOST_TOKENS is malformed (a JSON list of {token, servers?, hosts?}, or comma-separated tokens)');
    throw new GatewayError('MISCONFIGURED', 'the edge cannot check host tokens: its log says why');
  }
  const token = bearerToken(c.req.header('authorization')) ?? '';
  const matches = await Promise.all(hostTokens.map((t) => secretsEqual(token, t.token)));
  const granted = hostTokens[matches.indexOf(true)];
  if (!token || !granted) {
    return c.json(new GatewayError('UNAUTHORIZED', 'a valid host token is required on /agent').toJSON(), 401, {
      'www-authenticate': 'Bearer realm="mcp-gateway-hosts"',
    });
  }
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new GatewayError('BAD_REQUEST', '/agent expects a WebSocket upgrade');
  }
  // The Hub learns which servers and host id this token may use, and a hash of it; the token itself goes no further.
  const headers = new Headers({ upgrade: 'websocket' });
  if (granted.servers) headers.set('x-allowed-servers', JSON.stringify(granted.servers));
  headers.set('x-host-claim', hostClaimOf(granted, hostTokens, c.req.query('host') ?? ''));
  headers.set('x-token-id', await credentialId('host-token', granted.token));
  return hubStub(c.env).fetch(new Request(c.req.url, { headers }));
});
