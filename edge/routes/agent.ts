import { Hono } from 'hono';
import { GatewayError, unauthorized } from '../../shared/errors.ts';
import { hostClaimOf, parseHostTokens, type HostToken } from '../../shared/auth.ts';
import { NAME_PATTERN } from '../../shared/constants.ts';
import { credentialId, secretsEqual } from '../../shared/secure.ts';
import { edgeLog } from '../log.ts';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import { hubStub } from '../hub/stub.ts';
import { bearerToken } from '../middleware/auth.ts';

/** Host agents dial in here with a host token; the Hub holds the WebSocket. */
export const agentRoute = new Hono<AppEnv>().get('/agent', errorsAs('rest'), async (c) => {
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
  if (!token || !granted) throw unauthorized('a valid host token is required on /agent', 'Bearer realm="mcp-gateway-hosts"');
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new GatewayError('BAD_REQUEST', '/agent expects a WebSocket upgrade');
  }
  const hostId = c.req.query('host') ?? '';
  if (!NAME_PATTERN.test(hostId)) throw new GatewayError('BAD_REQUEST', 'host id must be 1 to 64 letters, digits, "_" or "-"');
  // A WebSocket cannot cross RPC, so this one call is a fetch. The Hub learns the host's id, which
  // servers and host ids its token may use, and a hash of it; the token itself goes no further.
  const url = new URL('https://hub/agent');
  url.searchParams.set('host', hostId);
  if (granted.servers) url.searchParams.set('servers', granted.servers.join(','));
  url.searchParams.set('claim', hostClaimOf(granted, hostTokens, hostId));
  url.searchParams.set('token', await credentialId('host-token', granted.token));
  if (granted.shareServers) url.searchParams.set('share', '1');
  return hubStub(c.env).fetch(new Request(url, { headers: { upgrade: 'websocket' } }));
});
